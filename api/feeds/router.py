"""Carrier feeds over HTTP (README "Carrier feeds").

* `POST /v1/carrier-feeds/kuaidi100`: Kuaidi100's subscription push. PUBLIC (Kuaidi100 holds
  no API key of ours) but signed: `sign` must be upper(MD5(param + kuaidi100_salt)). Answered
  in Kuaidi100's shape (`result`, `returnCode`, `message`), a refusal with the API's error
  `code` beside it.
* `POST /v1/carrier-feeds/events`: the generic feed (api/feeds/generic.py), by API key.
* `GET /v1/carrier-feeds/pushes`: what carriers pushed and how it ended, for operators
  (`?outcome=unroutable`: events no order could be found for).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from temporalio.service import RPCError

from api.deps import Principal, SessionDep, SettingsDep, TemporalDep, require
from api.edge.units import Db, DbDep
from api.errors import ApiError
from api.feeds import kuaidi100
from api.feeds.generic import GenericEvent
from api.feeds.service import Delivered, Poster, post
from api.keys import scope as key_scope
from api.pagination import decode_cursor, keyset_page
from config import Settings
from db.feeds import queries as repo
from db.feeds.models import PushOutcome
from observability.metrics import carrier_push
from shared.carriers import Carriers

log = logging.getLogger("waybill.feeds")

router = APIRouter(prefix="/v1/carrier-feeds", tags=["carrier feeds"])

Feeder = Annotated[Principal, Depends(require("carrier_feed.post"))]
Reader = Annotated[Principal, Depends(require("carrier_feed.read"))]

KUAIDI100_ACTOR = "kuaidi100"
CARRIER_SOURCE = "carrier"  # the timeline's source of a signed push (no key posted it)
FORM_FIELDS_MAX = 20


def _carrier_answer(status: int, ok: bool, return_code: str, message: str,
                    code: str | None = None, retry_after: float | None = None) -> JSONResponse:
    body: dict[str, Any] = kuaidi100.answer(ok, return_code, message)
    if code is not None:  # the API's machine-readable code, beside what Kuaidi100 reads
        body["error"] = {"code": code, "message": message}
    headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
    return JSONResponse(body, status_code=status, headers=headers)


def _form(raw: bytes) -> dict[str, str] | None:
    """The urlencoded form's fields (first value each); None if it is not one."""
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                          max_num_fields=FORM_FIELDS_MAX)
    except (UnicodeDecodeError, ValueError):
        return None
    return {name: values[0] for name, values in fields.items()}


@router.post("/kuaidi100", response_model=None, responses={
    200: {"description": "taken (`result` true): applied, duplicate, refused by its order or "
                         "unroutable (kept for operators)"},
    400: {"description": "invalid_push: no `param`, or not Kuaidi100's JSON"},
    401: {"description": "bad_signature: `sign` is not upper(MD5(param + salt))"},
    503: {"description": "feed_not_configured (no salt), or the database or Temporal is "
                         "unavailable: `result` false, Kuaidi100 pushes again"}})
async def kuaidi100_push(request: Request, db: DbDep, client: TemporalDep,
                         settings: SettingsDep) -> JSONResponse:
    """Kuaidi100's push (form fields `param`, `sign`): each scan of `lastResult.data` this
    Waybill has not settled yet becomes an order event, oldest first."""
    form = _form(await request.body())
    param, sign = (form or {}).get("param", ""), (form or {}).get("sign", "")
    if not param:
        carrier_push(kuaidi100.FEED, "invalid")
        return _carrier_answer(400, False, "400", "no param", "invalid_push")
    if settings.kuaidi100_salt is None:
        log.error("kuaidi100 push refused: no WAYBILL_KUAIDI100_SALT configured")
        carrier_push(kuaidi100.FEED, "not_configured")
        return _carrier_answer(503, False, "500", "feed not configured", "feed_not_configured",
                               retry_after=settings.retry_after_seconds)
    if not sign or not kuaidi100.signed(param, sign, settings.kuaidi100_salt.get_secret_value()):
        # Logged without the payload: it names people (signers, couriers' phones).
        log.warning("kuaidi100 push refused: bad signature",
                    extra={"param_chars": len(param), "signed": bool(sign)})
        carrier_push(kuaidi100.FEED, "bad_signature")
        return _carrier_answer(401, False, "401", "签名错误 bad signature", "bad_signature")
    try:
        push = kuaidi100.parse(param)
    except kuaidi100.BadPush as exc:
        log.warning("kuaidi100 push refused: unreadable", extra={"error": str(exc)})
        carrier_push(kuaidi100.FEED, "invalid")
        return _carrier_answer(400, False, "400", "param is not a push", "invalid_push")
    if push.status == "abort":
        # Kuaidi100 gave up tracking (no record for days, or no change for 60 days). Its scans,
        # if any, still count; whether to subscribe again is an operator's call.
        log.warning("kuaidi100 tracking ended", extra={
            "status": push.status, "message": (push.message or "")[:200]})
    events, unreadable = kuaidi100.scans(push)
    if unreadable:
        log.warning("kuaidi100 scans without a readable time skipped",
                    extra={"skipped": unreadable})
    carriers = Carriers(settings.carrier_codes)
    poster = Poster(actor=KUAIDI100_ACTOR, source=CARRIER_SOURCE)
    try:
        for event in events:
            for result in await post(db, client, settings, carriers, event, poster):
                carrier_push(kuaidi100.FEED, result.outcome)
    except (RPCError, DBAPIError, PoolTimeout) as exc:
        return _unavailable(exc, settings)
    except ApiError as exc:
        if exc.status < 500:
            raise
        return _unavailable(exc, settings)
    return _carrier_answer(200, True, "200", "成功")


def _unavailable(exc: Exception, settings: Settings) -> JSONResponse:
    log.error("kuaidi100 push not taken; it will be pushed again",
              extra={"error": type(exc).__name__})
    carrier_push(kuaidi100.FEED, "unavailable")
    return _carrier_answer(503, False, "500", "暂不可用，请稍后重推 unavailable, push again",
                           "service_unavailable", retry_after=settings.retry_after_seconds)


# -- the generic feed -------------------------------------------------------------------------

class OrderOutcome(BaseModel):
    order_id: str | None = Field(description="None: no order has this carrier and tracking "
                                             "number (kept, listed as unroutable)")
    outcome: str = Field(description="applied, duplicate, refused or unroutable")
    stage: str | None = None
    code: str | None = Field(default=None, description="a refusal's code")


class FeedAccepted(BaseModel):
    """Taken: every outcome is final, nothing to send again (a refusal by the order is final
    too: sending it again changes nothing)."""

    accepted: bool = True
    event_id: str = Field(description="the order event's id derived from the carrier's event")
    type: str = Field(description="tracking_scan, delivered or delivery_exception")
    orders: list[OrderOutcome]


def _outcome(result: Delivered) -> OrderOutcome:
    return OrderOutcome(order_id=result.order_id, outcome=result.outcome, stage=result.stage,
                        code=result.code)


@router.post("/events", response_model=FeedAccepted, responses={
    403: {"description": "forbidden: the key may not post carrier events (or not for this "
                         "order, a scoped key)"}})
async def generic_event(body: GenericEvent, who: Feeder, db: DbDep, client: TemporalDep,
                        settings: SettingsDep) -> FeedAccepted:
    """One carrier event in AfterShip's vocabulary, routed by carrier and tracking number."""
    event = body.normalised()
    try:
        event.body()
    except ValueError as exc:  # the order event the API itself would refuse
        raise ApiError(422, "invalid_event", "this carrier event makes no valid order event",
                       error=str(exc)[:300]) from None
    if key_scope.limited(who):
        await _check_scope(db, who, event.tracking_no, event.type.value)
    results = await post(db, client, settings, Carriers(settings.carrier_codes), event,
                         Poster(actor=who.name, source=who.role.value))
    for result in results:
        carrier_push(event.feed, result.outcome)
    return FeedAccepted(event_id=event.event_id, type=event.type.value,
                        orders=[_outcome(r) for r in results])


async def _check_scope(db: Db, who: Principal, tracking_no: str, event_type: str) -> None:
    """A scoped key posts only what it may post, to orders it may post to."""
    for shipped in await db.run(repo.orders_with_tracking_no, tracking_no):
        await db.run(key_scope.check_order, shipped.order_id, who, "order.event", event_type)


# -- the record, for operators ----------------------------------------------------------------

class PushView(BaseModel):
    feed: str
    carrier: str
    tracking_no: str
    event_id: str
    event_type: str
    carrier_status: str
    occurred_at: datetime
    order_id: str | None
    outcome: str
    code: str | None
    pushes: int
    first_seen_at: datetime
    last_seen_at: datetime


class PushPage(BaseModel):
    items: list[PushView]
    next_cursor: str | None


OUTCOMES = (PushOutcome.APPLIED, PushOutcome.DUPLICATE, PushOutcome.REFUSED,
            PushOutcome.UNROUTABLE)


@router.get("/pushes", response_model=PushPage)
def list_pushes(_: Reader, session: SessionDep,
                outcome: str | None = Query(default=None, pattern="^(" + "|".join(OUTCOMES)
                                            + ")$"),
                tracking_no: str | None = Query(default=None, min_length=1, max_length=120),
                limit: int = Query(default=50, ge=1, le=200),
                cursor: str | None = None) -> PushPage:
    """Carrier events received, newest first: where each went and how it ended."""
    rows = repo.list_pushes(session, outcome, tracking_no, limit + 1,
                            decode_cursor(cursor) if cursor else None)
    page, next_cursor = keyset_page(rows, limit, lambda r: (r.first_seen_at, r.id))
    return PushPage(items=[PushView.model_validate(r, from_attributes=True) for r in page],
                    next_cursor=next_cursor)
