"""Carrier events into orders: routed by carrier and tracking number, posted one by one through
the orders' own `submit_event` (so idempotency by event id, the workflow's checks, notices and
breaches apply exactly as for any posted event), each outcome recorded (db/feeds/).

Routing: the orders whose `tracking_no` is the push's and whose carrier is the push's
(shared/carriers.py: the same name or the same Kuaidi100 code). Orders whose carrier the
table cannot compare (a name it does not know) are taken when no order matches for sure; an
order whose carrier is known to be another never is. No order: the event is recorded
`unroutable` (listed for operators), the carrier is answered as if taken, and the next push
(each Kuaidi100 push repeats the parcel's whole history) tries again.

Outcomes per order: `applied`; `duplicate` (the order has it: a repeated push, or an event
this record already settled, which is then not sent to Temporal again); `refused` (the order's
workflow refused it, e.g. a delivery exception after delivery, an older scan before shipping:
recorded with its code, and the carrier is still answered with success, since sending it again
would change nothing). A failure to reach the database or Temporal is raised: the carrier is
told to push again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session
from temporalio.client import Client

from api.edge.units import Db
from api.errors import ApiError
from api.feeds.events import CarrierEvent
from api.orders.service import submit_event
from config import Settings
from db.feeds import queries as repo
from db.feeds.models import PushOutcome
from shared.carriers import Carriers

log = logging.getLogger("waybill.feeds")

SETTLED = frozenset({PushOutcome.APPLIED, PushOutcome.DUPLICATE, PushOutcome.REFUSED})


@dataclass(frozen=True)
class Delivered:
    """How one carrier event ended for one order (order_id None: routed nowhere)."""

    order_id: str | None
    outcome: str
    stage: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class Poster:
    """Who posts: the feed's actor and source on the order's timeline, and a key's scope
    check (None: the feed itself, a signed push)."""

    actor: str
    source: str


def route(session: Session, carriers: Carriers, event: CarrierEvent
          ) -> tuple[list[str], dict[str | None, str]]:
    """The orders `event` goes to, and how it ended for each so far."""
    shipped = repo.orders_with_tracking_no(session, event.tracking_no)
    verdicts = {o.order_id: carriers.verdict(o.carrier, event.carrier) for o in shipped}
    sure = [o for o, v in verdicts.items() if v == "same"]
    maybe = [o for o, v in verdicts.items() if v == "unknown"]
    return (sure or maybe), repo.outcomes(session, event.event_id)


def _record(session: Session, event: CarrierEvent, order_id: str | None, outcome: str,
            code: str | None = None) -> None:
    repo.record(session, repo.PushRecord(
        feed=event.feed, carrier=event.carrier, tracking_no=event.tracking_no,
        event_id=event.event_id, event_type=event.type.value,
        carrier_status=event.carrier_status, occurred_at=event.occurred_at,
        order_id=order_id, outcome=outcome, code=code), datetime.now(UTC))
    if order_id is not None:
        repo.settle_unroutable(session, event.event_id)


async def post(db: Db, client: Client, settings: Settings, carriers: Carriers,
               event: CarrierEvent, poster: Poster) -> list[Delivered]:
    """Post `event` to every order it is routed to; what happened, per order."""
    orders, known = await db.run(route, carriers, event)
    if not orders:
        await db.run(_record, event, None, PushOutcome.UNROUTABLE)
        log.info("carrier event unroutable", extra={
            "feed": event.feed, "carrier": event.carrier, "event_id": event.event_id})
        return [Delivered(order_id=None, outcome=PushOutcome.UNROUTABLE)]
    body = event.body()
    results = []
    for order_id in orders:
        if known.get(order_id) in SETTLED:  # settled by an earlier push: not sent again
            await db.run(repo.seen_again, event.event_id, order_id, datetime.now(UTC))
            results.append(Delivered(order_id=order_id, outcome=PushOutcome.DUPLICATE))
            continue
        results.append(await _post_one(db, client, settings, event, order_id, body, poster))
    return results


async def _post_one(db: Db, client: Client, settings: Settings, event: CarrierEvent,
                    order_id: str, body: dict[str, object], poster: Poster) -> Delivered:
    try:
        accepted = await submit_event(db, client, settings, order_id, dict(body), poster.actor,
                                      poster.source)
    except ApiError as exc:
        if exc.status >= 500 or exc.status in (401, 403, 429):
            raise  # not the order's answer: the carrier is told to push again
        # The order refused it (or, event_id_reused, holds another body under its id: a
        # repeated scan the carrier re-worded). Sending it again would change nothing.
        outcome = PushOutcome.DUPLICATE if exc.code == "event_id_reused" \
            else PushOutcome.REFUSED
        await db.run(_record, event, order_id, outcome, exc.code)
        log.info("carrier event refused by its order", extra={
            "feed": event.feed, "event_id": event.event_id, "order_id": order_id,
            "code": exc.code})
        return Delivered(order_id=order_id, outcome=outcome, code=exc.code)
    outcome = PushOutcome.DUPLICATE if accepted.duplicate else PushOutcome.APPLIED
    await db.run(_record, event, order_id, outcome)
    return Delivered(order_id=order_id, outcome=outcome, stage=accepted.stage)
