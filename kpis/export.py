"""KPI reports as one flat table, written as CSV or XLSX (openpyxl); both endpoints use it.

One row per figure: `scope` says whose figure it is (`total`, `group` with its keys in their
own columns, or `customer`/`tier` in the monthly report), `metric` names the figure,
`dimension` the question, level, cause... it is about, `bucket` a score in a distribution.
The value columns hold what that figure has (a rate: numerator, denominator, rate; a
duration: count, p50, p90, max in seconds). The first rows (scope `period`) give the period.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from openpyxl import Workbook

from kpis.cells import inert

VALUE_COLUMNS = ("numerator", "denominator", "rate", "count", "sum", "mean", "p50", "p90",
                 "max", "currency", "amount_minor")
CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Row = dict[str, Any]


def _row(metric: str, values: dict[str, Any], dimension: Any = None,
         bucket: Any = None) -> Row:
    return {"metric": metric, "dimension": dimension, "bucket": bucket,
            **{k: v for k, v in values.items() if k in VALUE_COLUMNS}}


def _scores(metric: str, scores: dict[str, Any], dimension: Any = None) -> Iterator[Row]:
    yield _row(metric, scores, dimension)
    for bucket, n in scores["distribution"].items():
        yield _row(f"{metric}.distribution", {"count": n}, dimension, bucket)


def _amounts(metric: str, amounts: list[dict[str, Any]], dimension: Any = None
             ) -> Iterator[Row]:
    for amount in amounts:
        yield _row(metric, amount, dimension)


def kpi_rows(figures: dict[str, Any]) -> Iterator[Row]:
    """The rows of one KpiFigures JSON."""
    for name in ("otif", "on_time", "in_full"):
        yield _row(name, figures[name])
    for transition, d in figures["cycle_times"].items():
        yield _row("cycle_time", d, transition)
    yield _row("receipt_return", figures["receipt_return"])
    yield _row("receipt_cycle", figures["receipt_cycle"])
    yield _row("follow_up", figures["follow_up"])
    yield _row("successful_follow_up", figures["successful_follow_up"])
    for question, scores in figures["satisfaction"].items():
        yield from _scores("satisfaction", scores, question)
    esc = figures["escalations"]
    yield _row("escalations.opened", {"count": esc["opened"]})
    for dim in ("by_level", "by_stage", "by_kind"):
        for value, n in esc[dim].items():
            yield _row(f"escalations.{dim}", {"count": n}, value)
    yield _row("escalations.time_to_acknowledge", esc["time_to_acknowledge"])
    yield _row("escalations.time_to_resolve", esc["time_to_resolve"])
    comp = figures["complaints"]
    yield _row("complaints.opened", {"count": comp["opened"]})
    yield _row("complaints.time_to_first_reply", comp["time_to_first_reply"])
    yield _row("complaints.time_to_resolution", comp["time_to_resolution"])
    yield from _scores("complaints.satisfaction", comp["satisfaction"])
    claims = figures["claims"]
    yield _row("claims.opened", {"count": claims["opened"]})
    yield from _amounts("claims.amount", claims["amounts"])
    for dim in ("by_liability", "by_cause"):
        for value, split in claims[dim].items():
            yield _row(f"claims.{dim}", {"count": split["count"]}, value)
            yield from _amounts(f"claims.{dim}.amount", split["amounts"], value)


def follow_up_rows(figures: dict[str, Any]) -> Iterator[Row]:
    """The rows of one FollowUpFigures JSON (回访月报)."""
    for name in ("due", "attempted", "answered"):
        yield _row(name, {"count": figures[name]})
    yield _row("follow_up_rate", figures["follow_up_rate"])
    yield _row("successful_follow_up_rate", figures["successful_follow_up_rate"])
    for outcome, n in figures["outcomes"].items():
        yield _row("outcomes", {"count": n}, outcome)
    yield from _scores("overall_satisfaction", figures["overall_satisfaction"])
    for question, scores in figures["satisfaction"].items():
        yield from _scores("satisfaction", scores, question)
    for name in ("problems", "suggestions"):
        for item in figures[name]:
            yield _row(name, {"count": item["count"]}, item["label"])


def _period_rows(period: dict[str, Any], keys: list[str], extra: dict[str, Any]
                 ) -> Iterator[Row]:
    for name, value in {**extra, **period}.items():
        yield {"scope": "period", **dict.fromkeys(keys), "metric": name, "dimension": value}


def kpi_table(report: dict[str, Any]) -> tuple[list[str], list[Row]]:
    """Columns and rows of a KpiReport's JSON."""
    keys = list(report["group_by"])
    rows = list(_period_rows(report["period"], keys, {}))
    rows += [{"scope": "total", **dict.fromkeys(keys), **r}
             for r in kpi_rows(report["total"])]
    for group in report["groups"]:
        rows += [{"scope": "group", **group["key"], **r} for r in kpi_rows(group["figures"])]
    return ["scope", *keys, "metric", "dimension", "bucket", *VALUE_COLUMNS], rows


def follow_up_table(report: dict[str, Any]) -> tuple[list[str], list[Row]]:
    """Columns and rows of a FollowUpReport's JSON."""
    keys = ["customer", "tier"]
    rows = list(_period_rows(report["period"], keys, {"month": report["month"]}))
    rows += [{"scope": "total", **dict.fromkeys(keys), **r}
             for r in follow_up_rows(report["total"])]
    for scope, groups in (("customer", report["by_customer"]), ("tier", report["by_tier"])):
        for group in groups:
            rows += [{"scope": scope, **dict.fromkeys(keys), scope: group["key"], **r}
                     for r in follow_up_rows(group["figures"])]
    return ["scope", *keys, "metric", "dimension", "bucket", *VALUE_COLUMNS], rows


def to_csv(columns: list[str], rows: list[Row], header: list[str] | None = None) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read Chinese text right. Every
    cell goes through kpis.cells.inert: names, keys and survey text are typed in by people.
    `header`: the columns' names as the reader's language words them (default: the codes)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="raise", lineterminator="\r\n")
    writer.writerow(dict(zip(columns, header or columns, strict=True)))
    writer.writerows({c: "" if r.get(c) is None else inert(r[c]) for c in columns} for r in rows)
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(columns: list[str], rows: list[Row], title: str,
            header: list[str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(header or columns)
    # inert: openpyxl stores text starting with "=" as a formula; quoted, it stays a string.
    for row in rows:
        sheet.append([inert(row.get(c)) for c in columns])
    sheet.freeze_panes = "A2"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
