"""Retention of closed orders' personal data (issue 17 §6) on both engines: an order with a
customer's name, phone, e-mail and address, a signer, notes, a claim and a complaint is
projected as the workflows project it; redaction is refused while its claim is open; after
closing and the retention run no column of any table holds those texts, the audit chain still
verifies and ends with the redaction event, readers show "[redacted]"; an edited side value is
named by verify; an order not yet past the period is untouched."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from db.audit import verify as v
from db.audit.models import AuditLink
from db.audit.queries import verify
from db.claims.queries import timeline as claim_timeline
from db.orders.queries import add_timeline_entries, timeline
from db.orders.story import story
from db.personal import retention
from db.personal.fields import REDACTED
from db.personal.models import PersonalValue
from db.personal.redact import CASE_OPEN, EVENT_TYPE
from tests.support import personal_data as pd

KEYS = {"k1": b"k" * 32}


@pytest.fixture
def closed(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """SO-OLD closed 390 days before NOW with an open claim and a closed complaint; SO-NEW
    closed 30 days before NOW."""
    with sessions.begin() as session:
        pd.order(session, "SO-OLD", pd.NOW - timedelta(days=390))
        pd.claim(session, "SO-OLD", None)
        pd.complaint(session, "SO-OLD", pd.NOW - timedelta(days=389))
        pd.order(session, "SO-NEW", pd.NOW - timedelta(days=30))
    return sessions


def _every_text(session: Session) -> str:
    """Every text and JSON value of every row of every table, as one text."""
    out: list[str] = []
    for table in inspect(session.get_bind()).get_table_names():
        if table == "alembic_version":
            continue
        for row in session.execute(text(f'SELECT * FROM "{table}"')).mappings():
            out += [_plain(v) for v in row.values()]
    return "\n".join(out)


def _plain(value: Any) -> str:
    """A column's value as text, JSON unescaped (SQLite hands JSON back as escaped text)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _close_claim(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        pd.claim(session, "SO-OLD", pd.NOW - timedelta(days=380))


def test_personal_values_never_enter_a_chained_row(closed: sessionmaker[Session]) -> None:
    with closed() as session:
        chained = "\n".join(
            json.dumps(list(r), ensure_ascii=False, default=str) for t in (
                "order_events", "claim_events", "complaint_events")
            for r in session.execute(text(f"SELECT * FROM {t}")))
        for secret in (pd.SIGNER, pd.NOTE, pd.DESCRIPTION):
            assert secret not in chained
        # ...but every reader sees them
        shown = {e.event_id: e.data for e in timeline(session, "SO-OLD")}
        assert shown["e-note"]["text"] == pd.NOTE and shown["e-delivered"]["signer"] == pd.SIGNER
        assert claim_timeline(session, "SO-OLD-CL1")[0].data["description"] == pd.DESCRIPTION
        assert verify(session, "SO-OLD", KEYS).ok


def test_retention_redacts_a_closed_order_and_its_cases_and_the_chain_still_verifies(
        closed: sessionmaker[Session]) -> None:
    # The claim is open: neither the run nor an erasure request touches the order.
    report = retention.run(closed, pd.DAYS, pd.NOW)
    assert report.orders == [] and report.values == 0
    with closed.begin() as session, pytest.raises(retention.NotRedactable) as refused:
        retention.erase(session, "SO-OLD", pd.NOW, "admin-key", "api")
    assert refused.value.code == CASE_OPEN
    one = retention.run(closed, pd.DAYS, pd.NOW, order_id="SO-OLD")
    assert one.skipped == {"SO-OLD": CASE_OPEN}

    _close_claim(closed)
    dry = retention.run(closed, pd.DAYS, pd.NOW, dry_run=True)
    assert dry.orders == ["SO-OLD"] and dry.values == 0
    with closed() as session:
        assert pd.NAME in _every_text(session)

    report = retention.run(closed, pd.DAYS, pd.NOW)
    assert report.orders == ["SO-OLD"] and report.values > 10 and report.inline_kept == 0
    assert retention.run(closed, pd.DAYS, pd.NOW).orders == []  # idempotent

    with closed() as session:
        everything = _every_text(session)
        assert session.scalar(select(PersonalValue.value).where(
            PersonalValue.chain == "SO-OLD", PersonalValue.value.is_not(None))) is None
        verdict = verify(session, "SO-OLD", KEYS)
        assert verdict.ok, verdict.first_broken
        last = session.scalars(select(AuditLink).where(AuditLink.order_id == "SO-OLD")
                               .order_by(AuditLink.seq.desc())).first()
        assert last is not None and '"personal-data-redacted"' in last.row_key
        items = story(session, "SO-OLD").items
        assert items[-1].type == EVENT_TYPE and items[-1].data["retention_days"] == pd.DAYS
        shown = {i.event_id: i.data for i in items}
        assert shown["e-note"]["text"] == REDACTED
        assert shown["e-delivered"]["signer"] == REDACTED
        assert shown["SO-OLD-CL1#opened"]["description"] == REDACTED
        new_order = {e.event_id: e.data for e in timeline(session, "SO-NEW")}
        assert new_order["e-note"]["text"] == pd.NOTE  # not past the period: untouched
    assert pd.EMAIL in everything  # SO-NEW's, kept (the next test redacts both)


def test_no_text_of_a_redacted_order_remains_anywhere(closed: sessionmaker[Session]) -> None:
    _close_claim(closed)
    retention.run(closed, pd.DAYS, pd.NOW + timedelta(days=340))  # SO-NEW is past the period too
    with closed() as session:
        everything = _every_text(session)
        for secret in pd.SECRETS:
            assert secret not in everything, secret
        for order_id in ("SO-OLD", "SO-NEW"):
            assert verify(session, order_id, KEYS).ok


def test_an_edited_side_value_is_named_by_verify(closed: sessionmaker[Session]) -> None:
    with closed.begin() as session:
        session.execute(text("UPDATE personal_values SET value = :v WHERE chain = 'SO-NEW' "
                             "AND path = 'data.text'"), {"v": json.dumps("edited")})
    with closed() as session:
        broken = verify(session, "SO-NEW", KEYS).first_broken
        assert broken is not None and broken.problem == v.PERSONAL_VALUE_EDITED
        assert broken.table == "order_events" and "e-note" in (broken.key or "")
    with closed.begin() as session:
        session.execute(text("DELETE FROM personal_values WHERE chain = 'SO-NEW'"))
    with closed() as session:
        broken = verify(session, "SO-NEW", KEYS).first_broken
        assert broken is not None and broken.problem == v.PERSONAL_VALUE_DELETED


def test_a_retried_insert_keeps_the_first_placeholder_and_value(
        closed: sessionmaker[Session]) -> None:
    retry = pd.entry("e-note", "note", pd.T0 + timedelta(days=1), {"text": pd.NOTE})
    with closed() as session:
        before = session.execute(select(PersonalValue.id, PersonalValue.salt)
                                 .where(PersonalValue.chain == "SO-NEW")).all()
    with closed.begin() as session:
        add_timeline_entries(session, "SO-NEW", [replace(retry)])
    with closed() as session:
        after = session.execute(select(PersonalValue.id, PersonalValue.salt)
                                .where(PersonalValue.chain == "SO-NEW")).all()
        assert sorted(before) == sorted(after)
        assert verify(session, "SO-NEW", KEYS).ok


def test_a_complaint_with_no_order_is_redacted_in_its_own_chain(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        pd.complaint(session, None, pd.NOW - timedelta(days=366), complaint_id="CP-LONE")
    report = retention.run(sessions, pd.DAYS, pd.NOW)
    assert report.complaints == ["CP-LONE"] and report.values > 0
    with sessions() as session:
        everything = _every_text(session)
        for secret in (pd.NAME, pd.EMAIL, pd.DESCRIPTION):
            assert secret not in everything, secret
        verdict = verify(session, "complaint:CP-LONE", KEYS)
        assert verdict.ok and verdict.links_checked == 2, verdict.first_broken
    assert retention.run(sessions, pd.DAYS, pd.NOW).complaints == []


def test_a_note_added_after_the_redaction_goes_once_it_is_as_old_as_the_period(
        closed: sessionmaker[Session]) -> None:
    _close_claim(closed)
    retention.run(closed, pd.DAYS, pd.NOW)
    late = pd.entry("late-note", "note", pd.NOW, {"text": "王小明又来电"})
    with closed.begin() as session:
        add_timeline_entries(session, "SO-OLD", [late])
    assert retention.run(closed, pd.DAYS, pd.NOW + timedelta(days=1)).late_values == 0
    with closed() as session:
        shown = {e.event_id: e.data for e in timeline(session, "SO-OLD")}
        assert shown["late-note"]["text"] == "王小明又来电"
    later = retention.run(closed, pd.DAYS, datetime.now(UTC) + timedelta(days=pd.DAYS + 1))
    assert later.late_values == 1
    with closed() as session:
        shown = {e.event_id: e.data for e in timeline(session, "SO-OLD")}
        assert shown["late-note"]["text"] == REDACTED
        assert verify(session, "SO-OLD", KEYS).ok
