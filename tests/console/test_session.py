"""Console sessions kept server-side (sign-out ends every copy of a cookie) and the language and
time zone each user chose, following them to any browser."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from db.console.models import ConsolePreference, ConsoleSession
from db.engine import make_engine, session_factory, transaction
from db.keys.models import ApiKey
from tests.support.api_harness import Api
from tests.support.console_harness import csrf_of, sign_in

ZH = "zh-CN,zh;q=0.9"


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    # The console's pages read only the database: no worker needed.
    return {"worker": False}


@asynccontextmanager
async def browser(api: Api, lang: str = "en",
                  cookies: dict[str, str] | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """Another client of the same app, with its own cookie jar."""
    async with httpx.AsyncClient(transport=api.http._transport, base_url="http://waybill",
                                 headers={"Accept-Language": lang}, cookies=cookies,
                                 timeout=60) as client:
        yield client


@contextmanager
def database(api: Api) -> Iterator[Session]:
    engine = make_engine(api.settings.db_url)
    try:
        with transaction(session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def session_rows(api: Api, key_name: str) -> list[ConsoleSession]:
    with database(api) as session:
        return list(session.scalars(select(ConsoleSession).join(
            ApiKey, ApiKey.id == ConsoleSession.key_id).where(ApiKey.name == key_name)))


def preference(api: Api, key_name: str) -> tuple[str | None, str | None] | None:
    with database(api) as session:
        row = session.execute(select(ConsolePreference.locale, ConsolePreference.zone).join(
            ApiKey, ApiKey.id == ConsolePreference.key_id).where(ApiKey.name == key_name)).first()
        return None if row is None else (row[0], row[1])


def signed_out(response: httpx.Response) -> bool:
    return (response.status_code == 303
            and response.headers["location"].startswith("/console/sign-in"))


async def test_sign_out_ends_the_session_for_every_copy_of_its_cookie(api: Api) -> None:
    http = api.http
    await sign_in(http, api.keys["operator"])
    board = await http.get("/console/board")
    assert board.status_code == 200 and "test-operator" in board.text
    copied = http.cookies["wb_session"]
    [row] = session_rows(api, "test-operator")
    assert row.ended_at is None and row.nonce in copied

    async with browser(api, cookies={"wb_session": copied}) as other:
        # While the session lives, the copy is the same session: it reads and holds a token.
        other_board = await other.get("/console/board")
        assert other_board.status_code == 200 and "test-operator" in other_board.text
        token = csrf_of(other_board.text)

        out = await http.post("/console/sign-out", data={"csrf": csrf_of(board.text)})
        assert out.status_code == 303 and out.headers["location"] == "/console/sign-in"
        assert 'wb_session=""' in out.headers["set-cookie"]
        [row] = session_rows(api, "test-operator")
        assert row.ended_at is not None

        # The copy, sent again from the other client, is refused everywhere.
        assert other.cookies["wb_session"] == copied
        assert signed_out(await other.get("/console/board"))
        assert signed_out(await other.get("/console/preferences"))
        assert (await other.get("/console/board/columns")).status_code == 401
        saved = await other.post("/console/preferences", data={
            "csrf": token, "lang": "zh-CN", "tz": "Europe/Berlin", "next": "/console/board"})
        assert saved.status_code == 403 and "Form expired" in saved.text
        assert "set-cookie" not in saved.headers
        again = await other.post("/console/sign-out", data={"csrf": token})
        assert again.status_code == 403
    assert preference(api, "test-operator") is None

    # The browser that signed out signs in again with a new session; the old one stays ended.
    await sign_in(http, api.keys["operator"])
    assert (await http.get("/console/board")).status_code == 200
    rows = session_rows(api, "test-operator")
    assert len(rows) == 2 and sum(r.ended_at is None for r in rows) == 1
    assert http.cookies["wb_session"] != copied


async def test_a_session_row_ended_expired_or_missing_is_refused(api: Api) -> None:
    http = api.http
    changes = (
        update(ConsoleSession).values(ended_at=datetime.now(UTC)),
        # The cookie's own signed expiry is hours away: the row's expiry alone refuses it.
        update(ConsoleSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)),
        delete(ConsoleSession),
    )
    for change in changes:
        await sign_in(http, api.keys["supervisor"])
        assert (await http.get("/console/board")).status_code == 200
        nonce = http.cookies["wb_session"].split(".")[3]
        with database(api) as session:
            session.execute(change.where(ConsoleSession.nonce == nonce))
        assert signed_out(await http.get("/console/board")), change
        assert (await http.get("/console/board/columns")).status_code == 401


async def test_revoking_a_key_ends_its_open_sessions_and_no_other(api: Api) -> None:
    http = api.http
    await sign_in(http, api.keys["operator"])
    async with browser(api) as other:
        await sign_in(other, api.keys["auditor"])
        with database(api) as session:
            session.execute(update(ApiKey).where(ApiKey.name == "test-operator")
                            .values(revoked_at=datetime.now(UTC)))
        [row] = session_rows(api, "test-operator")
        assert row.ended_at is None  # still open, yet refused: the key is checked every time
        assert signed_out(await http.get("/console/board"))
        assert (await other.get("/console/board")).status_code == 200
    assert (await sign_in(http, api.keys["operator"])).status_code == 401


async def test_a_users_language_and_zone_follow_them_to_another_browser(api: Api) -> None:
    http = api.http
    await sign_in(http, api.keys["operator"], lang=ZH)
    page = await http.get("/console/preferences")
    assert '<html lang="zh-CN">' in page.text
    saved = await http.post("/console/preferences", data={
        "csrf": csrf_of(page.text), "lang": "en", "tz": "Europe/Berlin",
        "next": "/console/preferences"})
    assert saved.status_code == 303
    assert preference(api, "test-operator") == ("en", "Europe/Berlin")

    async with browser(api, lang=ZH) as second:
        # Signed out, a fresh browser still follows its Accept-Language...
        assert '<html lang="zh-CN">' in (await second.get("/console/sign-in")).text
        await sign_in(second, api.keys["operator"], lang=ZH)
        # ...and once the user is known, their own choice wins.
        board = await second.get("/console/board")
        assert '<html lang="en">' in board.text and "Order board" in board.text
        assert "Times are shown in Europe/Berlin" in board.text
        # The browser keeps it, so the sign-in page reads the same after signing out.
        await second.post("/console/sign-out", data={"csrf": csrf_of(board.text)})
        assert '<html lang="en">' in (await second.get("/console/sign-in")).text

    async with browser(api, lang=ZH) as colleague:
        await sign_in(colleague, api.keys["supervisor"], lang=ZH)
        board = await colleague.get("/console/board")
        assert '<html lang="zh-CN">' in board.text and "订单看板" in board.text
        assert "Asia/Shanghai" in board.text
    assert preference(api, "test-supervisor") is None

    # The language switch on a page posts only the language: the zone stays, and the stored
    # choice beats the first browser's own wb_lang=en cookie.
    async with browser(api, lang="en") as third:
        await sign_in(third, api.keys["operator"])
        board = await third.get("/console/board")
        switched = await third.post("/console/preferences", data={
            "csrf": csrf_of(board.text), "lang": "zh-CN", "next": "/console/board"})
        assert switched.status_code == 303
    assert preference(api, "test-operator") == ("zh-CN", "Europe/Berlin")
    assert http.cookies["wb_lang"] == "en"
    board = await http.get("/console/board")
    assert '<html lang="zh-CN">' in board.text and "Europe/Berlin" in board.text


async def test_signed_out_language_switch_stays_in_this_browser(api: Api) -> None:
    async with browser(api, lang=ZH) as anonymous:
        page = await anonymous.get("/console/sign-in")
        assert '<html lang="zh-CN">' in page.text
        switched = await anonymous.post("/console/preferences", data={
            "csrf": csrf_of(page.text), "lang": "en", "next": "/console/sign-in"})
        assert switched.status_code == 303 and switched.headers["location"] == "/console/sign-in"
        page = await anonymous.get("/console/sign-in")
        assert '<html lang="en">' in page.text
        # Nobody was signed in, so nothing was stored for anybody.
        with database(api) as session:
            assert session.scalar(select(ConsolePreference)) is None
        # Signing in without a stored choice keeps this browser's.
        response = await anonymous.post("/console/sign-in", data={
            "api_key": api.keys["auditor"], "csrf": csrf_of(page.text),
            "next": "/console/board"})
        assert response.status_code == 303
        assert '<html lang="en">' in (await anonymous.get("/console/board")).text
    assert preference(api, "test-auditor") is None


async def test_an_unknown_language_or_zone_is_refused_and_changes_nothing(api: Api) -> None:
    http = api.http
    await sign_in(http, api.keys["operator"])
    page = await http.get("/console/preferences")
    token = csrf_of(page.text)
    ok = await http.post("/console/preferences", data={
        "csrf": token, "lang": "en", "tz": "America/New_York", "next": "/console/board"})
    assert ok.status_code == 303
    for bad in ({"lang": "fr"}, {"lang": "zh-CN", "tz": "Mars/Olympus_Mons"},
                {"lang": "xx-" + "y" * 200}, {"tz": "../../etc/passwd"}):
        refused = await http.post("/console/preferences", data={
            "csrf": token, "next": "/console/board", **bad})
        assert refused.status_code == 400, bad
        assert "Preference not saved" in refused.text and "nothing was changed" in refused.text
        assert "set-cookie" not in refused.headers
    assert preference(api, "test-operator") == ("en", "America/New_York")
    board = await http.get("/console/board")
    assert '<html lang="en">' in board.text and "America/New_York" in board.text

    async with browser(api, lang=ZH) as anonymous:
        page = await anonymous.get("/console/sign-in")
        refused = await anonymous.post("/console/preferences", data={
            "csrf": csrf_of(page.text), "lang": "klingon", "next": "/console/sign-in"})
        assert refused.status_code == 400 and "偏好设置未保存" in refused.text
        assert "set-cookie" not in refused.headers
