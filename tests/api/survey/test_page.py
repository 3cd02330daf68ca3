"""The customer's follow-up survey through its link, end to end: invitation -> page -> answer.

A real order is driven to "survey due" on a seconds-scale policy; the link is taken from the
invitation in the outbox and opened with a plain HTTP client, as the customer's phone would.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from activities.order.notices import order_notices
from api.survey.i18n import LOCALES, MESSAGE_DIR, SURVEY_TEMPLATE_DIR, catalogue
from config import Settings
from db.engine import make_engine, session_factory, transaction
from db.keys.queries import create_key
from db.notifications.models import OutboxRow
from db.notifications.templates import render
from shared.survey_links import SECRET_FILE, links_for
from tests.support.api_harness import Api, StackFactory, order_body
from tests.support.builders import FULL_PICK, POD, SHIP, order_input, policy_yaml
from tests.support.customer_templates import (
    assert_catalogues_agree,
    words_outside_the_catalogue,
)
from tests.support.polling import eventually
from workflows.order.types import (
    FollowUpStatus,
    LineState,
    OrderState,
    Stage,
    Survey,
    SystemEventType,
    TimelineEntry,
)

ANSWERS = {"goods_ok": "yes", "timeliness": "5", "completeness": "4", "courtesy": "3",
           "suggestions": "请提前电话联系。\r\nCall ahead, please."}


def policy_file(tmp_path: Path, window: str) -> Path:
    path = tmp_path / "policies.yaml"
    path.write_text(policy_yaml(survey_after="PT1S", survey_window=window))
    return path


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"policy": policy_yaml(survey_after="PT1S", survey_window="PT10M")}


async def delivered_order(api: Api, language: str = "zh-CN") -> str:
    body = order_body()
    body["customer"]["language"] = language
    assert (await api.create(body)).status_code == 201
    for type_, data in (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP),
                        ("delivered", POD)):
        resp = await api.event(body["order_id"], type_, data)
        assert resp.status_code == 200, resp.text
    return body["order_id"]


async def follow_up(api: Api, order_id: str) -> dict[str, Any]:
    return (await api.get(f"/v1/orders/{order_id}")).json()["follow_up"] or {}


async def survey_status(api: Api, order_id: str, status: str) -> None:
    async def reached() -> bool:
        return (await follow_up(api, order_id)).get("status") == status

    await eventually(reached, timeout=30)


def invitations(api: Api, order_id: str, event_type: str = "order.survey_due"
                ) -> list[OutboxRow]:
    engine = make_engine(api.settings.db_url)
    with transaction(session_factory(engine)) as session:
        rows = list(session.scalars(select(OutboxRow).where(
            OutboxRow.order_id == order_id, OutboxRow.event_type == event_type)))
        session.expunge_all()
    engine.dispose()
    return rows


async def survey_answers(api: Api, order_id: str) -> list[dict[str, Any]]:
    timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    return [e for e in timeline if e["type"] == "survey_response"]


class Controls(HTMLParser):
    """Form controls and the labels that name them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag in ("input", "textarea", "select") and attr.get("type") != "hidden":
            self.controls.append(attr)
        if tag == "label" and attr.get("for"):
            self.labelled.add(attr["for"] or "")


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# -- the customer's journey ---------------------------------------------------------------


async def test_customer_answers_through_the_link_in_the_invitation(api: Api) -> None:
    order_id = await delivered_order(api, language="en")
    await survey_status(api, order_id, "due")

    email = next(r for r in invitations(api, order_id) if r.channel == "email")
    link = email.payload["data"]["survey_url"]
    assert link.startswith("http://127.0.0.1:8000/s/") and link in email.body
    assert email.recipient == "ops@example.com" and email.locale == "en"
    path = urlsplit(link).path

    page = await api.http.get(path)  # no API key: the link is the customer's credential
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="en">' in html and 'name="viewport"' in html
    assert "Did the goods arrive in order?" in html and order_id in html
    for question in ("Timeliness", "Completeness", "Courtesy", "Suggestions"):
        assert question in html
    assert 'href="?lang=zh-CN"' in html  # the language switch
    controls = Controls(html)
    assert {c["name"] for c in controls.controls} == {
        "goods_ok", "timeliness", "completeness", "courtesy", "suggestions"}
    assert all(c["id"] in controls.labelled for c in controls.controls)
    assert "<script" not in html and "<link" not in html  # no scripts, no external assets
    assert not re.search(r'(src|href|action)="(https?:)?//', html)
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "script-src" not in csp
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-frame-options"] == "DENY"

    chinese = await api.http.get(path, params={"lang": "zh-CN"})
    assert chinese.status_code == 200 and '<html lang="zh-CN">' in chinese.text
    assert "货物是否完好、齐全地送达？" in chinese.text and 'href="?lang=en"' in chinese.text

    thanks = await api.http.post(path, data=ANSWERS)
    assert thanks.status_code == 200, thanks.text
    assert "Thank you!" in thanks.text and order_id in thanks.text

    answered = await follow_up(api, order_id)
    assert answered["status"] == "answered" and answered["channel"] == "web"
    assert answered["scores"] == {"timeliness": 5, "completeness": 4, "courtesy": 3}
    assert answered["goods_ok"] is True
    assert answered["suggestions"] == "请提前电话联系。\nCall ahead, please."
    [entry] = await survey_answers(api, order_id)
    assert entry["event_id"] == f"survey-web-{order_id}"
    assert entry["actor"] == "customer:C-88" and entry["source"] == "survey_link"
    assert entry["data"] == {"goods_ok": True,
                             "scores": {"timeliness": 5, "completeness": 4, "courtesy": 3},
                             "suggestions": "请提前电话联系。\nCall ahead, please.",
                             "channel": "web"}

    again = await api.http.post(path, data={**ANSWERS, "timeliness": "1", "goods_ok": "no"})
    assert again.status_code == 409
    assert "already been answered" in again.text and "nothing was changed" in again.text
    reopened = await api.http.get(path)
    assert reopened.status_code == 200 and "Already answered" in reopened.text
    assert "<form" not in reopened.text
    assert await follow_up(api, order_id) == answered
    assert len(await survey_answers(api, order_id)) == 1


async def test_incomplete_answers_are_shown_again_with_messages_and_not_recorded(
        api: Api) -> None:
    order_id = await delivered_order(api)  # zh-CN, the default
    await survey_status(api, order_id, "due")
    path = urlsplit(invitations(api, order_id)[0].payload["data"]["survey_url"]).path

    sent = {"timeliness": "6", "completeness": "4", "suggestions": "太慢了"}
    resp = await api.http.post(path, data=sent)
    assert resp.status_code == 422
    html = resp.text
    assert '<html lang="zh-CN">' in html and "请检查您的回答" in html
    assert "请告诉我们货物是否完好、齐全地送达。" in html  # goods question missing
    assert "请为“时效”选择 1 至 5 分。" in html  # out of range
    assert "请为“服务态度”选择 1 至 5 分。" in html  # missing
    assert "“完整性”" not in html  # answered correctly: no message
    # What the customer typed is kept; each message sits with its question.
    assert re.search(r'id="completeness-4"[^>]*checked', html)
    assert ">太慢了</textarea>" in html
    assert 'id="courtesy-error"' in html and 'aria-describedby="courtesy-error"' in html

    too_long = await api.http.post(
        f"{path}?lang=en", data={**ANSWERS, "suggestions": "x" * 2001})
    assert too_long.status_code == 422
    assert "2000 characters or fewer" in too_long.text

    not_a_form = await api.http.post(path, json={"goods_ok": True})
    assert not_a_form.status_code == 415

    sent_bytes = 0

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length to check up front
        nonlocal sent_bytes
        yield b"goods_ok=yes&suggestions="
        for _ in range(64):
            sent_bytes += 16 * 1024
            yield b"x" * (16 * 1024)

    too_big = await api.http.post(path, content=chunked(), headers={
        "content-type": "application/x-www-form-urlencoded"})
    assert too_big.status_code == 413
    assert sent_bytes <= 64 * 1024  # reading stopped past the form's 32 KiB

    assert (await follow_up(api, order_id))["status"] == "due"
    assert await survey_answers(api, order_id) == []


async def test_staff_inbox_gets_a_copy_of_the_invitation(api: Api) -> None:
    engine = make_engine(api.settings.db_url)
    with transaction(session_factory(engine)) as session:
        key = create_key(session, "desk-wang", "operator", team="customer_service")[1]
    engine.dispose()
    order_id = await delivered_order(api)
    await survey_status(api, order_id, "due")

    async def in_inbox() -> list[dict[str, Any]]:
        resp = await api.http.get("/v1/inbox", headers={"Authorization": f"Bearer {key}"})
        return [i for i in resp.json()["items"] if i["order_id"] == order_id]

    [item] = await eventually(in_inbox)
    assert item["event_type"] == "order.survey_due" and order_id in item["title"]
    link = re.search(r"http://\S+/s/\S+", item["body"])
    assert link is not None
    page = await api.http.get(urlsplit(link.group(0)).path)
    assert page.status_code == 200 and "<form" in page.text


# -- links that do not open the form ---------------------------------------------------------


async def test_reminder_then_the_link_closes_with_the_window(
        make_stack: StackFactory, db_url: str, tmp_path: Path) -> None:
    async with make_stack(db_url,
                          policy=policy_file(tmp_path, "PT4S")) as api:
        order_id = await delivered_order(api, language="en")
        await survey_status(api, order_id, "unsuccessful")
        path = urlsplit(invitations(api, order_id)[0].payload["data"]["survey_url"]).path

        # Halfway through the window the customer was reminded, with the same link.
        reminders = invitations(api, order_id, "order.survey_reminder")
        assert {r.channel for r in reminders} == {"email", "inbox"}
        assert {r.recipient for r in reminders} == {"ops@example.com", "customer_service"}
        email = next(r for r in reminders if r.channel == "email")
        assert email.subject.startswith("Reminder") and path in email.body

        page = await api.http.get(path)
        assert page.status_code == 410 and "This survey has closed" in page.text
        answer = await api.http.post(path, data=ANSWERS)
        assert answer.status_code == 410 and "no longer open" in answer.text
        assert await survey_answers(api, order_id) == []


async def test_unknown_tampered_and_early_links(
        make_stack: StackFactory, db_url: str, tmp_path: Path) -> None:
    async with make_stack(db_url) as api:
        links = links_for(api.settings)
        body = order_body()
        assert (await api.create(body)).status_code == 201
        token = links.token(body["order_id"])

        early = await api.http.get(f"/s/{token}")
        assert early.status_code == 200 and "回访尚未开始" in early.text
        assert "<form" not in early.text
        assert (await api.http.post(f"/s/{token}", data=ANSWERS)).status_code == 409

        encoded, mac = token.split(".")
        other = links_for(Settings(data_dir=tmp_path, survey_secret=SecretStr("another")))
        forged = [*(f"{encoded}.{mac[:-1]}{c}" for c in "ABCDw" if c != mac[-1]),  # last char
                  f"{encoded}.{'B' if mac[0] == 'A' else 'A'}{mac[1:]}",
                  f"{links.token('SO-OTHER').split('.')[0]}.{mac}",  # another order, same MAC
                  other.token(body["order_id"]),  # signed with a different secret
                  links.token("SO-NOT-STORED"),  # genuine, but no such order
                  "nonsense", "a.b", "%00.%ff", "A" * 300 + "." + mac]
        for bad in forged:
            for resp in (await api.http.get(f"/s/{bad}", params={"lang": "en"}),
                         await api.http.post(f"/s/{bad}?lang=en", data=ANSWERS)):
                assert resp.status_code == 404, bad
                assert "This survey link is not valid" in resp.text
                assert resp.headers["referrer-policy"] == "no-referrer"


# -- tokens, notices, catalogues --------------------------------------------------------------


def test_links_survive_a_restart_and_the_generated_secret_is_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", public_base_url="https://cs.example.com/")
    first = links_for(settings)
    url = first.url("SO-1001")
    assert url.startswith("https://cs.example.com/s/")
    secret = tmp_path / "data" / SECRET_FILE
    assert secret.stat().st_mode & 0o777 == 0o600
    again = links_for(Settings(data_dir=tmp_path / "data"))  # the next start of the API
    assert again.order_id(first.token("SO-1001")) == "SO-1001"
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", first.token("SO-1.2:3"))
    configured = links_for(Settings(data_dir=tmp_path / "data",
                                    survey_secret=SecretStr("from-the-environment")))
    assert configured.order_id(first.token("SO-1001")) is None


def test_reminder_carries_the_link_and_copies_customer_service() -> None:
    now = datetime(2026, 12, 4, 9, tzinfo=UTC)
    inp = order_input(now, order_id="SO-7")
    inp.customer.language = "en"
    state = OrderState(
        order_id="SO-7", customer=inp.customer,
        lines=[LineState(sku=line.sku, ordered=line.qty) for line in inp.lines],
        destination=inp.destination, promised_ship_by=inp.promised_ship_by,
        promised_delivery_by=inp.promised_delivery_by, policy=inp.policy, stage=Stage.DELIVERED,
        stage_times={Stage.DELIVERED.value: now},
        survey=Survey(status=FollowUpStatus.DUE, due_at=now, expires_at=now + timedelta(days=7)))
    entries = [TimelineEntry(event_id=f"survey-{kind}", type=kind, occurred_at=now,
                             recorded_at=now, actor="system", source="system", data={})
               for kind in (SystemEventType.SURVEY_DUE, SystemEventType.SURVEY_REMINDER)]
    due, reminder = order_notices(state, entries, None, survey_url=lambda o: f"https://x.test/s/{o}")
    assert (due.event_type, reminder.event_type) == ("order.survey_due", "order.survey_reminder")
    for notice in (due, reminder):
        assert notice.teams == ["customer_service"]
        assert notice.data["survey_url"] == "https://x.test/s/SO-7"
        subject, body = render(notice.locale, notice.event_type,
                               {"order_id": "SO-7", **notice.data})
        assert "https://x.test/s/SO-7" in body and "2026-12-11 09:00 UTC" in body
    assert "Reminder" in render("en", reminder.event_type, {"order_id": "SO-7"})[0]


def test_message_catalogues_have_the_same_keys_and_fields() -> None:
    assert_catalogues_agree(catalogue, MESSAGE_DIR, LOCALES)


def test_templates_use_only_catalogue_words() -> None:
    keys = set(catalogue("en"))
    assert words_outside_the_catalogue(SURVEY_TEMPLATE_DIR, keys) == []
    dynamic = {f"{state}_{part}" for state in ("thanks", "answered", "closed", "not_yet",
                                                "not_found", "bad_request", "unavailable")
               for part in ("title", "body")}
    dynamic |= {f"score_{name}" for name in ("timeliness", "completeness", "courtesy")}
    assert dynamic <= keys

