"""The case pages' pure rules: amounts typed in major units, a promised time typed in the
viewer's zone, the queue's filters from an address, and a refusal worded for the viewer
(never its code)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError
from starlette.datastructures import QueryParams

from api.errors import ApiError
from console.cases import filters, forms
from console.i18n import Viewer

EN = Viewer(locale="en", zone="Asia/Shanghai")
ZH = Viewer(locale="zh-CN", zone="Asia/Shanghai")


@pytest.mark.parametrize(("typed", "minor"), [("300", 30000), ("300.5", 30050),
                                              ("1,200.25", 120025), (" 0 ", 0)])
def test_an_amount_in_major_units_is_minor_units(typed: str, minor: int) -> None:
    assert forms.money_minor(typed) == minor


@pytest.mark.parametrize("typed", ["", "lots", "1.234", "-5", "NaN", "inf"])
def test_an_amount_that_is_not_one_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        forms.money_minor(typed)


def test_money_reads_in_major_units() -> None:
    assert forms.money(EN, 45050, "CNY") == "450.50 CNY"
    assert forms.money(EN, None, "CNY") == "-"


def test_a_time_typed_in_the_viewers_zone_is_utc() -> None:
    assert forms.local_time(EN, "2026-12-06T18:00") == datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        forms.local_time(EN, "tomorrow")


def test_filters_keep_what_the_list_offers_and_drop_the_rest() -> None:
    chosen = filters.parse(QueryParams("state=open&step=opened&tier=key_account&overdue=1"
                                       "&customer=C-88&assignee=wang"), ["opened", "closed"])
    assert chosen == filters.CaseFilters(state="open", step="opened", overdue=True,
                                         customer="C-88", tier="key_account", assignee="wang")
    assert chosen.query() == ("state=open&step=opened&overdue=1&customer=C-88"
                              "&tier=key_account&assignee=wang")
    odd = filters.parse(QueryParams("state=maybe&step=flying&tier=gold&customer=" + "x" * 65),
                        ["opened"])
    assert odd == filters.CaseFilters() and not odd.any
    # The nav's bare link lists the open cases; "any" state is an empty one.
    assert filters.parse(QueryParams(""), ["opened"]).state == "open"
    assert filters.parse(QueryParams("state="), ["opened"]).state == ""


def test_open_cases_list_the_soonest_due_first_and_others_a_page_at_a_time() -> None:
    asked: list[tuple[int, object, bool]] = []

    def fetch(limit: int, after: object, urgent: bool) -> list[object]:
        asked.append((limit, after, urgent))
        return list(range(limit))

    rows, cursor, capped = filters.page_of(fetch, filters.CaseFilters(state="open"),
                                           QueryParams(""))
    assert asked[-1] == (filters.URGENT_MAX + 1, None, True)
    assert len(rows) == filters.URGENT_MAX and cursor is None and capped


def test_a_refusal_is_a_sentence_in_the_viewers_words() -> None:
    above = ApiError(422, "compensation_above_cap", "above", cap_minor=40000, currency="CNY")
    failed = forms.refused(EN, "claims", "compensation_set", above, {"amount": "500"})
    assert failed.status == 422 and "400.00 CNY" in failed.error
    assert failed.values == {"amount": "500"}
    early = ApiError(409, "invalid_transition", "no", awaiting="evidence_collected")
    assert forms.refused(ZH, "claims", "liability_decided", early, {}).error \
        == "暂不可操作：理赔需先完成“收集证据”。"
    moved = ApiError(409, "invalid_transition", "closed", current_step="closed")
    assert "moved on" in forms.refused(EN, "claims", "note", moved, {}).error
    same = ApiError(409, "invalid_transition", "again", department="transport")
    assert forms.refused(ZH, "complaints", "routed", same, {}).error == "已分派给运输。"
    unknown = ApiError(409, "something_new", "?")
    assert forms.refused(EN, "complaints", "note", unknown, {}).error.startswith(
        "The complaint did not take this")


def test_an_invalid_form_names_its_fields_in_words() -> None:
    class Body(BaseModel):
        amount_minor: int
        voucher: str

    with pytest.raises(ValidationError) as caught:
        Body.model_validate({"amount_minor": "x"})
    labels = {"amount_minor": "claims.field.amount", "voucher": "claims.field.voucher"}
    failed = forms.invalid(ZH, "claims", "payout_issued", caught.value, {}, labels)
    assert failed.status == 422 and failed.error == "请检查以下字段：赔偿金额、赔付凭证。"
