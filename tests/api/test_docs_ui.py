"""/docs and /redoc load nothing from another host (issue 14 §10): the Swagger UI and ReDoc
assets are served by the app from the installed package, and answer; with `docs_require_key`
the pages and the OpenAPI document need a valid API key or a console session."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.api_harness import Api, StackFactory
from tests.support.console_harness import sign_in

_URL = re.compile(r"""(?:src|href|url)\s*[=:(]\s*["']?([^"'\s)>]+)""")


# The docs pages read no SQL: SQLite only.
pytestmark = pytest.mark.one_engine


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"worker": False}


@pytest.fixture
async def keyed_api(make_stack: StackFactory, db_url: str) -> AsyncIterator[Api]:
    async with make_stack(db_url, worker=False, docs_require_key=True) as stack:
        yield stack


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_load_only_from_the_app(api: Api, page: str) -> None:
    got = await api.http.get(page)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/html")
    # No host but the app's own: every absolute http(s) URL in the page is refused.
    assert not re.findall(r"https?://", got.text), got.text
    assert "fonts.googleapis" not in got.text and "cdn" not in got.text.lower()
    assets = {u for u in _URL.findall(got.text) if u.startswith("/")}
    assert "/openapi.json" in got.text
    assert {a for a in assets if a.startswith("/docs/static/")}, got.text
    for asset in assets:
        fetched = await api.http.get(asset)
        assert fetched.status_code == 200 and fetched.content, asset
    assert (await api.http.get("/openapi.json")).status_code == 200


async def test_the_docs_can_require_a_key(keyed_api: Api) -> None:
    api = keyed_api
    for path in ("/docs", "/redoc", "/openapi.json"):
        refused = await api.http.get(path)
        assert refused.status_code == 401, path
        assert refused.json()["error"]["code"] == "unauthorized"
        wrong = await api.http.get(path, headers={"Authorization": "Bearer wb_nope"})
        assert wrong.status_code == 401, path
        assert (await api.http.get(path, headers=api.auth("integration"))).status_code == 200
    assert (await api.http.get("/openapi.json", headers=api.auth("auditor"))).json()["paths"]
    await sign_in(api.http, api.keys["auditor"])
    session = api.http.cookies.get("wb_session")
    assert session
    api.http.cookies.clear()
    api.http.cookies.set("wb_session", session)  # the browser's is scoped to /console
    got = await api.http.get("/docs")
    assert got.status_code == 200
