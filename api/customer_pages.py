"""What every page a customer opens shares: the survey (`/s`), the tracking page (`/t`) and
the notices' opt-out (`/u`). Each is one server-rendered HTML page in zh-CN or English with its
own templates and catalogue; none has a script, a cookie or an external asset.

* the CSS is inlined and allowed by its hash, so the CSP needs no 'unsafe-inline';
* the signed token in the URL is the customer's credential: no referrer ever carries it;
* forms are read with a byte limit before parsing (a chunked body included) and no files.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.types import Message

from api.i18n import LOCALES
from config import REPO_ROOT

# The page frame (`base.html`: header, language switch, inlined CSS) and the one-message page
# (`message.html`) every customer page extends; a page's own folder comes first.
SHARED_TEMPLATE_DIR = REPO_ROOT / "templates" / "customer"
FRAME_CSS = SHARED_TEMPLATE_DIR / "base.css"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@lru_cache(maxsize=8)
def environment(template_dir: Path) -> Environment:
    loader = ChoiceLoader([FileSystemLoader(template_dir), FileSystemLoader(SHARED_TEMPLATE_DIR)])
    return Environment(loader=loader, autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


@lru_cache(maxsize=8)
def stylesheet(path: Path) -> tuple[Markup, str]:
    """A page's CSS, to inline, and its CSP source (`'sha256-…'`): the frame's rules
    (`customer/base.css`: header, main, cards, buttons, the error summary) then the page's own,
    which come later and so win where they differ."""
    css = "\n".join(p.read_text(encoding="utf-8").strip() for p in (FRAME_CSS, path))
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return Markup(css), f"'sha256-{digest}'"


def security_headers(css_path: Path, locale: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": f"default-src 'none'; style-src {stylesheet(css_path)[1]}; "
                                   "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        # The token in the URL is the customer's credential: never leak it to another site.
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "X-Robots-Tag": "noindex, nofollow",
        "Cache-Control": "no-store",
        "Content-Language": locale,
    }


def render(css_path: Path, template: str, locale: str, status: int,
           catalogue: Callable[[str], Mapping[str, str]], t: Callable[..., str],
           **context: Any) -> HTMLResponse:
    """`template` (from the stylesheet's folder) with the page's common context: `locale`,
    `t`, the inlined `css` and the `switch` to the other languages."""
    switch = [{"locale": other, "name": catalogue(other)["language_name"]}
              for other in LOCALES if other != locale]
    html = environment(css_path.parent).get_template(template).render(
        locale=locale, t=t, css=stylesheet(css_path)[0], switch=switch, **context)
    return HTMLResponse(html, status_code=status, headers=security_headers(css_path, locale))


async def read_form(request: Request, max_bytes: int, max_fields: int = 20) -> FormData | int:
    """The posted form, or the status that refuses the request: 415 not a form, 413 over
    `max_bytes`, 400 unreadable (a malformed multipart body, or files)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in FORM_TYPES:
        return 415
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        return 413
    # Read as it arrives and stop past the limit: a chunked body has no length to check first.
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            return 413
        chunks.append(chunk)
    body = b"".join(chunks)

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        return await Request(request.scope, replay).form(max_files=0, max_fields=max_fields)
    except HTTPException:
        return 400
