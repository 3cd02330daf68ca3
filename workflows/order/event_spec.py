"""What an order event type declares once, next to its data class (event_data.py EVENTS).

Everything else that used to be written per event type is derived from these declarations:
the stages the validator admits it in (rules.py ALLOWED_IN), who may send it
(api/permissions.py), the customer notice it gives and the webhook event type of that notice
(activities/order/notices.py, db/notifications/outbox.py NotificationEvent), its words in the
console's two languages (console/i18n.py), the HTTP body of an event without a hand-written
one (api/orders/events.py) and the console's generic "record event" form
(console/orders/record.py).

Pure data: the workflow, the database layer and the API all read it, so it imports nothing
but the order's payload types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from workflows.order.types import EventType, Stage

# Words in each language the console and the notices speak: {"en": ..., "zh-CN": ...}.
Words = Mapping[str, str]


class SentBy(StrEnum):
    """Who may post the event (api/permissions.py turns it into roles)."""

    INTEGRATION = "integration"  # the machines on the path (and staff entering it by hand)
    STAFF = "staff"  # a staff decision: operators, supervisors, admins only


@dataclass(frozen=True)
class FormField:
    """One field of the console's form for the event: a field of its data class.

    `options`: for a Literal field, the catalogue group naming its values (e.g.
    "order.exception_reason" reads "order.exception_reason.lost"); None shows the codes.
    """

    label: Words
    options: str | None = None


@dataclass(frozen=True)
class EventSpec:
    """One order event type, declared once.

    Attributes:
        data: its data class in event_data.py.
        allowed_in: the stages whose orders take it (the validator's `invalid_transition`).
        sent_by: who may post it.
        label: its name in both languages (the timeline, the console's forms).
        notice: it tells the customer: the notification event type `order.<type>` (a template
            `templates/notifications/order.<type>.txt`, both languages in one file).
        quote: the data fields the notice quotes by name, besides the order's own (customer,
            carrier, tracking, ETA, promise) it always carries.
        form: the console offers staff a form to record it, with these fields (in this order);
            empty: no generic console form.
    """

    data: type
    allowed_in: frozenset[Stage]
    sent_by: SentBy
    label: Words
    notice: bool = False
    quote: tuple[str, ...] = ()
    form: Mapping[str, FormField] = field(default_factory=dict)


def notice_type(event_type: EventType) -> str:
    """The notification event type of the customer notice an order event gives."""
    return f"order.{event_type.value}"
