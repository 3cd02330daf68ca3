"""The console over HTTP: sign-in sessions, CSRF, roles, languages and zones, catalogues."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from api.i18n import LOCALES, from_accept_language
from console.i18n import CONSOLE_TEMPLATE_DIR, MESSAGE_DIR, catalogue
from db.engine import make_engine, session_factory, transaction
from db.keys.models import ApiKey
from tests.support.api_harness import Api, order_body
from tests.support.console_harness import csrf_of, sign_in
from tests.support.polling import eventually

# Sessions' SQL runs on both engines in tests/console/test_session.py: these pages on SQLite.
pytestmark = pytest.mark.one_engine


async def test_a_session_follows_its_key_and_every_form_needs_its_token(api: Api) -> None:
    http = api.http
    refused = await sign_in(http, api.keys["integration"])
    assert refused.status_code == 403 and "Integration keys cannot sign in" in refused.text
    assert (await sign_in(http, "wb_not-a-key")).status_code == 401

    signed_in = await sign_in(http, api.keys["operator"])
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/console/board"
    cookie = signed_in.headers["set-cookie"]
    assert "wb_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Max-Age=28800" in cookie and "Path=/console" in cookie
    board = await http.get("/console/board")
    assert board.status_code == 200 and "test-operator" in board.text
    assert "Times are shown in Asia/Shanghai (UTC+08:00)" in board.text
    assert "script-src 'self'" in board.headers["content-security-policy"]

    # A post without the session's token changes nothing: 403 with a page that says why.
    forged = await http.post("/console/sign-out", data={"csrf": "0" * 32})
    assert forged.status_code == 403 and "Form expired or not from this console" in forged.text
    assert (await http.get("/console/board")).status_code == 200

    engine = make_engine(api.settings.db_url)
    with transaction(session_factory(engine)) as session:
        session.execute(update(ApiKey).where(ApiKey.name == "test-operator")
                        .values(revoked_at=datetime.now(UTC)))
    engine.dispose()
    gone = await http.get("/console/board")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/console/sign-in")
    assert (await http.get("/console/board/columns")).status_code == 401


async def test_language_comes_from_the_browser_then_from_the_viewers_choice(api: Api) -> None:
    http = api.http
    await sign_in(http, api.keys["auditor"], lang="zh-CN,zh;q=0.9,en;q=0.5")
    board = await http.get("/console/board")
    assert '<html lang="zh-CN">' in board.text and "订单看板" in board.text
    switched = await http.post("/console/preferences", data={
        "csrf": csrf_of(board.text), "lang": "en", "tz": "Europe/Berlin",
        "next": "/console/board"})
    assert switched.status_code == 303
    board = await http.get("/console/board")
    assert "Order board" in board.text and "Times are shown in Europe/Berlin" in board.text


async def test_an_auditor_reads_an_order_but_cannot_add_a_note(api: Api) -> None:
    body = order_body(tier="key_account")
    assert (await api.create(body)).status_code == 201
    http = api.http
    await sign_in(http, api.keys["auditor"])
    page = await http.get(f"/console/orders/{body['order_id']}")
    assert page.status_code == 200 and "Order created" in page.text
    assert "Add a note" not in page.text
    refused = await http.post(f"/console/orders/{body['order_id']}/notes",
                              data={"csrf": csrf_of(page.text), "text": "sneaky"})
    assert refused.status_code == 403 and "Not allowed" in refused.text
    timeline = (await api.get(f"/v1/orders/{body['order_id']}/timeline")).json()
    assert not [e for e in timeline["items"] if e["type"] == "note"]

    await sign_in(http, api.keys["operator"])
    page = await http.get(f"/console/orders/{body['order_id']}")
    form = {"csrf": csrf_of(page.text), "text": "customer asked for a call",
            "event_id": re.search(r'name="event_id" value="([^"]+)"', page.text).group(1)}
    for _ in range(2):  # the same form twice is one note
        added = await http.post(f"/console/orders/{body['order_id']}/notes", data=form)
        assert added.status_code == 303

    async def noted() -> list[dict]:
        items = (await api.get(f"/v1/orders/{body['order_id']}/timeline")).json()["items"]
        return [e for e in items if e["type"] == "note"]
    notes = await eventually(noted)
    assert len(notes) == 1 and notes[0]["actor"] == "test-operator"
    assert notes[0]["source"] == "console"


def test_accept_language_picks_the_best_supported_locale() -> None:
    assert from_accept_language("fr-FR,en-GB;q=0.8,zh;q=0.9") == "zh-CN"
    assert from_accept_language("en-US,en;q=0.9") == "en"
    assert from_accept_language("fr, de;q=0.5") is None
    assert from_accept_language("zh;q=0, en;q=0.1") == "en"


def test_console_catalogues_have_the_same_keys_and_fields() -> None:
    zh, en = catalogue("zh-CN"), catalogue("en")
    assert set(zh) == set(en), f"zh-CN only: {set(zh) - set(en)}; en only: {set(en) - set(zh)}"
    for key in zh:
        fields = [{f for _, f, _, _ in string.Formatter().parse(c[key]) if f} for c in (zh, en)]
        assert fields[0] == fields[1], key
        assert zh[key].strip() and en[key].strip(), key
    assert {p.stem for p in MESSAGE_DIR.glob("*.json")} == set(LOCALES)


def test_console_templates_hold_no_words_of_their_own() -> None:
    keys = set(catalogue("en"))
    for path in CONSOLE_TEMPLATE_DIR.glob("*.html"):
        source = path.read_text(encoding="utf-8")
        used = set(re.findall(r"""\bt\(\s*["']([a-z_.]+)["']\s*[,)]""", source))
        assert used <= keys, f"{path.name}: {used - keys}"
        bare = re.sub(r"{[{%#].*?[}%#]}", "", source, flags=re.S)
        for attr in ("placeholder", "aria-label", "title", "alt"):
            for value in re.findall(rf'{attr}="([^"]*)"', bare):
                assert not re.search(r"[A-Za-z\u4e00-\u9fff]{2,}", value), (path.name, attr)
        bare = re.sub(r"<[^>]*>", "", bare)
        assert not re.search(r"[A-Za-z\u4e00-\u9fff]{2,}", bare), (path.name, bare.strip()[:80])
    states = ("forbidden", "csrf", "bad_request", "order_not_found", "unavailable")
    assert {f"{s}_{p}" for s in states for p in ("title", "body")} <= keys
