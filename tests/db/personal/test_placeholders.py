"""The pure rules of personal data (issue 17 §6): which values of a chained row are split out
per the inventory, the placeholder's salted hash, revealing, overwriting mutable copies, and
verification's check of a side value. Fast: no database."""

from __future__ import annotations

from datetime import UTC, datetime

from db.audit import canonical
from db.audit import verify as v
from db.personal import placeholders as ph
from db.personal.fields import REDACTED
from db.personal.overwrite import redact_columns

AT = datetime(2026, 12, 5, 7, tzinfo=UTC)


def _event(type_: str, data: dict[str, object], event_id: str = "e1") -> dict[str, object]:
    return {"order_id": "SO-1", "event_id": event_id, "type": type_, "occurred_at": AT,
            "recorded_at": AT, "actor": "desk", "source": "api", "data": data,
            "body_hash": None}


def test_split_takes_out_the_inventorys_values_and_leaves_business_facts() -> None:
    delivered = _event("delivered", {"signer": "韩梅梅", "condition": "good",
                                     "pod": {"kind": "photo", "ref": "p-1"}})
    scan = _event("tracking_scan", {"location": "Shanghai hub", "status": "arrived"}, "e2")
    original = dict(delivered)
    rows, taken = ph.split("SO-1", "order_events", [delivered, scan])
    assert delivered == original  # the caller's row is left as it was
    assert rows[1] is scan  # nothing personal: the same row
    signer = rows[0]["data"]["signer"]  # type: ignore[index]
    parsed = ph.parse(signer)
    assert parsed is not None and rows[0]["data"]["condition"] == "good"  # type: ignore[index]
    (value,) = taken
    key = canonical.row_key("order_events", delivered)
    assert (value.id, value.path, value.value, value.chain) == (
        ph.value_id("order_events", key, "data.signer"), "data.signer", "韩梅梅", "SO-1")
    assert parsed == (value.id, ph.value_hash(value.salt, "韩梅梅"))
    # the chained row's content names no personal value
    assert "韩梅梅" not in canonical.content("order_events", rows[0])


def test_the_same_row_split_twice_names_the_same_value_with_another_salt() -> None:
    row = _event("note", {"text": "客户来电"})
    (_, first), (_, second) = ph.split("SO-1", "order_events", [row]), \
        ph.split("SO-1", "order_events", [row])
    assert first[0].id == second[0].id and first[0].salt != second[0].salt
    # an already split row (a retry of stored content) is left as it is
    split_rows, _ = ph.split("SO-1", "order_events", [row])
    again, taken = ph.split("SO-1", "order_events", split_rows)
    assert again == split_rows and taken == []


def test_escalation_comments_and_resolution_texts_are_split_whatever_the_step() -> None:
    step = {"escalation_id": "E1", "seq": 3, "at": AT, "action": "resolved", "level": 2,
            "actor": "sup", "comment": "我来处理", "detail": {"code": "fixed", "text": "已解决"}}
    rows, taken = ph.split("SO-1", "escalation_events", [step])
    assert {t.path for t in taken} == {"comment", "detail.text"}
    assert rows[0]["detail"]["code"] == "fixed"  # type: ignore[index]
    assert ph.parse(rows[0]["comment"]) is not None


def test_reveal_shows_kept_values_and_the_marker_for_redacted_ones() -> None:
    rows, taken = ph.split("SO-1", "order_events", [
        _event("survey_response", {"scores": {"overall": 2}, "suggestions": "快一点",
                                   "comment": "司机很凶"})])
    kept = {t.id: t.value for t in taken if t.path == "data.comment"}
    shown = ph.revealed("order_events", rows[0], kept, REDACTED)
    assert shown == {"data": {"scores": {"overall": 2}, "suggestions": REDACTED,
                              "comment": "司机很凶"}}
    assert ph.revealed("order_events", _event("note", {"text": "inline"}), {}, REDACTED) is None
    assert ph.inline_count("order_events", _event("note", {"text": "inline"})) == 1
    assert ph.inline_count("order_events", rows[0]) == 0


def test_overwriting_mutable_copies_reaches_into_lists_and_counts_once() -> None:
    state = {"customer": {"id": "C-1", "name": "王小明", "tier": "standard"},
             "decisions": [{"decision": "partial", "decided_by": "王小明"},
                           {"decision": "cancel", "decided_by": None}],
             "delivery": None}
    paths = ("state.customer.name", "state.customer.phone", "state.decisions[].decided_by",
             "state.delivery.signer", "other.missing")
    changed, count = redact_columns({"state": state}, paths)
    assert count == 2 and state["customer"]["name"] == "王小明"  # type: ignore[index]
    assert changed["state"]["customer"] == {"id": "C-1", "name": REDACTED, "tier": "standard"}
    assert [d["decided_by"] for d in changed["state"]["decisions"]] == [REDACTED, None]
    assert redact_columns(changed, paths) == ({}, 0)  # redacting twice changes nothing


def test_verify_names_an_edited_or_deleted_side_value_and_accepts_a_redacted_one() -> None:
    salt = "ab" * 16
    digest = ph.value_hash(salt, "王小明")
    named = [("order_events", '["SO-1","e1"]', "data.text", "v1", digest)]
    assert v.personal_problems(named, {"v1": v.SideState("王小明", salt, False)}) == []
    assert v.personal_problems(named, {"v1": v.SideState(None, None, True)}) == []
    (edited,) = v.personal_problems(named, {"v1": v.SideState("王大明", salt, False)})
    assert edited.problem == v.PERSONAL_VALUE_EDITED
    assert edited.key == '["SO-1","e1"]' and "data.text" in edited.message
    both = [*named, ("order_events", '["SO-1","e2"]', "data.text", "v2", digest)]
    assert [b.problem for b in v.personal_problems(both, {})] == [v.PERSONAL_VALUE_DELETED] * 2
