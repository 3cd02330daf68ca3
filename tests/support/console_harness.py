"""The console over HTTP: a page's CSRF token, signing in with a key."""

from __future__ import annotations

import re

import httpx


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)  # type: ignore[union-attr]


async def sign_in(http: httpx.AsyncClient, key: str, lang: str = "en") -> httpx.Response:
    http.cookies.clear()  # a fresh browser
    http.headers["Accept-Language"] = lang
    page = await http.get("/console/sign-in")
    return await http.post("/console/sign-in", data={"api_key": key, "csrf": csrf_of(page.text),
                                                    "next": "/console/board"})
