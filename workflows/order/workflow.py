"""OrderWorkflow: one durable workflow per order, from intake to closure."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

# Payload types come from outside the sandbox so the converter sees the real datetime class.
with workflow.unsafe.imports_passed_through():
    from activities.order.projection import ProjectionActivities
    from workflows.claim.types import ClaimCause, ClaimClosed, OpenClaimInput
    from workflows.escalation.link import EscalationLink
    from workflows.escalation.types import EscalationInput
    from workflows.ids import SYSTEM_ACTOR, SYSTEM_SOURCE, escalation_workflow_id
    from workflows.notify.deliveries import Deliveries
    from workflows.order import search
    from workflows.order.deadlines import ActiveDeadline, active_deadlines, next_follow_up_change
    from workflows.order.exceptions import OrderExceptions
    from workflows.order.follow_up import OrderFollowUp
    from workflows.order.types import (
        AFTER_DELIVERY,
        BEFORE_SHIPMENT,
        MOVING,
        TERMINAL_STAGES,
        Breach,
        ClaimRef,
        Deadline,
        EventInput,
        EventResult,
        EventType,
        FollowUpStatus,
        LineState,
        OrderInput,
        OrderState,
        ProjectionInput,
        Scan,
        Stage,
        Survey,
        SystemEventType,
        TimelineEntry,
    )

    # Imported here although only OrderInput names it: the sandbox resolves a payload's type
    # hints through its own sys.modules, which holds only what this module imports.
    from workflows.policy import SlaPolicy  # noqa: F401
    from workflows.read_model import project
    from workflows.rejections import refuse_before, refuse_repeat
    from workflows.rejections import reject as _reject

# Orders started before claims, complaints, shortages and survey reminders existed replay
# without them: every behaviour that issues new commands checks this patch.
EXCEPTIONS_PATCH = "exceptions-and-after-delivery"
CATCH_UP_PATCH = "catch-up-grace"  # deadlines past before Waybill heard of them wait a grace
# One alarm per wake-up time instead of a timer started and cancelled at every event, and the
# stage search attribute written once per change: a third fewer history events per order.
LEAN_PATCH = "lean-timers-and-attributes"
# Sent this long after it happened, an order or event is a system catching up on a backlog
# (live ones arrive within seconds): only then do deadlines already past wait the grace, so a
# live event racing a deadline's own timer never postpones its breach.
CATCH_UP_LAG = timedelta(minutes=1)
CLAIM_CONDITIONS = {"damaged": ClaimCause.DAMAGED, "short": ClaimCause.SHORT,
                    "refused": ClaimCause.REFUSED}

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
_HELD_BY_DECISION = frozenset({EventType.CONFIRMED, EventType.PICKED, EventType.SHIPPED,
                               EventType.STOCK_SHORTAGE})
_CLAIM_STAGES = MOVING | AFTER_DELIVERY


def _ts(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


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


@workflow.defn
class OrderWorkflow(OrderExceptions, OrderFollowUp):
    @workflow.init
    def __init__(self, inp: OrderInput) -> None:
        self._s = OrderState(
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
        self._event_hashes: dict[str, str] = {}
        self._last_event = "order_created"
        self._changed = False
        self._dirty = True
        self._pending: list[TimelineEntry] = [created_entry(inp)]
        self._escalations = EscalationLink()
        self._deliveries = Deliveries()
        # Child workflows (claims, complaints) to start: (workflow name, input, workflow id).
        self._children: list[tuple[str, Any, str]] = []
        self._v2 = workflow.patched(EXCEPTIONS_PATCH)
        self._catch_up = workflow.patched(CATCH_UP_PATCH)
        self._lean = workflow.patched(LEAN_PATCH)
        self._alarm: datetime | None = None  # the earliest wake-up a timer is running for
        self._alarms: set[asyncio.Task[None]] = set()
        self._shown_stage: str | None = Stage.RECEIVED.value  # as the search attribute says
        if self._catch_up and inp.received_at < workflow.now() - CATCH_UP_LAG:
            self._s.heard_at = workflow.now()
        self._projecting = asyncio.Lock()

    @workflow.run
    async def run(self, inp: OrderInput) -> Stage:
        while True:
            self._changed = False
            self._refresh()
            await self._sync_escalations()
            await self._start_children()
            await self._project()
            if self._s.stage in TERMINAL_STAGES:
                break
            wake = self._next_wakeup()
            if self._lean:
                self._set_alarm(wake)
                await workflow.wait_condition(lambda: self._changed)
                continue
            timeout = None if wake is None else max((wake - workflow.now()).total_seconds(), 0.001)
            with contextlib.suppress(TimeoutError):  # a timer is due: refresh at the loop top
                await workflow.wait_condition(lambda: self._changed, timeout=timeout)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._project()
        await self._deliveries.finish()
        return self._s.stage

    @workflow.query
    def state(self) -> OrderState:
        return self._s

    @workflow.update
    async def apply_event(self, inp: EventInput) -> EventResult:
        now = workflow.now()
        self._event_hashes[inp.event_id] = inp.body_hash
        if self._catch_up and inp.occurred_at < now - CATCH_UP_LAG:
            self._s.heard_at = now
        self._record(inp.event_id, inp.type, inp.occurred_at, inp.data, inp.actor, inp.source,
                     inp.body_hash)
        self._apply(inp, min(inp.occurred_at, now))
        self._last_event = inp.type.value
        self._refresh()
        self._changed = True
        await self._sync_escalations()
        await self._start_children()
        await self._project()
        # The echo only adds to the update's result (no command): histories replay unchanged.
        return EventResult(event_id=inp.event_id, stage=self._s.stage, body_hash=inp.body_hash,
                           request_id=inp.request_id)

    @workflow.update
    async def open_claim(self, inp: OpenClaimInput) -> str:
        """A claim opened by hand; the order stays open until it closes."""
        claim_id = self._open_claim(inp.cause, "manual", inp.actor, inp.source, inp.description)
        self._changed = True
        await self._start_children()
        await self._project()
        return claim_id

    @open_claim.validator
    def _validate_claim(self, inp: OpenClaimInput) -> None:
        stage = self._s.stage
        if stage not in _CLAIM_STAGES:
            raise _reject("invalid_transition", f"a claim cannot be opened in stage {stage}",
                          current_stage=stage.value)

    @workflow.signal
    def claim_closed(self, inp: ClaimClosed) -> None:
        s, now = self._s, workflow.now()
        ref = next((c for c in s.claims if c.claim_id == inp.claim_id), None)
        if ref is None or ref.closed_at is not None:
            return
        ref.closed_at, ref.outcome = now, inp.outcome
        self._record(f"claim-{inp.claim_id}-closed", SystemEventType.CLAIM_CLOSED, now,
                     {"claim_id": inp.claim_id, "outcome": inp.outcome})
        if s.stage in TERMINAL_STAGES:
            pass
        elif s.lost and s.delivery is None and not self._open_claims():
            # The goods are gone and the claim is settled: the exception ends the order.
            s.on_time, s.in_full = False, False
            self._close(now, {"ended_by": "claim", "claim_id": inp.claim_id})
        elif s.stage in AFTER_DELIVERY:
            self._maybe_close(now)
        self._changed = True

    @apply_event.validator
    def _validate_event(self, inp: EventInput) -> None:
        refuse_repeat(self._event_hashes.get(inp.event_id), inp.event_id, inp.body_hash)
        if inp.clock_skew_seconds is not None:
            # Here, not in the API: only the workflow reads the order without a database trip.
            refuse_before(inp.occurred_at, self._s.stage_times[Stage.RECEIVED.value],
                          inp.clock_skew_seconds)
        stage = self._s.stage
        repick = inp.type == EventType.PICKED and self._s.repick_since is not None
        if stage not in ALLOWED_IN[inp.type] and not repick:
            raise _reject("invalid_transition", f"{inp.type} is not allowed in stage {stage}",
                          current_stage=stage.value, event_type=inp.type.value)
        if inp.type == EventType.RECEIPT_RETURNED and self._s.receipt is not None:
            self._check_receipt_version(inp, _reject)
        if self._s.decision is not None and inp.type in _HELD_BY_DECISION:
            raise _reject("decision_pending", "the customer's shortage decision is awaited",
                          current_stage=stage.value, event_type=inp.type.value,
                          decision_due_at=self._s.decision.due_at.isoformat())
        if inp.type == EventType.SHORTAGE_DECISION:
            self._check_decision(inp, _reject)
        if inp.type in (EventType.SURVEY_RESPONSE, EventType.FOLLOW_UP_CALL):
            survey = self._s.survey
            status = survey.status if survey else None
            open_for = (FollowUpStatus.DUE,) if inp.type == EventType.SURVEY_RESPONSE \
                else (FollowUpStatus.PENDING, FollowUpStatus.DUE)
            if status not in open_for:
                raise _reject("invalid_transition", "the follow-up is not awaiting an answer",
                              current_stage=stage.value, event_type=inp.type.value,
                              survey_status=status)
        if inp.type == EventType.PROMISE_CHANGED:
            self._check_promise(inp)
        lines = inp.data.get("lines") or []
        ordered = {line.sku for line in self._s.lines}
        unknown = sorted({line["sku"] for line in lines} - ordered)
        if unknown:
            raise _reject("unknown_sku", "lines name SKUs that are not on the order", skus=unknown)

    # -- applying events ---------------------------------------------------------------------

    def _apply(self, inp: EventInput, at: datetime) -> None:
        s, data = self._s, inp.data
        match inp.type:
            case EventType.CONFIRMED:
                self._enter(Stage.CONFIRMED, at)
            case EventType.PICKED:
                self._set_qty("picked", data["lines"], default=0)
                s.in_full = all((line.picked or 0) >= line.due for line in s.lines)
                s.repick_since = None
                self._enter(Stage.PICKED, at)
                if self._v2 and not s.in_full:
                    self._ask_decision("short_pick", inp.event_id, at, {
                        line.sku: line.picked or 0 for line in s.lines
                        if (line.picked or 0) < line.due})
            case EventType.SHIPPED:
                s.shipment = {k: data.get(k)
                              for k in ("carrier", "tracking_no", "vehicle", "driver")}
                if data.get("lines"):
                    self._set_qty("shipped", data["lines"], default=0)
                self._enter(Stage.SHIPPED, at)
                self._enter(Stage.IN_TRANSIT, at)
                self._record(f"{inp.event_id}-in-transit", SystemEventType.IN_TRANSIT, at, {})
            case EventType.TRACKING_SCAN:
                eta = data.get("eta")
                s.scans.append(Scan(event_id=inp.event_id, occurred_at=inp.occurred_at,
                                    location=data["location"], status=data["status"],
                                    eta=_ts(eta) if eta else None, seen_at=at))
                s.scans.sort(key=lambda scan: (scan.occurred_at, scan.event_id))
            case EventType.DELIVERED:
                self._deliver(data, inp.occurred_at, at)
            case EventType.RECEIPT_RETURNED:
                self._archive_receipt(inp, at)
            case EventType.SURVEY_RESPONSE:
                self._answered(data, data.get("channel") or "api", at)
            case EventType.FOLLOW_UP_CALL:
                self._called(data, inp.actor, at)
            case EventType.CANCELLED:
                self._cancel(data["reason"], at)
            case EventType.PROMISE_CHANGED:
                if data.get("promised_ship_by"):
                    s.promised_ship_by = _ts(data["promised_ship_by"])
                if data.get("promised_delivery_by"):
                    s.promised_delivery_by = _ts(data["promised_delivery_by"])
                self._dirty = True
            case EventType.STOCK_SHORTAGE:
                self._ask_decision("stock_shortage", inp.event_id, at,
                                   {line["sku"]: int(line["qty"]) for line in data["lines"]})
            case EventType.SHORTAGE_DECISION:
                self._decided(inp, at)
            case EventType.DELIVERY_EXCEPTION:
                self._delivery_exception(inp, at)
            case EventType.NOTE:
                pass

    def _check_promise(self, inp: EventInput) -> None:
        s, data = self._s, inp.data
        if data.get("promised_ship_by") and s.stage in MOVING:
            raise _reject("invalid_transition", "the order has shipped: only the delivery "
                          "promise can still change", current_stage=s.stage.value,
                          event_type=inp.type.value)
        ship = _ts(data["promised_ship_by"]) if data.get("promised_ship_by") \
            else s.promised_ship_by
        deliver = _ts(data["promised_delivery_by"]) if data.get("promised_delivery_by") \
            else s.promised_delivery_by
        if deliver < ship and s.stage not in MOVING:
            raise _reject("invalid_promise", "the delivery promise would fall before the "
                          "ship promise", promised_ship_by=ship.isoformat(),
                          promised_delivery_by=deliver.isoformat())

    def _deliver(self, data: dict[str, Any], occurred_at: datetime, at: datetime) -> None:
        s = self._s
        s.delivery = {k: data.get(k) for k in ("signer", "condition", "pod")}
        if data.get("lines"):
            self._set_qty("delivered", data["lines"], default=0)
        for line in s.lines:
            if line.delivered is None:
                line.delivered = next(q for q in (line.shipped, line.picked, line.ordered)
                                      if q is not None)
        s.in_full = data["condition"] == "intact" and all(
            (line.delivered or 0) >= line.due for line in s.lines)
        s.on_time = occurred_at <= s.promised_delivery_by
        due = at + timedelta(seconds=s.policy.survey_after)
        window = timedelta(seconds=s.policy.survey_window)
        s.survey = Survey(status=FollowUpStatus.PENDING, due_at=due, expires_at=due + window,
                          remind_at=due + window / 2 if self._v2 else None)
        self._enter(Stage.DELIVERED, at)
        cause = CLAIM_CONDITIONS.get(data["condition"])
        if self._v2 and cause is not None:
            self._open_claim(cause, "delivery", SYSTEM_ACTOR, SYSTEM_SOURCE,
                             f"delivered {data['condition']}, signed by {data.get('signer')}")

    def _set_qty(self, attr: str, lines: list[dict[str, Any]], default: int) -> None:
        qty = {line["sku"]: int(line["qty"]) for line in lines}
        for line in self._s.lines:
            setattr(line, attr, qty.get(line.sku, default))

    def _after_track(self, finished: Stage, at: datetime) -> None:
        """One post-delivery track ended; the order closes once both have."""
        self._s.stage_times[finished.value] = at
        if not self._maybe_close(at):
            self._enter(finished, at)

    def _maybe_close(self, at: datetime) -> bool:
        """Close once the receipt is back, the follow-up is over and no claim is open."""
        s = self._s
        receipt_done = s.receipt is not None
        survey_done = s.survey is not None and s.survey.status in (
            FollowUpStatus.ANSWERED, FollowUpStatus.UNSUCCESSFUL)
        if receipt_done and survey_done and not self._open_claims():
            self._close(at, {})
            return True
        return False

    def _close(self, at: datetime, data: dict[str, Any]) -> None:
        self._enter(Stage.CLOSED, at)
        self._record("order-closed", SystemEventType.CLOSED, at, data)

    def _open_claims(self) -> list[ClaimRef]:
        return [c for c in self._s.claims if c.closed_at is None]

    def _enter(self, stage: Stage, at: datetime) -> None:
        self._s.stage = stage
        self._s.stage_times[stage.value] = at
        self._dirty = True
        if not self._lean:
            workflow.upsert_search_attributes([search.STAGE.value_set(stage.value)])

    # -- deadlines and timed steps -----------------------------------------------------------

    def _refresh(self) -> None:
        """Bring timed state up to date: survey milestones, breaches opened and cleared."""
        now = workflow.now()
        self._advance_follow_up(now)
        deadlines = active_deadlines(self._s, now)
        active = {d.key for d in deadlines}
        for breach in self._open_breaches():
            if (breach.kind.value, breach.due_at.isoformat()) not in active:
                self._clear(breach, now)
        open_keys = self._open_breach_keys()
        for deadline in deadlines:
            if deadline.fire_at <= now and deadline.key not in open_keys:
                self._breach(deadline, now)
        self._set_next_deadline(deadlines, self._open_breach_keys())

    def _open_breaches(self) -> list[Breach]:
        return [b for b in self._s.breaches if b.cleared_at is None]

    def _open_breach_keys(self) -> set[tuple[str, str]]:
        return {(b.kind.value, b.due_at.isoformat()) for b in self._open_breaches()}

    def _breach(self, deadline: ActiveDeadline, now: datetime) -> None:
        s = self._s
        number = 1 + sum(1 for b in s.breaches if b.kind == deadline.kind)
        breach_id = f"{deadline.kind.value}-{number}"
        escalation_id = escalation_workflow_id(s.order_id, breach_id)
        breach = Breach(id=breach_id, kind=deadline.kind, stage=s.stage, due_at=deadline.due_at,
                        detected_at=now, escalation_id=escalation_id)
        s.breaches.append(breach)
        assert s.policy.escalation is not None  # every parsed policy has a ladder
        self._escalations.open(EscalationInput(
            escalation_id=escalation_id, order_id=s.order_id, breach_id=breach.id,
            kind=breach.kind, stage=breach.stage, due_at=breach.due_at, detected_at=now,
            customer_id=s.customer.id, customer_tier=s.customer.tier,
            key_account_manager=s.customer.key_account_manager, policy=s.policy.escalation,
            customer_name=s.customer.name))
        self._record(f"breach-{breach.id}", SystemEventType.SLA_BREACH, now, {
            "breach_id": breach.id, "kind": breach.kind.value, "stage": breach.stage.value,
            "due_at": breach.due_at.isoformat(), "detected_at": now.isoformat(),
            "escalation_id": breach.escalation_id})
        workflow.upsert_search_attributes([search.SLA_BREACHED.value_set(True)])

    def _clear(self, breach: Breach, now: datetime) -> None:
        cause = "cancelled" if self._s.stage == Stage.CANCELLED else self._last_event
        breach.cleared_at, breach.cleared_by = now, cause
        if breach.escalation_id:
            self._escalations.clear(breach.escalation_id, f"condition cleared by {cause}")
        self._record(f"breach-{breach.id}-cleared", SystemEventType.BREACH_CLEARED, now,
                     {"breach_id": breach.id, "kind": breach.kind.value, "cleared_by": cause})

    async def _sync_escalations(self) -> None:
        await self._escalations.sync()

    async def _start_children(self) -> None:
        """Claims and complaints run as children that outlive the order (ABANDON)."""
        while self._children:
            name, arg, child_id = self._children.pop(0)
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await workflow.start_child_workflow(
                    name, arg, id=child_id, parent_close_policy=ParentClosePolicy.ABANDON)

    def _set_next_deadline(self, deadlines: list[ActiveDeadline],
                           open_keys: set[tuple[str, str]]) -> None:
        upcoming = [Deadline(d.kind.value, d.due_at) for d in deadlines if d.key not in open_keys]
        survey = self._s.survey
        if survey is not None and survey.status == FollowUpStatus.DUE:
            upcoming.append(Deadline("survey_window", survey.expires_at))
        nxt = min(upcoming, key=lambda d: d.due_at, default=None)
        if nxt != self._s.next_deadline:
            self._s.next_deadline = nxt
            self._dirty = True

    def _set_alarm(self, wake: datetime | None) -> None:
        """Make sure a timer rings by `wake`. A running one that rings earlier is kept (it may
        ring for nothing: the loop then sets the next), so an event that moves the next
        deadline later cancels and starts no timer."""
        if wake is None or (self._alarm is not None and self._alarm <= wake):
            return
        self._alarm = wake
        task = asyncio.create_task(self._ring(wake))
        self._alarms.add(task)  # held until it rings, so it is never collected mid-sleep
        task.add_done_callback(self._alarms.discard)

    async def _ring(self, at: datetime) -> None:
        await workflow.sleep(max((at - workflow.now()).total_seconds(), 0.001))
        if self._alarm == at:
            self._alarm = None
        self._changed = True

    def _show_stage(self) -> None:
        """Write the stage search attribute if it changed since it was last written."""
        if self._shown_stage != self._s.stage.value:
            self._shown_stage = self._s.stage.value
            workflow.upsert_search_attributes([search.STAGE.value_set(self._shown_stage)])

    def _next_wakeup(self) -> datetime | None:
        now = workflow.now()
        open_keys = self._open_breach_keys()
        times = [d.fire_at for d in active_deadlines(self._s, now) if d.key not in open_keys]
        follow_up = next_follow_up_change(self._s)
        if follow_up is not None:
            times.append(follow_up)
        return min(times, default=None)

    # -- timeline and read model -------------------------------------------------------------

    def _record(self, event_id: str, type_: str, occurred_at: datetime, data: dict[str, Any],
                actor: str = SYSTEM_ACTOR, source: str = SYSTEM_SOURCE,
                body_hash: str | None = None) -> None:
        self._pending.append(TimelineEntry(
            event_id=event_id, type=str(type_), occurred_at=occurred_at,
            recorded_at=workflow.now(), actor=actor, source=source, data=data,
            body_hash=body_hash))
        self._dirty = True

    async def _project(self) -> None:
        if not self._v2:
            await self._project_now()
            return
        # An update must not return while the run loop's projection of the same change is
        # still being written: a GET right after the POST would miss it.
        async with self._projecting:
            await self._project_now()

    async def _project_now(self) -> None:
        if self._lean:
            self._show_stage()  # once per change, however many stages an activation passed
        if not self._pending and not self._dirty:
            return
        self._s.seq += 1
        entries, self._pending, self._dirty = self._pending, [], False
        await project(ProjectionActivities.project_order,
                      ProjectionInput(state=copy.deepcopy(self._s), entries=entries),
                      self._deliveries)
