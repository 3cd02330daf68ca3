"""Scoped integration keys: what a key limited to event types, customers or carriers may do.

A key's scope (db/keys/queries.py `Scope`, stored on the key) narrows its role, never widens it: the
role is checked first (api/permissions.py), then the scope here, each refusal a 403 with its
own code so an integrator can tell a misconfigured key from a wrong call:

* `key_scope_event_type`: an order event of a type not in the key's list. A key limited to
  event types posts only those events: creating orders, opening claims or complaints are refused
  too; uploading a receipt counts as `receipt_returned`.
* `key_scope_customer`: the order (or the customer named in the body) is not one of the key's
  customers.
* `key_scope_carrier`: the order's carrier (from its `shipped` event) is not one of the key's
  carriers, or the order has not shipped yet; for a `shipped` event, the carrier named in its
  data must be in scope.

Reads are narrowed the same way: a key limited to customers or carriers lists only their
orders, and reading another order (its view or timeline) is the same 403.

Scopes are for integration keys only (api/keys/router.py refuses them on other roles).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from api.deps import Principal
from api.errors import ApiError
from api.orders.service import load_order
from workflows.order.types import EventType


def limited(who: Principal) -> bool:
    return who.scope.limited


def check_event_type(who: Principal, event_type: str | None, action: str) -> None:
    """`event_type` None: a write that is not an order event (`action` names it)."""
    allowed = who.scope.event_types
    if allowed is None or (event_type is not None and event_type in allowed):
        return
    what = f"event type {event_type}" if event_type else action
    raise ApiError(403, "key_scope_event_type", f"this key may not do {what}",
                   action=action, event_type=event_type, allowed=sorted(allowed))


def check_customer(who: Principal, customer_id: str) -> None:
    allowed = who.scope.customers
    if allowed is not None and customer_id not in allowed:
        raise ApiError(403, "key_scope_customer",
                       f"this key may not act for customer {customer_id}",
                       customer_id=customer_id)


def check_carrier(who: Principal, carrier: str | None) -> None:
    allowed = who.scope.carriers
    if allowed is not None and (carrier is None or carrier not in allowed):
        raise ApiError(403, "key_scope_carrier",
                       f"this key may not act for carrier {carrier}" if carrier else
                       "this key acts for carriers only, and the order has not shipped",
                       carrier=carrier)


def check_read(session: Session, order_id: str, who: Principal) -> None:
    """A read of one order by a key limited to customers or carriers (404 if there is none)."""
    if who.scope.customers is None and who.scope.carriers is None:
        return
    row = load_order(session, order_id)
    check_customer(who, row.customer_id)
    check_carrier(who, row.carrier)


def check_order(session: Session, order_id: str, who: Principal, action: str,
                event_type: str | None = None, data: dict[str, Any] | None = None) -> None:
    """The scope checks for a write on an existing order (404 if there is none)."""
    check_event_type(who, event_type, action)
    if who.scope.customers is None and who.scope.carriers is None:
        return
    row = load_order(session, order_id)
    check_customer(who, row.customer_id)
    if who.scope.carriers is not None:
        named = (data or {}).get("carrier") if event_type == EventType.SHIPPED.value else None
        check_carrier(who, named if event_type == EventType.SHIPPED.value else row.carrier)
