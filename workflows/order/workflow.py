"""OrderWorkflow: one durable workflow per order, from intake to closure.

The run loop is the case workflows' (workflows/case.py); this module holds the order's
handlers, its validator and how each event changes the order. What goes wrong (shortages,
exceptions, claims, complaints), the follow-up and the SLA breaches are its parts
(exceptions.py, follow_up.py, breaches.py), which reach the workflow only through
OrderContext (context.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, assert_never

from temporalio import workflow

# Payload types come from outside the sandbox so the converter sees the real datetime class
# (children start by reference: workflows/order/children.py).
with workflow.unsafe.imports_passed_through():
    import workflows.order.event_data as ev
    import workflows.order.search as search
    from activities.order.projection import ProjectionActivities
    from workflows.case import CaseWorkflow, Projection, history_limit

    # Imported here although only payloads name them (OrderInput, the children's results):
    # the sandbox resolves a payload's type hints through its own sys.modules, which holds
    # only what this module imports.
    from workflows.claim.types import (
        ClaimClosed,
        ClaimStatus,  # noqa: F401
        OpenClaimInput,
    )
    from workflows.complaint.types import ComplaintStatus  # noqa: F401
    from workflows.escalation.link import EscalationLink
    from workflows.escalation.types import EscalationStatus  # noqa: F401
    from workflows.ids import SYSTEM_ACTOR, SYSTEM_SOURCE
    from workflows.order.breaches import OrderBreaches
    from workflows.order.changes import ChangeTracker
    from workflows.order.children import start_children
    from workflows.order.context import ChildInput
    from workflows.order.exceptions import OrderExceptions
    from workflows.order.follow_up import OrderFollowUp
    from workflows.order.pauses import next_resume, on_time_due
    from workflows.order.records import Delivery, QtyLine, Shipment
    from workflows.order.resume import resume_of
    from workflows.order.rules import (
        CLAIM_CONDITIONS,
        CLAIM_STAGES,
        check_event,
        check_stage,
        created_entry,
        opening_state,
    )
    from workflows.order.types import (
        AFTER_DELIVERY,
        TERMINAL_STAGES,
        ClaimRef,
        EventInput,
        EventResult,
        FollowUpStatus,
        OrderInput,
        OrderState,
        ProjectionInput,
        Scan,
        Stage,
        Survey,
        SystemEventType,
        TimelineEntry,
    )
    from workflows.policy import SlaPolicy  # noqa: F401
    from workflows.rejections import HASH_CHARS, refuse_before, refuse_repeat, reject

# Orders started before claims, complaints, shortages and survey reminders existed replay
# without them: every behaviour that issues new commands checks this patch.
EXCEPTIONS_PATCH = "exceptions-and-after-delivery"
CATCH_UP_PATCH = "catch-up-grace"  # deadlines past before Waybill heard of them wait a grace
# One alarm per wake-up time instead of a timer started and cancelled at every event, and the
# stage search attribute written once per change: a third fewer history events per order.
LEAN_PATCH = "lean-timers-and-attributes"
# An order started from here on has every patch above (and deliveries as workflows) behind
# this one marker: each patch writes a marker and a search-attribute upsert, ten history
# events per order. It also sends its read model what changed, not the whole state
# (workflows/order/changes.py). A new patch gets its own id; fold it in at the next release.
CURRENT_PATCH = "order-patches-2026-12-05"
# Sent this long after it happened, an order or event is a system catching up on a backlog
# (live ones arrive within seconds): only then do deadlines already past wait the grace, so a
# live event racing a deadline's own timer never postpones its breach.
CATCH_UP_LAG = timedelta(minutes=1)


@workflow.defn
class OrderWorkflow(CaseWorkflow[OrderState, TimelineEntry]):
    @workflow.init
    def __init__(self, inp: OrderInput) -> None:
        self._s = opening_state(inp)
        escalations = EscalationLink()
        super().__init__(escalations)
        self._event_hashes: dict[str, str] = {}
        self._last_event = "order_created"
        self._dirty = True
        # An order the API stored (its row, opening state and first entry) is not sent again.
        stored = inp.stored and inp.resume is None
        self._pending = [] if stored else [created_entry(inp)]
        self._children: list[ChildInput] = []  # claims and complaints to start
        current = workflow.patched(CURRENT_PATCH)  # `or`: older ids only for older orders
        self._v2 = current or workflow.patched(EXCEPTIONS_PATCH)
        self._catch_up = current or workflow.patched(CATCH_UP_PATCH)
        self._lean = current or workflow.patched(LEAN_PATCH)
        self._changes = ChangeTracker(opening_state(inp) if stored else None) if current else None
        self._deliveries_started = current
        self._shown_stage: str | None = Stage.RECEIVED.value  # as the search attribute says
        if self._catch_up and inp.received_at < workflow.now() - CATCH_UP_LAG:
            self._s.heard_at = workflow.now()
        self._projecting = asyncio.Lock()
        self._exceptions = OrderExceptions(self)
        self._follow_up = OrderFollowUp(self, self._exceptions.open_complaint)
        self._breaches = OrderBreaches(self, escalations)
        self._input, resume = inp, inp.resume
        if resume is not None:  # continued as new: pick up where the last run left off
            self._s, self._pending, self._shown_stage = resume.state, [], resume.shown_stage
            self._event_hashes, self._last_event = dict(resume.event_hashes), resume.last_event

    @workflow.run
    async def run(self, inp: OrderInput) -> Stage:
        await self._run_case()
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
        self.record(inp.event_id, inp.type, inp.occurred_at, inp.data, inp.actor, inp.source,
                    inp.body_hash)
        self._apply(inp, ev.parse(inp.type, inp.data), min(inp.occurred_at, now))
        self._last_event = inp.type.value
        await self._settle()
        # The echo only adds to the update's result (no command): histories replay unchanged.
        return EventResult(stage=self._s.stage, body_hash=inp.body_hash[:HASH_CHARS],
                           request_id=inp.request_id)

    @workflow.update
    async def open_claim(self, inp: OpenClaimInput) -> str:
        """A claim opened by hand; the order stays open until it closes."""
        claim_id = self._exceptions.open_claim(inp.cause, "manual", inp.actor, inp.source,
                                               inp.description)
        self._changed = True
        await self._start_children()
        await self._project()
        return claim_id

    @open_claim.validator
    def _validate_claim(self, inp: OpenClaimInput) -> None:
        stage = self._s.stage
        if stage not in CLAIM_STAGES:
            raise reject("invalid_transition", f"a claim cannot be opened in stage {stage}",
                         current_stage=stage.value)

    @workflow.signal
    def claim_closed(self, inp: ClaimClosed) -> None:
        s, now = self._s, workflow.now()
        ref = next((c for c in s.claims if c.claim_id == inp.claim_id), None)
        if ref is None or ref.closed_at is not None:
            return
        ref.closed_at, ref.outcome = now, inp.outcome
        self.record(f"claim-{inp.claim_id}-closed", SystemEventType.CLAIM_CLOSED, now,
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
        check_stage(self._s, inp)
        try:
            data = ev.parse(inp.type, inp.data)
        except (KeyError, ValueError, TypeError) as exc:
            raise reject("invalid_event", f"the {inp.type.value} event is malformed: {exc}",
                         event_type=inp.type.value) from exc
        check_event(self._s, inp, data, self._v2)

    # -- applying events ---------------------------------------------------------------------

    def _apply(self, inp: EventInput, data: ev.EventData, at: datetime) -> None:
        s = self._s
        match data:
            case ev.ConfirmedData():
                self.enter(Stage.CONFIRMED, at)
            case ev.PickedData():
                self._set_qty("picked", data.lines)
                s.in_full = all((line.picked or 0) >= line.due for line in s.lines)
                s.repick_since = None
                self.enter(Stage.PICKED, at)
                if self._v2 and not s.in_full:
                    self._exceptions.ask_decision("short_pick", inp.event_id, at, {
                        line.sku: line.picked or 0 for line in s.lines
                        if (line.picked or 0) < line.due})
            case ev.ShippedData():
                s.shipment = Shipment(carrier=data.carrier, tracking_no=data.tracking_no,
                                      vehicle=data.vehicle, driver=data.driver)
                if data.lines:
                    self._set_qty("shipped", data.lines)
                self.enter(Stage.SHIPPED, at)
                self.enter(Stage.IN_TRANSIT, at)
                self.record(f"{inp.event_id}-in-transit", SystemEventType.IN_TRANSIT, at, {})
            case ev.ScanData():
                s.scans.append(Scan(event_id=inp.event_id, occurred_at=inp.occurred_at,
                                    location=data.location, status=data.status, eta=data.eta,
                                    seen_at=at))
                s.scans.sort(key=lambda scan: (scan.occurred_at, scan.event_id))
            case ev.DeliveredData():
                self._deliver(data, inp.occurred_at, at)
            case ev.ReceiptData():
                self._follow_up.archive_receipt(inp, data, at)
            case ev.SurveyData():
                self._follow_up.answered(data.scores, data.comment, data.goods_ok,
                                         data.suggestions, data.channel or "api", at)
            case ev.FollowUpCallData():
                self._follow_up.called(data, inp.actor, at)
            case ev.CancelledData():
                self._exceptions.cancel(data.reason, at)
            case ev.PromiseChangedData():
                if data.promised_ship_by:
                    s.promised_ship_by = data.promised_ship_by
                if data.promised_delivery_by:
                    s.promised_delivery_by = data.promised_delivery_by
                self._dirty = True
            case ev.ShortageData():
                self._exceptions.ask_decision("stock_shortage", inp.event_id, at,
                                              {line.sku: line.qty for line in data.lines})
            case ev.ShortageDecisionData():
                self._exceptions.decided(inp, data, at)
            case ev.DeliveryExceptionData():
                self._exceptions.delivery_exception(inp, data, at)
            case ev.NoteData():
                pass
            case _:
                assert_never(data)

    def _deliver(self, data: ev.DeliveredData, occurred_at: datetime, at: datetime) -> None:
        s = self._s
        s.delivery = Delivery(signer=data.signer, condition=data.condition, pod=data.pod)
        if data.lines:
            self._set_qty("delivered", data.lines)
        for line in s.lines:
            if line.delivered is None:
                line.delivered = next(q for q in (line.shipped, line.picked, line.ordered)
                                      if q is not None)
        s.in_full = data.condition == "intact" and all(
            (line.delivered or 0) >= line.due for line in s.lines)
        s.on_time = occurred_at <= on_time_due(s)  # the promise unless pauses are excluded
        self._exceptions.resume_pauses(at, ended_by="delivered")
        due = at + timedelta(seconds=s.policy.survey_after)
        window = timedelta(seconds=s.policy.survey_window)
        s.survey = Survey(status=FollowUpStatus.PENDING, due_at=due, expires_at=due + window,
                          remind_at=due + window / 2 if self._v2 else None)
        self.enter(Stage.DELIVERED, at)
        cause = CLAIM_CONDITIONS.get(data.condition)
        if self._v2 and cause is not None:
            self._exceptions.open_claim(cause, "delivery", SYSTEM_ACTOR, SYSTEM_SOURCE,
                                        f"delivered {data.condition}, signed by {data.signer}")

    def _set_qty(self, attr: str, lines: tuple[QtyLine, ...]) -> None:
        """Set `attr` (picked, shipped, delivered) of every line; a line left out gets 0."""
        qty = {line.sku: line.qty for line in lines}
        for line in self._s.lines:
            setattr(line, attr, qty.get(line.sku, 0))

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
        self.enter(Stage.CLOSED, at)
        self.record("order-closed", SystemEventType.CLOSED, at, data)

    def _open_claims(self) -> list[ClaimRef]:
        return [c for c in self._s.claims if c.closed_at is None]

    # -- OrderContext: what the parts may ask --------------------------------------------------

    @property
    def order(self) -> OrderState:
        return self._s

    @property
    def v2(self) -> bool:
        return self._v2

    def record(self, event_id: str, type_: str, occurred_at: datetime, data: dict[str, Any],
               actor: str = SYSTEM_ACTOR, source: str = SYSTEM_SOURCE,
               body_hash: str | None = None) -> None:
        self._pending.append(TimelineEntry(
            event_id=event_id, type=str(type_), occurred_at=occurred_at,
            recorded_at=workflow.now(), actor=actor, source=source, data=data,
            body_hash=body_hash))
        self._dirty = True

    def touch(self) -> None:
        self._dirty = True

    def enter(self, stage: Stage, at: datetime) -> None:
        self._s.stage = stage
        self._s.stage_times[stage.value] = at
        self._dirty = True
        if not self._lean:
            workflow.upsert_search_attributes([search.STAGE.value_set(stage.value)])

    def after_track(self, finished: Stage, at: datetime) -> None:
        self._s.stage_times[finished.value] = at
        if not self._maybe_close(at):
            self.enter(finished, at)

    def start_child(self, inp: ChildInput) -> None:
        self._children.append(inp)

    # -- the case loop's hooks ---------------------------------------------------------------

    def _tick(self) -> None:
        """Bring timed state up to date: survey milestones, breaches opened and cleared."""
        now = workflow.now()
        self._exceptions.resume_pauses(now)  # a customer's wait over: its deadline runs on
        self._follow_up.advance(now)
        self._breaches.refresh(now, self._last_event)

    def _closed(self) -> bool:
        return self._s.stage in TERMINAL_STAGES

    def _next_wakeup(self) -> datetime | None:
        wake = self._breaches.next_wakeup(workflow.now())
        resume = next_resume(self._s)  # None for every order without a customer's wait
        if resume is None or wake is None:
            return wake or resume
        return min(wake, resume)

    async def _start_children(self) -> None:
        await start_children(self._children)

    def _history_limit(self) -> int | None:  # only orders sending changes continue as new
        return history_limit(self._input.history_limit_bytes) if self._changes else None

    def _continue_input(self) -> OrderInput:
        return replace(self._input, resume=resume_of(self._s, self._event_hashes,
                                                     self._last_event, self._shown_stage))

    def _snapshot(self) -> OrderState:
        return self._s if self._changes is not None else super()._snapshot()

    def _projection(self, state: OrderState, entries: list[TimelineEntry]) -> Projection:
        if self._changes is not None:  # `state` is the live state: the tracker copies
            return ProjectionActivities.project_order_change, self._changes.change(state, entries)
        return ProjectionActivities.project_order, ProjectionInput(state=state, entries=entries)

    async def _project(self) -> None:
        if not self._v2:
            await self._project_now()
            return
        # An update must not return while the run loop's projection of the same change is
        # still being written: a GET right after the POST would miss it.
        async with self._projecting:
            await self._project_now()

    async def _project_now(self) -> None:
        if self._lean:  # once per change, however many stages an activation passed
            self._shown_stage = search.show_stage(self._shown_stage, self._s.stage.value)
        await super()._project()


__all__ = ["OrderWorkflow"]
