"""Customer notices by e-mail and SMS on the real stack (issue 19 §3): the API, the Temporal dev
server and a worker, a local SMTP server and a local server implementing Aliyun's SendSms
(tests/support/aliyun_sms_server.py).

An order's notices reach the customer on both channels, in the customer's language, with the
tracking and opt-out links; the opt-out page stops them (the next notices are recorded
`skipped` with the reason); a provider failure is retried under the same OutId; an SMS written
in the quiet hours waits for their end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from db.engine import make_engine, session_factory, transaction
from db.notifications.models import OutboxRow
from tests.support.aliyun_sms_server import AliyunSmsServer, aliyun_sms_server
from tests.support.api_harness import Api, StackFactory, order_body
from tests.support.builders import FULL_PICK, SHIP
from tests.support.notify_harness import Mailbox, smtp_server
from tests.support.polling import eventually

PUBLIC = "https://wb.cn"
CODES = {"order.confirmed:en": "SMS_EN_CONFIRMED", "order.confirmed:zh-CN": "SMS_ZH_CONFIRMED",
         "order.shipped": "SMS_SHIPPED", "order.in_transit": "SMS_IN_TRANSIT"}


def stack_settings(server: AliyunSmsServer, smtp_port: int, **extra: Any) -> dict[str, Any]:
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_tls": "none",
            "sms_base_url": server.url, "sms_access_key_id": server.key_id,
            "sms_access_key_secret": server.secret, "sms_template_codes": CODES,
            "public_base_url": PUBLIC, "notice_quiet_hours": "", **extra}


async def new_order(api: Api, customer_id: str, language: str, phone: str) -> str:
    body = order_body(deliver_in_h=96)
    body["customer"].update(id=customer_id, language=language, phone=phone,
                            email=f"{customer_id.lower()}@example.com")
    assert (await api.create(body)).status_code == 201
    return str(body["order_id"])


def outbox(db_url: str, order_id: str) -> list[OutboxRow]:
    engine = make_engine(db_url)
    with transaction(session_factory(engine)) as session:
        found = list(session.scalars(select(OutboxRow).where(OutboxRow.order_id == order_id)))
        session.expunge_all()
    engine.dispose()
    return found


def mails_for(mailbox: Mailbox, order_id: str) -> list[Any]:
    return [m for m in mailbox.messages if order_id in m["Subject"]]


@pytest.mark.one_engine
async def test_notices_reach_email_and_sms_in_the_customers_language_until_opted_out(
        make_stack: StackFactory, db_url: str) -> None:
    with aliyun_sms_server(script=["error"]) as server, smtp_server() as (mailbox, port):
        async with make_stack(db_url, **stack_settings(server, port)) as api:
            en = await new_order(api, "C-EN", "en", "+86 138 0013 8000")
            zh = await new_order(api, "C-ZH", "zh-CN", "13900139000")
            for order_id in (en, zh):
                assert (await api.event(order_id, "confirmed")).status_code == 200

            async def both_arrived() -> bool:
                return len(server.accepted) == 2 and all(
                    mails_for(mailbox, o) for o in (en, zh))

            await eventually(both_arrived, timeout=60)

            # The provider's first answer was a 500: that message was sent again, same OutId.
            first = server.requests[0]
            assert first.code == "InternalError"
            assert first.out_id in [s.out_id for s in server.accepted]
            assert server.refused == []  # every request signed as documented

            sms = {s.phone: s for s in server.accepted}
            assert sms["13800138000"].template_code == "SMS_EN_CONFIRMED"
            assert sms["13900139000"].template_code == "SMS_ZH_CONFIRMED"
            en_sms = sms["13800138000"].params
            assert en_sms["tracking_url"].startswith(f"{PUBLIC}/t/")
            assert en_sms["opt_out_url"].startswith(f"{PUBLIC}/u/")

            (en_mail,) = mails_for(mailbox, en)
            (zh_mail,) = mails_for(mailbox, zh)
            assert en_mail["Content-Language"] == "en" and zh_mail["Content-Language"] == "zh-CN"
            assert en_mail["To"] == "c-en@example.com"
            assert "Track your order" in en_mail.get_content()
            assert "查看订单" in zh_mail.get_content()
            assert en_sms["tracking_url"] in en_mail.get_content()
            assert en_sms["opt_out_url"] in en_mail.get_content()

            rows = {r.channel: r for r in outbox(db_url, en)}
            assert rows["sms"].status == rows["email"].status == "delivered"
            assert rows["sms"].body.startswith("Order confirmed")
            retried = [r for o in (en, zh) for r in outbox(db_url, o) if r.id == first.out_id]
            assert [(r.channel, r.status, r.attempts) for r in retried] == [
                ("sms", "delivered", 2)]

            # The customer opens the link in the SMS and stops everything.
            path = urlsplit(en_sms["opt_out_url"]).path
            page = await api.http.get(path)
            assert page.status_code == 200 and 'lang="en"' in page.text
            assert page.headers["Cache-Control"] == "no-store"
            zh_page = await api.http.get(path, params={"lang": "zh-CN"})
            assert "停止所有通知" in zh_page.text
            stopped = await api.http.post(path, data={"action": "stop_all"})
            assert stopped.status_code == 200 and "no more messages" in stopped.text
            chosen = await api.get("/v1/customers/C-EN/notice-preferences")
            assert chosen.json()["choice"] == "none"
            assert chosen.json()["updated_by"] == "customer"
            assert (await api.http.get("/u/not-a-token")).status_code == 404

            accepted_before = len(server.accepted)
            for type_, data in (("picked", FULL_PICK), ("shipped", SHIP)):
                assert (await api.event(en, type_, data)).status_code == 200

            async def shipped_recorded() -> list[OutboxRow]:
                return [r for r in outbox(db_url, en) if r.event_type == "order.shipped"]

            shipped = await eventually(shipped_recorded, timeout=30)
            assert {(r.channel, r.status, r.last_error) for r in shipped} == {
                ("email", "skipped", "customer opted out of email"),
                ("sms", "skipped", "customer opted out of sms")}
            assert len(server.accepted) == accepted_before
            assert len(mails_for(mailbox, en)) == 1

            # Staff turn SMS back on when the customer asks by phone.
            again = await api.http.put("/v1/customers/C-EN/notice-preferences",
                                       headers=api.auth("operator"),
                                       json={"email": False, "sms": True})
            assert again.status_code == 200 and again.json()["choice"] == "sms"
            assert (await api.event(en, "tracking_scan",
                                    {"location": "Hangzhou", "status": "in_transit"})
                    ).status_code == 200

            async def in_transit_texted() -> bool:
                return any(s.template_code == "SMS_IN_TRANSIT" for s in server.accepted)

            await eventually(in_transit_texted, timeout=30)
            assert len(mails_for(mailbox, en)) == 1


@pytest.mark.one_engine
async def test_an_sms_in_quiet_hours_goes_when_they_end(make_stack: StackFactory,
                                                        db_url: str) -> None:
    now = datetime.now(UTC).astimezone(UTC)
    end = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if (end - now).total_seconds() < 15:  # leave the e-mail time to go first
        end += timedelta(minutes=1)
    quiet = f"{(now - timedelta(hours=1)).strftime('%H:%M')}-{end.strftime('%H:%M')}"
    with aliyun_sms_server() as server, smtp_server() as (mailbox, port):
        settings = stack_settings(server, port, notice_quiet_hours=quiet,
                                  notice_default_timezone="UTC")
        async with make_stack(db_url, **settings) as api:
            order_id = await new_order(api, "C-Q", "en", "13700137000")
            assert (await api.event(order_id, "confirmed")).status_code == 200

            async def mailed() -> bool:
                return bool(mails_for(mailbox, order_id))

            await eventually(mailed, timeout=20)
            assert server.requests == []  # e-mail goes at once, the SMS waits
            (sms_row,) = [r for r in outbox(db_url, order_id) if r.channel == "sms"]
            assert sms_row.next_attempt_at == end

            async def texted() -> bool:
                return bool(server.accepted)

            await eventually(texted, timeout=(end - datetime.now(UTC)).total_seconds() + 30)
            assert datetime.now(UTC) >= end
            (sms_row,) = [r for r in outbox(db_url, order_id) if r.channel == "sms"]
            assert sms_row.status == "delivered" and sms_row.attempts == 1
