"""The order's event rules: which events each stage takes, which wait for the customer's
decision, where a claim may be opened, which delivery conditions open one by themselves."""

from __future__ import annotations

from workflows.claim.types import ClaimCause
from workflows.order.event_data import (
    DeliveredData,
    EventData,
    PickedData,
    ShippedData,
    ShortageData,
    ShortageDecisionData,
)
from workflows.order.records import QtyLine
from workflows.order.types import (
    AFTER_DELIVERY,
    BEFORE_SHIPMENT,
    MOVING,
    TERMINAL_STAGES,
    EventType,
    OrderInput,
    Stage,
    SystemEventType,
    TimelineEntry,
)

# Which stages each posted event may arrive in. One table, read by the validator.
ALLOWED_IN: dict[EventType, frozenset[Stage]] = {
    EventType.CONFIRMED: frozenset({Stage.RECEIVED}),
    EventType.PICKED: frozenset({Stage.CONFIRMED}),
    EventType.SHIPPED: frozenset({Stage.PICKED}),
    EventType.TRACKING_SCAN: MOVING | AFTER_DELIVERY,
    EventType.DELIVERED: MOVING,
    EventType.RECEIPT_RETURNED: AFTER_DELIVERY,
    EventType.SURVEY_RESPONSE: AFTER_DELIVERY,
    EventType.CANCELLED: BEFORE_SHIPMENT,
    EventType.NOTE: frozenset(Stage) - TERMINAL_STAGES,
    EventType.PROMISE_CHANGED: BEFORE_SHIPMENT | MOVING,
    EventType.STOCK_SHORTAGE: frozenset({Stage.RECEIVED, Stage.CONFIRMED}),
    EventType.SHORTAGE_DECISION: BEFORE_SHIPMENT,
    EventType.DELIVERY_EXCEPTION: MOVING,
    EventType.FOLLOW_UP_CALL: AFTER_DELIVERY,
}
# Events that move the goods on: held while the customer's shortage decision is awaited.
HELD_BY_DECISION = frozenset({EventType.CONFIRMED, EventType.PICKED, EventType.SHIPPED,
                              EventType.STOCK_SHORTAGE})
CLAIM_STAGES = MOVING | AFTER_DELIVERY  # where a claim may be opened by hand
# Delivered in these conditions, the order opens a claim by itself.
CLAIM_CONDITIONS = {"damaged": ClaimCause.DAMAGED, "short": ClaimCause.SHORT,
                    "refused": ClaimCause.REFUSED}


def lines_named(data: EventData) -> tuple[QtyLine, ...]:
    """The SKU lines an event names (each must be on the order)."""
    if isinstance(data, PickedData | ShippedData | DeliveredData | ShortageData
                  | ShortageDecisionData):
        return data.lines or ()
    return ()


def created_entry(inp: OrderInput) -> TimelineEntry:
    """The order's first timeline entry; the API writes the same one with the order row."""
    return TimelineEntry(
        event_id="order-created",
        type=SystemEventType.ORDER_CREATED,
        occurred_at=inp.received_at,
        recorded_at=inp.recorded_at or inp.received_at,
        actor=inp.actor,
        source=inp.source,
        data={
            "policy": {"name": inp.policy.name, "version": inp.policy.version},
            "promised_ship_by": inp.promised_ship_by.isoformat(),
            "promised_delivery_by": inp.promised_delivery_by.isoformat(),
        },
    )
