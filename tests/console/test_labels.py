"""Every code an order page or a customer notice shows has words in both languages: a new event
type, stage, breach kind, claim cause or complaint category without them would show its bare
code (console/i18n.py `Viewer.code` falls back to it)."""

from __future__ import annotations

import re
import string
from enum import StrEnum
from typing import get_args

import pytest

from activities.claim.projection import CAUSE_TEXT
from api.claims.schemas import ContactData
from api.complaints.schemas import FirstReplyData
from api.i18n import LOCALES
from api.orders.events import DeliveredData, DeliveryExceptionData, Pod
from config import DEFAULT_POLICY_FILE, REPO_ROOT
from console.i18n import CONSOLE_TEMPLATE_DIR, Viewer, catalogue
from policies import DEFAULT_LADDER, load_policies
from workflows.claim.types import ClaimCause, ClaimStep
from workflows.complaint.types import ComplaintCategory, ComplaintStep, Department
from workflows.order.types import (
    BreachKind,
    EventType,
    FollowUpStatus,
    Stage,
    SystemEventType,
    Tier,
)

HAN = re.compile(r"[\u4e00-\u9fff]")


def _literal(model: type, field: str) -> tuple[str, ...]:
    return get_args(model.model_fields[field].annotation)  # type: ignore[attr-defined]


def _optional_literal(model: type, field: str) -> tuple[str, ...]:
    return tuple(v for arg in _literal(model, field) for v in get_args(arg))


# The policies Waybill ships (the seed and the demo's): each needs a display name.
SHIPPED_POLICIES = {**load_policies(DEFAULT_POLICY_FILE),
                    **load_policies(REPO_ROOT / "policies" / "demo.yaml")}


def _ladder_teams() -> list[str]:
    """Every team a shipped ladder notifies."""
    ladders = [level["recipients"] for level in DEFAULT_LADDER["levels"]]
    ladders += [level.recipients for p in SHIPPED_POLICIES.values() if p.escalation
                for level in p.escalation.levels]
    return sorted({r for names in ladders for r in names})


# catalogue group -> the codes it must name (console/i18n.py looks up "<group>.<code>")
LABELLED: dict[str, tuple[str, ...]] = {
    "event": (*EventType, *SystemEventType),
    "stage": tuple(Stage),
    "deadline": tuple(BreachKind),  # the breach kinds, also escalations' kinds
    "order.claim_cause": tuple(ClaimCause),
    "order.complaint_category": tuple(ComplaintCategory),
    "order.claim_step": tuple(ClaimStep),
    "order.complaint_step": tuple(ComplaintStep),
    "order.fu_status": tuple(FollowUpStatus),
    "tier": tuple(Tier),
    "order.exception_reason": _literal(DeliveryExceptionData, "reason"),
    "order.condition": _literal(DeliveredData, "condition"),
    "order.pod_kind": _literal(Pod, "kind"),
    "policy": tuple(SHIPPED_POLICIES),
    "contact": tuple(sorted(_literal(ContactData, "channel") + _optional_literal(
        FirstReplyData, "channel"))),
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("group", sorted(LABELLED))
def test_every_code_has_a_label(locale: str, group: str) -> None:
    words = catalogue(locale)
    codes = [str(code.value if isinstance(code, StrEnum) else code) for code in LABELLED[group]]
    missing = [code for code in codes if not words.get(f"{group}.{code}", "").strip()]
    assert missing == [], f"{locale}: no words for {group}.{missing}"
    if locale == "zh-CN":  # an English word copied into the Chinese catalogue is no label
        untranslated = [c for c in codes if not HAN.search(words[f"{group}.{c}"])]
        assert untranslated == [], f"zh-CN words for {group}.{untranslated} are not Chinese"


def test_a_claim_notice_names_every_cause_in_both_languages() -> None:
    assert set(CAUSE_TEXT) == set(LOCALES)
    for locale, words in CAUSE_TEXT.items():
        assert sorted(words) == sorted(ClaimCause), locale


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_is_in_both_catalogues_with_the_same_placeholders() -> None:
    """A key only one language has shows its other readers the key itself; a placeholder only
    one language names is a sentence that fails (or leaves a fact out) in the other."""
    en, zh = catalogue("en"), catalogue("zh-CN")
    assert sorted(set(en) ^ set(zh)) == []
    differ = [k for k in en if _placeholders(en[k]) != _placeholders(zh[k])]
    assert differ == [], differ
    assert [k for k, text in {**en, **zh}.items() if not text.strip()] == []


def test_one_term_per_concept_in_chinese() -> None:
    """Claims are 理赔 everywhere (console and customer notices), never 索赔 as well."""
    notices = CONSOLE_TEMPLATE_DIR.parent / "notifications" / "zh-CN"
    texts = {**{f"console:{k}": v for k, v in catalogue("zh-CN").items()},
             **{f"notice:{p.name}": p.read_text(encoding="utf-8") for p in notices.iterdir()}}
    assert [where for where, text in texts.items() if "索赔" in text] == []


def test_a_policy_reads_as_its_title_else_its_catalogue_name() -> None:
    zh, en = Viewer("zh-CN", "UTC"), Viewer("en", "UTC")
    assert zh.policy("standard") == "标准" and en.policy("standard") == "Standard"
    assert zh.policy("vip", {"zh-CN": "贵宾", "en": "VIP"}) == "贵宾"
    assert zh.policy("vip", {"en": "VIP"}) == "VIP"  # a title in another language beats a code
    assert en.policy("vip", "Very important") == "Very important"
    assert en.policy("vip") == "vip"  # an admin's new policy without a title: as named


@pytest.mark.parametrize("locale", LOCALES)
def test_every_team_reads_as_words(locale: str) -> None:
    viewer = Viewer(locale, "UTC")
    teams = [*_ladder_teams(), *Department]  # a complaint's department is a team too
    raw = [team for team in teams if viewer.team(team) == team]
    assert raw == [], f"{locale}: no words for the teams {raw}"
    if locale == "zh-CN":
        assert [t for t in teams if not HAN.search(viewer.team(t))] == []


def test_teams_and_waybill_itself_read_as_words() -> None:
    zh = Viewer("zh-CN", "UTC")
    assert zh.teams(["ops_desk", "supervisor"]) == "运营值班台、主管"
    assert zh.teams([]) == "-" and zh.team("desk-li") == "desk-li"  # a person as named
    assert zh.actor("waybill") == zh.actor("system") == "系统"
    assert zh.actor("web-admin") == "web-admin"


def test_an_escalation_waybill_cleared_says_so_in_words() -> None:
    """The workflows write "condition cleared by <event or step>" (kept in histories); the
    console words it, and leaves what a person wrote alone."""
    zh, en = Viewer("zh-CN", "UTC"), Viewer("en", "UTC")
    said = zh.resolution("condition cleared by cancelled")
    assert "cancelled" not in said and catalogue("zh-CN")["event.cancelled"] in said
    assert catalogue("zh-CN")["order.claim_step.customer_contacted"] in zh.resolution(
        "condition cleared by customer_contacted")
    assert en.resolution("客户已同意改期") == "客户已同意改期" and en.resolution(None) == "-"
