"""deploy/'s dashboard and alert rules use only metrics Waybill or the Temporal SDK exports.

A renamed metric would otherwise leave a panel empty and an alert silent, with nothing
failing. The names Waybill declares are checked against what its collectors really produce;
the SDK names (observability/serving.py SDK_METRICS) against the running processes in
test_metrics_endpoints.py.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

from observability import metrics
from observability.database import GAUGED, Snapshot, _families
from observability.serving import SDK_METRICS

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")
# Words of PromQL that are not metric names (functions are told apart by their "(").
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
            "or", "unless", "offset", "inf", "nan"}
PROMETHEUS_OWN = {"up"}  # written by Prometheus itself for every target


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads: label matchers, grouping labels, strings and
    ranges removed, then every identifier not called as a function."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    found = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        name, rest = match.group(), expr[match.end():].lstrip()
        if rest.startswith("(") or name.lower() in KEYWORDS:
            continue
        found.add(name)
    return found


def test_the_parser_finds_the_metrics_and_nothing_else() -> None:
    assert metric_names(
        'histogram_quantile(0.95, sum by (le, task_queue) (rate(x_bucket{a="b(c)"}[5m]))) > 1 '
        "and on (job) max without (instance) (y_total) / z") == {"x_bucket", "y_total", "z"}


def exported() -> set[str]:
    """Every series name Waybill declares, with a histogram's series, and the SDK's."""
    names = set(metrics.COUNTED) | set(GAUGED) | set(SDK_METRICS) | PROMETHEUS_OWN
    return names | {name + suffix for name in names for suffix in HISTOGRAM_SERIES}


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "waybill.json").read_text())
    return [target["expr"] for panel in dashboard["panels"]
            for target in panel.get("targets", [])]


def rule_exprs() -> list[str]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def test_dashboard_and_rules_use_only_exported_metrics() -> None:
    exprs = dashboard_exprs() + rule_exprs()
    assert len(exprs) > 20
    unknown = {name: expr for expr in exprs for name in metric_names(expr)
               if name not in exported()}
    assert unknown == {}


def test_the_rules_the_issue_asks_for_are_there() -> None:
    used = {name for expr in rule_exprs() for name in metric_names(expr)}
    assert {"waybill_breaches_total", "waybill_outbox_overdue_seconds",
            "waybill_delivery_attempts_total", "waybill_db_pool_timeouts_total",
            "temporal_workflow_task_schedule_to_start_latency_bucket"} <= used


def test_the_declared_names_are_what_the_collectors_produce() -> None:
    counted = set()
    for family in REGISTRY.collect():
        if family.name.startswith("waybill_"):
            counted.add(family.name + "_total" if family.type == "counter" else family.name)
    assert counted == set(metrics.COUNTED)

    from db.metrics.queries import EscalationCount, OutboxCount
    now = datetime.now(UTC)
    snap = Snapshot({"received": 1}, [EscalationCount("confirm", 1, "open", 1)],
                    [OutboxCount("webhook", "pending", 1, now)], {"webhook": now}, now)
    gauged = {(f.name + "_total" if f.type == "counter" else f.name) for f in _families(snap)}
    pool = {"waybill_db_pool_size", "waybill_db_pool_checked_out", "waybill_db_pool_overflow"}
    assert gauged | pool | {"waybill_metrics_database_up"} == set(GAUGED)
