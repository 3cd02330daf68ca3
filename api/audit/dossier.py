"""One order's audit dossier as a PDF, rendered on the server (issue 17 §5): the order's header,
its story as the console tells it (sentences in the chosen language, times to the second in the
chosen zone, what people wrote in full), the documents its audit chain links with their SHA-256,
and the chain's verification result.

Chinese needs a font with CJK glyphs: the first file of `audit_pdf_fonts` that exists (a `.ttc`
collection is read at its Simplified Chinese face), embedded as a subset. No such file is a 503
`pdf_font_missing` and an error log line naming the paths tried: the dossier would otherwise
print blanks where the Chinese text is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTCollection
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from sqlalchemy.orm import Session

from api.audit import service
from api.audit.schemas import ChainVerdict
from api.errors import ApiError
from config import Settings
from console.audit import story as told
from console.i18n import Viewer
from db.orders import exports as repo
from db.orders import story as story_repo
from db.orders.models import Order
from db.orders.queries import get_order

log = logging.getLogger("waybill.api.audit")
FAMILY = "cjk"
# Text sizes (points) and the gap between items (millimetres).
_TITLE, _HEADING, _BODY, _SMALL, _GAP = 15, 12, 9.5, 8, 1.5


@lru_cache(maxsize=4)
def cjk_font(candidates: tuple[str, ...]) -> tuple[str, int] | None:
    """The first candidate file that exists, and which face of it to use: in a collection the
    Simplified Chinese one (its name ends in "SC"), else the first."""
    for name in candidates:
        path = Path(name)
        if not path.is_file():
            continue
        if path.suffix.lower() != ".ttc":
            return str(path), 0
        faces = [str(f["name"].getDebugName(4) or "") for f in TTCollection(str(path),
                                                                            lazy=True).fonts]
        sc = [i for i, face in enumerate(faces) if face.endswith(" SC") and "Mono" not in face]
        return str(path), sc[0] if sc else 0
    return None


def font_or_503(settings: Settings) -> tuple[str, int]:
    found = cjk_font(tuple(settings.audit_pdf_fonts))
    if found is None:
        log.error("no CJK font for the PDF dossier", extra={"tried": settings.audit_pdf_fonts})
        raise ApiError(503, "pdf_font_missing",
                       "no font with Chinese glyphs is installed for the PDF dossier; install "
                       "fonts-noto-cjk or set WAYBILL_AUDIT_PDF_FONTS", tried=len(
                           settings.audit_pdf_fonts))
    return found


class _Dossier(FPDF):
    def __init__(self, viewer: Viewer, font: tuple[str, int], footer_text: str) -> None:
        super().__init__(format="A4")
        self.viewer, self.footer_text = viewer, footer_text
        self.add_font(FAMILY, "", font[0], collection_font_number=font[1])
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)
        # Chinese has no spaces to break lines at: break between any two characters.
        self.wrap = WrapMode.CHAR if viewer.locale.startswith("zh") else WrapMode.WORD

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, size=_SMALL)
        self.cell(0, 5, f"{self.footer_text} · {self.page_no()}", align="C")

    def para(self, text: str, size: float = _BODY, height: float = 5) -> None:
        self.set_font(FAMILY, size=size)
        self.multi_cell(0, height, text, wrapmode=self.wrap, new_x=XPos.LMARGIN,
                        new_y=YPos.NEXT)

    def heading(self, text: str) -> None:
        self.ln(_GAP * 2)
        self.para(text, _HEADING, 7)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(_GAP)

    def pairs(self, rows: Sequence[tuple[str, str]]) -> None:
        for label, value in rows:
            self.para(f"{label}: {value}")


def _header_rows(viewer: Viewer, order: Order) -> list[tuple[str, str]]:
    t = viewer.t
    customer: dict[str, Any] = order.customer or {}
    return [(t("dossier.field.order_id"), order.order_id),
            (t("dossier.field.customer"), f"{customer.get('name', '-')} ({order.customer_id})"),
            (t("dossier.field.tier"), viewer.code("tier", order.customer_tier)),
            (t("dossier.field.stage"), viewer.code("stage", order.stage)),
            (t("dossier.field.created_at"), viewer.instant(order.created_at))]


def _chain_text(viewer: Viewer, verdict: ChainVerdict) -> str:
    if verdict.ok:
        return viewer.t("dossier.chain_ok", links=verdict.links_checked)
    lines = [viewer.t("dossier.chain_broken", links=verdict.links_checked,
                      count=len(verdict.problems))]
    lines += [viewer.t("dossier.chain_problem", problem=b.problem, message=b.message)
              for b in verdict.problems]
    return "\n".join(lines)


def render(session: Session, settings: Settings, viewer: Viewer, order_id: str,
           who: str) -> bytes:
    """The dossier's PDF bytes.

    Raises:
        ApiError: 503 `pdf_font_missing`; 404 `order_not_found`.
    """
    font = font_or_503(settings)  # before any database work: without it there is no dossier
    service.check_exists(session, order_id)
    order = get_order(session, order_id)
    if order is None:  # a complaint's own chain has no order to make a dossier of
        raise ApiError(404, "order_not_found", f"order {order_id} does not exist",
                       order_id=order_id)
    verdict = service.verify(session, settings, order_id)
    story = story_repo.story(session, order_id)
    documents = repo.order_documents(session, order_id)
    t = viewer.t
    now = datetime.now(UTC)
    pdf = _Dossier(viewer, font, t("dossier.title", order_id=order_id))
    pdf.set_title(t("dossier.title", order_id=order_id))
    pdf.set_creator("Waybill")
    pdf.set_creation_date(now)
    pdf.add_page()
    pdf.para(t("dossier.title", order_id=order_id), _TITLE, 9)
    pdf.para(t("dossier.generated", at=viewer.instant(now), zone=viewer.zone, who=who), _SMALL)

    pdf.heading(t("dossier.header"))
    pdf.pairs(_header_rows(viewer, order))

    pdf.heading(t("dossier.chain"))
    pdf.para(_chain_text(viewer, verdict))

    pdf.heading(t("dossier.story"))
    if story.truncated:
        pdf.para(t("dossier.truncated", limit=story_repo.STORY_LIMIT), _SMALL)
    for row in told.rows(viewer, story.items):
        pdf.para(f"{row.occurred} · {row.sentence}")
        details = [*row.texts, *row.facts,
                   f"{row.actor} · {row.source} · {row.kind}/{row.type} · {row.recorded}"]
        for line in details:
            pdf.set_x(pdf.l_margin + 5)
            pdf.set_font(FAMILY, size=_SMALL)
            pdf.multi_cell(0, 4, line, wrapmode=pdf.wrap, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(_GAP)

    pdf.heading(t("dossier.documents"))
    if not documents:
        pdf.para(t("dossier.documents_none"))
    for doc in documents:
        pdf.pairs([(t("dossier.doc.sha256"), doc.sha256),
                   (t("dossier.doc.content_type"), doc.content_type),
                   (t("dossier.doc.size"), str(doc.size)),
                   (t("dossier.doc.created"), f"{viewer.instant(doc.created_at)} · "
                                              f"{doc.created_by}")])
        pdf.ln(_GAP)
    return bytes(pdf.output())
