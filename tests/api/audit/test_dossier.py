"""Issue 17 §5: a one-order PDF dossier an auditor opens: the order's header, its story as the
console tells it in the chosen language, its documents with their SHA-256 and the chain's
verification result, with Chinese rendered in an embedded CJK font."""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker
from temporalio.converter import default

from api.audit import dossier
from api.errors import ApiError
from config import Settings
from console.i18n import Viewer
from db.documents.queries import record
from db.orders.queries import apply_change
from tests.support.api_harness import Api, created
from tests.support.console_harness import sign_in
from tests.support.order_states import full_state, hours
from tests.support.polling import eventually
from workflows.order.changes import ChangeTracker
from workflows.order.types import ProjectionChange, TimelineEntry

SHA = "3f" * 32
NOTE = "客户要求周五送达，请提前电话联系收货人"


def _text(pdf: bytes) -> str:
    """The text a reader copies out. fpdf2 writes two-byte glyph codes under an embedded
    Identity encoding CMap, which pypdf reads a byte at a time: each character comes out right
    (through the ToUnicode map) but after a NUL, which is dropped here."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return "\n".join(page.extract_text() for page in pages).replace("\x00", "")


def _embedded_fonts(pdf: bytes) -> set[str]:
    """The fonts whose glyphs the file carries (a descriptor with a font file)."""
    found = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            for child in font.get("/DescendantFonts", [font]):
                desc = child.get_object().get("/FontDescriptor")
                if desc is not None and any(k in desc.get_object()
                                            for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    found.add(str(font["/BaseFont"]))
    return found


def test_no_cjk_font_is_a_503_with_its_code_and_a_log_line(
        caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    settings = Settings(audit_pdf_fonts=[str(tmp_path / "none.ttc")], data_dir=tmp_path)
    with caplog.at_level(logging.ERROR, "waybill.api.audit"), pytest.raises(ApiError) as caught:
        dossier.font_or_503(settings)
    assert (caught.value.status, caught.value.code) == (503, "pdf_font_missing")
    assert any(r.getMessage() == "no CJK font for the PDF dossier" for r in caplog.records)


def test_a_collection_is_read_at_its_simplified_chinese_face() -> None:
    found = dossier.cjk_font(tuple(Settings().audit_pdf_fonts))
    assert found is not None, "tests/setup_machine.sh installs fonts-noto-cjk"
    if found[0].endswith("NotoSansCJK-Regular.ttc"):
        assert found[1] == 2  # JP, KR, SC, ...


def _seed(sessions: sessionmaker[Session]) -> str:
    state = replace(full_state(), order_id="SO-DOSSIER")
    entry = TimelineEntry(event_id="n1", type="note", occurred_at=hours(3),
                          recorded_at=hours(3), actor="审计员 王", source="console",
                          data={"text": NOTE})
    conv = default().payload_converter
    [change] = conv.from_payloads(conv.to_payloads(
        [ChangeTracker().change(state, [entry])]), [ProjectionChange])
    with sessions.begin() as session:
        apply_change(session, change)
        record(session, SHA, "application/pdf", 1234, "test-operator", state.order_id,
               now=hours(4))
    return state.order_id


@pytest.mark.one_engine
def test_the_dossier_holds_header_story_documents_and_verdict_in_either_language(
        sessions: sessionmaker[Session], tmp_path: Path) -> None:
    order_id = _seed(sessions)
    settings = Settings(data_dir=tmp_path)
    with sessions() as session:
        zh = dossier.render(session, settings, Viewer("zh-CN", "Asia/Shanghai"), order_id, "审计")
        en = dossier.render(session, settings, Viewer("en", "Asia/Shanghai"), order_id, "audit")
    assert zh.startswith(b"%PDF") and en.startswith(b"%PDF")
    assert any("NotoSansCJK" in name or "CJK" in name for name in _embedded_fonts(zh))
    text = _text(zh)
    # Extracted text may break a long line anywhere: compare without line breaks.
    flat = text.replace("\n", "")
    for shown in (f"订单 {order_id} 审计档案", NOTE, SHA, "审计链校验", "完整",
                  "application/pdf", "审计员 王", "2026-12-01 19:00:00"):
        assert shown in flat, shown
    flat_en = _text(en).replace("\n", "")
    for shown in (f"Audit dossier of order {order_id}", "Audit chain verification", "Intact",
                  NOTE, SHA):
        assert shown in flat_en, shown


@pytest.mark.one_engine
async def test_an_auditor_downloads_the_dossier_from_the_api_and_the_console(api: Api) -> None:
    order_id = await created(api)
    assert (await api.event(order_id, "note", {"text": NOTE})).status_code == 200

    async def projected() -> bool | None:
        items = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
        return True if any(e["type"] == "note" for e in items) else None
    await eventually(projected)

    path = f"/v1/orders/{order_id}/audit/dossier.pdf"
    resp = await api.get(path, role="auditor", lang="zh-CN")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF") and NOTE in _text(resp.content).replace("\n", "")
    assert (await api.get(path, role="operator")).status_code == 403
    missing = await api.get("/v1/orders/NOPE-7/audit/dossier.pdf", role="auditor")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "order_not_found"

    await sign_in(api.http, api.keys["auditor"])
    page = await api.http.get(f"/console/audit/orders/{order_id}")
    assert f"/console/audit/orders/{order_id}/dossier.pdf" in page.text
    console_pdf = await api.http.get(f"/console/audit/orders/{order_id}/dossier.pdf")
    assert console_pdf.status_code == 200 and console_pdf.content.startswith(b"%PDF")
