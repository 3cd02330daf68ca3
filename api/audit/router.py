"""An order's audit chain: verify it, or export it to verify offline (issue 17 §3)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.audit import service
from api.audit.schemas import ChainVerdict
from api.deps import Principal, SessionDep, SettingsDep, require

router = APIRouter(prefix="/v1/orders", tags=["audit"])

Auditor = Annotated[Principal, Depends(require("order.audit"))]
JSONL = "application/x-ndjson; charset=utf-8"


@router.get("/{order_id}/audit/verify", response_model=ChainVerdict,
            description="Walks the order's audit chain (its events, escalation steps, claim and "
                        "complaint events and documents) and names the first broken link: a "
                        "row edited, deleted or inserted around the chain, a link edited, "
                        "deleted or reordered, or a head that no longer matches its signed "
                        "checkpoint.")
def verify_chain(order_id: str, _: Auditor, session: SessionDep,
                 settings: SettingsDep) -> ChainVerdict:
    return service.verify(session, settings, order_id)


@router.get("/{order_id}/audit/chain", response_class=Response,
            responses={200: {"content": {JSONL: {}},
                             "description": "a link a line, each with its row's canonical "
                                            "content (null if the row is gone)"}},
            description="The order's audit chain as JSON Lines, to verify offline with the "
                        "README's script.")
def export_chain(order_id: str, _: Auditor, session: SessionDep) -> Response:
    body = "".join(service.export_lines(session, order_id))
    return Response(body, media_type=JSONL, headers={
        "Content-Disposition": f'attachment; filename="audit-chain-{_safe(order_id)}.jsonl"'})


def _safe(order_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in order_id)
