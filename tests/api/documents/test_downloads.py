"""A downloaded document says what it is (issue 14 §9): its type is sniffed from the bytes,
its name ends with a matching extension (a PDF uploaded as `poly.html` downloads as
`poly.html.pdf`), and `X-Content-Type-Options: nosniff` stops a browser guessing otherwise;
through the API and the console alike."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from api.documents.archive import download_name, serve
from tests.support.api_harness import Api
from tests.support.builders import minimal_pdf, minimal_png
from tests.support.console_harness import sign_in
from tests.support.receipts_harness import SMALL_LIMIT, delivered, upload

# What a download says it is comes from the bytes, not SQL: SQLite only.
pytestmark = pytest.mark.one_engine


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"receipt_max_bytes": SMALL_LIMIT}


@pytest.mark.parametrize(("name", "content_type", "served"), [
    ("poly.html", "application/pdf", "poly.html.pdf"),
    ("scan.PDF", "application/pdf", "scan.PDF"),
    ("photo.jpeg", "image/jpeg", "photo.jpeg"),
    ("photo.png", "image/jpeg", "photo.png.jpg"),
    ("receipt", "image/png", "receipt.png"),
    (".pdf", "application/pdf", ".pdf.pdf"),
    ("x.svg", "application/octet-stream", "x.svg.bin"),
])
def test_the_name_ends_with_the_sniffed_types_extension(name: str, content_type: str,
                                                       served: str) -> None:
    assert download_name(name, content_type) == served


def test_the_type_comes_from_the_bytes_not_from_what_was_stored() -> None:
    response = serve(minimal_png(), "evil.html", {})
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert 'filename="evil.html.png"' in response.headers["content-disposition"]


def _check(got: object, pdf: bytes) -> None:
    assert got.status_code == 200 and got.content == pdf  # type: ignore[attr-defined]
    headers = got.headers  # type: ignore[attr-defined]
    assert headers["content-type"] == "application/pdf"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-disposition"] == (
        "attachment; filename=\"poly.html.pdf\"; filename*=UTF-8''"
        + quote("poly.html.pdf", safe=""))


async def test_a_pdf_uploaded_as_html_downloads_as_a_pdf(api: Api) -> None:
    order_id = await delivered(api)
    pdf = minimal_pdf()
    made = await upload(api, order_id, pdf, "poly.html", content_type="text/html")
    assert made.status_code == 201, made.text
    _check(await api.get(f"/v1/orders/{order_id}/receipt", role="auditor"), pdf)
    await sign_in(api.http, api.keys["operator"])
    _check(await api.http.get(f"/console/orders/{order_id}/receipt"), pdf)
