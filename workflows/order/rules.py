"""The order's event rules: which events each stage takes, which wait for the customer's
decision, where a claim may be opened, which delivery conditions open one by themselves, and
`check_event`, everything the order's validator refuses once the event is parsed.

Pure functions of the state: the validator calls them, and they issue no commands."""

from __future__ import annotations

from workflows.claim.types import ClaimCause
from workflows.order.event_data import (
    EVENTS,
    DeliveredData,
    EventData,
    FollowUpCallData,
    PickedData,
    PromiseChangedData,
    ReceiptData,
    ShippedData,
    ShortageData,
    ShortageDecisionData,
    SurveyData,
)
from workflows.order.records import QtyLine
from workflows.order.types import (
    AFTER_DELIVERY,
    BEFORE_SHIPMENT,
    MOVING,
    EventInput,
    EventType,
    FollowUpStatus,
    LineState,
    OrderInput,
    OrderState,
    Stage,
    SystemEventType,
    TimelineEntry,
)
from workflows.rejections import reject

# Which stages each posted event may arrive in, read by the validator: each event type's
# declaration says it (event_data.py EVENTS).
ALLOWED_IN: dict[EventType, frozenset[Stage]] = {t: spec.allowed_in for t, spec in EVENTS.items()}
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


def opening_state(inp: OrderInput) -> OrderState:
    """The state an order starts from; the API stores the same one with the order row."""
    return OrderState(
        order_id=inp.order_id,
        customer=inp.customer,
        lines=[LineState(sku=line.sku, ordered=line.qty) for line in inp.lines],
        destination=inp.destination,
        promised_ship_by=inp.promised_ship_by,
        promised_delivery_by=inp.promised_delivery_by,
        policy=inp.policy,
        stage=Stage.RECEIVED,
        stage_times={Stage.RECEIVED.value: inp.received_at},
        declared_value_minor=inp.declared_value_minor,
        weight_kg=inp.weight_kg,
    )


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


def check_stage(s: OrderState, inp: EventInput) -> None:
    """`invalid_transition` unless the order's stage takes this event (ALLOWED_IN)."""
    repick = inp.type == EventType.PICKED and s.repick_since is not None
    if s.stage not in ALLOWED_IN[inp.type] and not repick:
        raise reject("invalid_transition", f"{inp.type} is not allowed in stage {s.stage}",
                     current_stage=s.stage.value, event_type=inp.type.value)


def check_event(s: OrderState, inp: EventInput, data: EventData, v2: bool) -> None:
    """Refuse what the order cannot take now, once its stage takes the event type.

    `v2`: EXCEPTIONS_PATCH (workflow.py); before it a receipt could not be returned twice.
    """
    stage = s.stage
    if isinstance(data, ReceiptData) and s.receipt is not None:
        _check_receipt_version(s, inp, data, v2)
    if s.decision is not None and inp.type in HELD_BY_DECISION:
        raise reject("decision_pending", "the customer's shortage decision is awaited",
                     current_stage=stage.value, event_type=inp.type.value,
                     decision_due_at=s.decision.due_at.isoformat())
    if isinstance(data, ShortageDecisionData):
        _check_decision(s, data)
    if isinstance(data, SurveyData | FollowUpCallData):
        status = s.survey.status if s.survey else None
        open_for = (FollowUpStatus.DUE,) if isinstance(data, SurveyData) \
            else (FollowUpStatus.PENDING, FollowUpStatus.DUE)
        if status not in open_for:
            raise reject("invalid_transition", "the follow-up is not awaiting an answer",
                         current_stage=stage.value, event_type=inp.type.value,
                         survey_status=status)
    if isinstance(data, PromiseChangedData):
        _check_promise(s, inp, data)
    ordered = {line.sku for line in s.lines}
    unknown = sorted({line.sku for line in lines_named(data)} - ordered)
    if unknown:
        raise reject("unknown_sku", "lines name SKUs that are not on the order", skus=unknown)


def _check_receipt_version(s: OrderState, inp: EventInput, data: ReceiptData, v2: bool) -> None:
    if not v2:
        raise reject("invalid_transition", "the receipt was already returned",
                     current_stage=s.stage.value, event_type=inp.type.value)
    current = s.receipt.document.sha256 if s.receipt else None
    if current == data.document.sha256:
        raise reject("receipt_unchanged", "this document is already the current receipt",
                     sha256=current)


def _check_decision(s: OrderState, data: ShortageDecisionData) -> None:
    if s.decision is None:
        raise reject("decision_not_pending", "no shortage decision is awaited",
                     current_stage=s.stage.value)
    if data.decision == "partial":
        limit = {line.sku: line.ordered for line in s.lines}
        if s.decision.kind == "short_pick":
            limit = {line.sku: line.picked or 0 for line in s.lines}
        over = sorted(line.sku for line in data.lines or ()
                      if line.sku in limit and line.qty > limit[line.sku])
        if over:
            what = "picked" if s.decision.kind == "short_pick" else "ordered"
            raise reject("invalid_quantity", f"agreed quantities exceed what was {what}",
                         skus=over)
    if data.decision == "cancel" and s.stage not in BEFORE_SHIPMENT:
        raise reject("invalid_transition", "the order can no longer be cancelled",
                     current_stage=s.stage.value)


def _check_promise(s: OrderState, inp: EventInput, data: PromiseChangedData) -> None:
    if data.promised_ship_by and s.stage in MOVING:
        raise reject("invalid_transition", "the order has shipped: only the delivery "
                     "promise can still change", current_stage=s.stage.value,
                     event_type=inp.type.value)
    ship = data.promised_ship_by or s.promised_ship_by
    deliver = data.promised_delivery_by or s.promised_delivery_by
    if deliver < ship and s.stage not in MOVING:
        raise reject("invalid_promise", "the delivery promise would fall before the "
                     "ship promise", promised_ship_by=ship.isoformat(),
                     promised_delivery_by=deliver.isoformat())
