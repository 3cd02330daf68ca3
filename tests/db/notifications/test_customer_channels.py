"""Customer rows where the outbox is written (db/notifications/outbox.py `enqueue` with
db/notifications/customer_channels.py), on both engines: the customer's channel choice, the
daily SMS cap and quiet hours. Rows not to be sent are written `skipped` with their reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.notifications import preferences
from db.notifications.customer_rules import NoticeRules
from db.notifications.models import Channel, OutboxRow, OutboxStatus
from db.notifications.outbox import Audience, Notice, enqueue

NO_QUIET = NoticeRules(quiet_hours="", sms_daily_cap=3)


def notice(key: str, event_type: str = "order.shipped", order_id: str = "SO-1",
           customer_id: str | None = "C-1", zone: str | None = "Asia/Shanghai") -> Notice:
    return Notice(key=key, event_type=event_type, audience=Audience.CUSTOMER.value,
                  order_id=order_id, locale="en", customer_email="buyer@example.com",
                  customer_id=customer_id, customer_phone="+86 138 0013 8000",
                  customer_zone=zone,
                  data={"tracking_url": "https://wb.cn/t/a", "opt_out_url": "https://wb.cn/u/b"})


def rows(session: Session, channel: Channel) -> list[OutboxRow]:
    return list(session.scalars(select(OutboxRow).where(OutboxRow.channel == channel.value)
                                .order_by(OutboxRow.created_at, OutboxRow.notice_key)))


def test_a_customer_notice_goes_by_email_and_sms_with_links(
        sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        pending = enqueue(session, [notice("SO-1:e1")], NO_QUIET)
        assert len(pending) == 2
        (sms,) = rows(session, Channel.SMS)
        (email,) = rows(session, Channel.EMAIL)
    assert sms.status == email.status == OutboxStatus.PENDING
    assert sms.recipient == "+86 138 0013 8000" and sms.next_attempt_at is None
    assert sms.body == "Order shipped https://wb.cn/t/a Stop: https://wb.cn/u/b\n".strip()
    assert sms.payload["sms"] == {"template_params": {"tracking_url": "https://wb.cn/t/a",
                                                      "opt_out_url": "https://wb.cn/u/b"},
                                  "segments": 1}
    assert "https://wb.cn/t/a" in email.body and "https://wb.cn/u/b" in email.body


def test_over_the_daily_cap_sms_are_skipped_with_the_reason_email_still_goes(
        sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        enqueue(session, [notice("SO-1:e1"), notice("SO-1:e2", "order.in_transit")], NO_QUIET)
    with transaction(sessions) as session:
        enqueue(session, [notice("SO-1:e3", "order.delivered"),
                          notice("SO-1:e4", "order.delay_risk"),
                          notice("SO-2:e1", order_id="SO-2")], NO_QUIET)
        # A retried writer adds nothing, and takes no place under the cap again.
        enqueue(session, [notice("SO-1:e3", "order.delivered")], NO_QUIET)
    with transaction(sessions) as session:
        sms = {r.notice_key: r for r in rows(session, Channel.SMS)}
        emails = rows(session, Channel.EMAIL)
    assert [k for k, r in sms.items() if r.status == OutboxStatus.PENDING] == [
        "SO-1:e1", "SO-1:e2", "SO-1:e3", "SO-2:e1"]
    assert sms["SO-1:e4"].status == OutboxStatus.SKIPPED
    assert sms["SO-1:e4"].last_error == "over the daily sms cap (3 per order and day)"
    assert len(emails) == 5 and {r.status for r in emails} == {OutboxStatus.PENDING}


def test_the_customers_choice_skips_a_channel_with_the_reason(
        sessions: sessionmaker[Session]) -> None:
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        preferences.put(session, "C-1", email=False, sms=True, by="customer", now=now)
        preferences.put(session, "C-2", email=True, sms=False, by="desk-li", now=now)
    with transaction(sessions) as session:
        pending = enqueue(session, [notice("SO-1:e1"),
                                    notice("SO-2:e1", order_id="SO-2", customer_id="C-2")],
                          NO_QUIET)
        assert len(pending) == 2
        by_order = {(r.order_id, r.channel): r for r in session.scalars(select(OutboxRow))}
    assert by_order[("SO-1", "email")].status == OutboxStatus.SKIPPED
    assert by_order[("SO-1", "email")].last_error == "customer opted out of email"
    assert by_order[("SO-1", "sms")].status == OutboxStatus.PENDING
    assert by_order[("SO-2", "sms")].last_error == "customer opted out of sms"
    assert by_order[("SO-2", "email")].status == OutboxStatus.PENDING


def test_in_quiet_hours_an_sms_falls_due_when_they_end_email_at_once(
        sessions: sessionmaker[Session]) -> None:
    now = datetime.now(UTC)
    # Quiet hours around the customer's "now", whatever the time the test runs.
    local = now.astimezone(NoticeRules().zone("Asia/Shanghai"))
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(hours=2)).replace(second=0, microsecond=0)
    rules = NoticeRules(quiet_hours=f"{start}-{end.strftime('%H:%M')}")
    with transaction(sessions) as session:
        enqueue(session, [notice("SO-1:e1")], rules)
        (sms,) = rows(session, Channel.SMS)
        (email,) = rows(session, Channel.EMAIL)
    assert sms.status == OutboxStatus.PENDING and email.next_attempt_at is None
    assert sms.next_attempt_at == end.astimezone(UTC)


def test_notices_without_a_phone_or_an_sms_template_send_no_sms(
        sessions: sessionmaker[Session]) -> None:
    no_phone = notice("SO-1:e1")
    no_phone.customer_phone = None
    with transaction(sessions) as session:
        enqueue(session, [no_phone, notice("SO-1:e2", "order.cancelled")], NO_QUIET)
        assert rows(session, Channel.SMS) == []
        assert len(rows(session, Channel.EMAIL)) == 2


def test_a_customer_who_opted_out_gets_no_claim_e_mail_either(
        sessions: sessionmaker[Session]) -> None:
    from activities.claim.projection import claim_notices
    from workflows.claim.types import (
        ClaimCause,
        ClaimState,
        ClaimStatus,
        ClaimStep,
        ClaimSystemEvent,
        ClaimTimelineEntry,
    )
    from workflows.order.types import Customer, Tier

    now = datetime.now(UTC)
    status = ClaimStatus(claim_id="SO-9-CL1", order_id="SO-9",
                         customer=Customer(id="C-9", name="Li", tier=Tier.STANDARD,
                                           email="li@example.com"),
                         cause=ClaimCause.DAMAGED, origin="delivery", description="",
                         opened_at=now, opened_by="waybill", state=ClaimState.OPEN,
                         step=ClaimStep.OPENED, seq=1)
    opened = ClaimTimelineEntry(seq=1, event_id="c1", type=ClaimSystemEvent.OPENED.value,
                                at=now, occurred_at=now, actor="waybill", source="system",
                                data={})
    with transaction(sessions) as session:
        preferences.put(session, "C-9", email=False, sms=True, by="customer", now=now)
    with transaction(sessions) as session:
        enqueue(session, claim_notices(status, [opened]), NO_QUIET)
        [email] = rows(session, Channel.EMAIL)
    assert email.status == OutboxStatus.SKIPPED
    assert email.last_error == "customer opted out of email"
