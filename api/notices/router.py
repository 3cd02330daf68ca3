"""Staff read and set a customer's notice channels:
`GET`/`PUT /v1/customers/{customer_id}/notice-preferences` (the customer sets them through the
opt-out link in every message: api/notices/opt_out.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.deps import Principal, SessionDep, require
from api.notices import service
from api.notices.schemas import NoticePreferences, NoticePreferencesIn

router = APIRouter(prefix="/v1/customers", tags=["customers"])

# What an order's customer id may be (api/schemas.py `Id`): any other is no customer of ours.
CustomerId = Annotated[str, Path(min_length=1, max_length=64,
                                 pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
Reader = Annotated[Principal, Depends(require("customer.notice_preferences.read"))]
Writer = Annotated[Principal, Depends(require("customer.notice_preferences.write"))]


@router.get("/{customer_id}/notice-preferences", response_model=NoticePreferences,
            description="The customer's notice channels; a customer who never chose gets "
                        "every channel (`choice: both`, `updated_at: null`).")
def get_preferences(customer_id: CustomerId, _: Reader,
                    session: SessionDep) -> NoticePreferences:
    return service.get(session, customer_id)


@router.put("/{customer_id}/notice-preferences", response_model=NoticePreferences,
            description="Set the customer's notice channels (e-mail, SMS, both or none), e.g. "
                        "when they ask by phone. Applies to notices written from now on; the "
                        "customer may change it again through the link in every message.")
def put_preferences(customer_id: CustomerId, body: NoticePreferencesIn, who: Writer,
                    session: SessionDep) -> NoticePreferences:
    return service.put(session, customer_id, body.email, body.sms, who.name)
