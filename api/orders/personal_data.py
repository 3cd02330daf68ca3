"""An erasure request for a closed order's personal data (issue 17 §6): what the daily
retention run does after `personal_data_retention_days`, done now for one order, through the
same service (db/personal/retention.py `erase`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.deps import Principal, SessionDep, require
from api.errors import ApiError
from api.orders import service
from db.personal import retention

router = APIRouter(prefix="/v1/orders", tags=["orders"])

Eraser = Annotated[Principal, Depends(require("order.personal_data.redact"))]
SOURCE = "api"


class Redaction(BaseModel):
    order_id: str
    already_redacted: bool = Field(description="it was redacted before: nothing was done")
    values: int = Field(description="personal values overwritten or deleted")
    inline_kept: int = Field(description="personal values in timeline rows recorded before "
                             "redaction existed (migration 0017), which the audit chain "
                             "keeps: see README, Retention of personal data")


@router.post("/{order_id}/personal-data/redact", response_model=Redaction,
             responses={404: {"description": "order_not_found"},
                        409: {"description": "order_open: neither closed nor cancelled; "
                                             "case_open: a claim or complaint is still open"}},
             description="Redacts the order's personal data now (customer, destination, "
                         "signer, free texts of the order, its claims, complaints, "
                         "escalations and notifications); each reads `[redacted]` from then "
                         "on. Recorded as a `personal_data_redacted` event in the order's "
                         "audit chain, which still verifies. Idempotent.")
def redact_personal_data(order_id: str, who: Eraser, session: SessionDep) -> Redaction:
    service.load_order(session, order_id)
    try:
        done = retention.erase(session, order_id, datetime.now(UTC), who.name, SOURCE)
    except retention.NotRedactable as refused:
        raise ApiError(409, refused.code, str(refused), order_id=order_id) from refused
    return Redaction(order_id=order_id, already_redacted=done.already, values=done.values,
                     inline_kept=done.inline_kept)
