"""The run loop every case workflow shares (order, claim, complaint, escalation).

A case holds its state, a queue of new timeline entries, and the escalation ladders and
children it has queued. The loop brings timed state up to date (`_tick`), sends what was
queued (`_sync`), writes the read model (`_project`: one projection activity per change, with
its notices), and then sleeps until something changes or the next deadline comes; once the case
is closed it waits for running handlers, writes the last change and ends. Update handlers end
with `_settle()`, the same tick, sync and projection, so the caller reads its own write.

Each workflow says what is its own: how to tick, when it is closed, when it next wakes, what
its projection activity and payload are, and (order) which children to start.

A long-lived case continues as new when its history grows past a size (or Temporal suggests
it): once no handler is running and everything queued was sent, the run ends handing its
successor an input that carries what the case needs (`_continue_input`). An update that
reaches the server while that happens is retried by Temporal on the new run, which still knows
every event id applied (workflows/order/resume.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.notify.deliveries import Deliveries
    from workflows.read_model import project


class CaseState(Protocol):
    seq: int  # bumped at every projection, so an older snapshot never overwrites a newer one


class Ladders(Protocol):
    """What the case needs of its escalation link (workflows/escalation/link.py)."""

    async def sync(self) -> None: ...


StateT = TypeVar("StateT", bound=CaseState)
EntryT = TypeVar("EntryT")
# A projection activity method (returning the outbox ids it wrote) and its single argument.
Projection = tuple[Callable[..., list[str]], Any]
# Continuing as new issues new commands: runs from before it never do.
CONTINUE_AS_NEW_PATCH = "continue-as-new"
# History bytes past which a run continues as new (an order's input may give another figure):
# well under the 2 MB a run may reach, leaving room for the handlers still finishing.
HISTORY_LIMIT_BYTES = 1_000_000
# A run continues as new only after this many events of its own: one whose resume alone were
# past the limit must not start run after run.
MIN_RUN_EVENTS = 100


def history_limit(given: int | None = None) -> int:
    """A case's history limit: the one its input gives, else HISTORY_LIMIT_BYTES (read at each
    call, so a test may lower it)."""
    return given or HISTORY_LIMIT_BYTES


class CaseWorkflow(ABC, Generic[StateT, EntryT]):
    """Base of a case workflow; `__init__` of the subclass sets `_s` first."""

    _s: StateT

    def __init__(self, ladders: Ladders | None = None) -> None:
        self._pending: list[EntryT] = []
        self._changed = False  # something happened: the loop looks again
        self._dirty = False  # the state changed without a new timeline entry
        self._ladders = ladders
        self._deliveries = Deliveries()
        # Lean waits (the order's LEAN_PATCH): one timer per wake-up time, kept while it is
        # still the earliest, instead of a timer started and cancelled at every change.
        self._lean = False
        self._alarm: datetime | None = None
        self._alarms: set[asyncio.Task[None]] = set()
        # Set by a case whose one current patch implies DELIVERY_WORKFLOWS_PATCH (read_model.py).
        self._deliveries_started = False

    # -- what each case says ---------------------------------------------------------------

    @abstractmethod
    def _tick(self) -> None:
        """Bring timed state up to date (breaches, steps fallen due, windows ended)."""

    @abstractmethod
    def _closed(self) -> bool:
        """The case has reached its end: the loop stops."""

    @abstractmethod
    def _next_wakeup(self) -> datetime | None:
        """When the case next changes on its own; None: only an update or signal changes it."""

    @abstractmethod
    def _projection(self, state: StateT, entries: list[EntryT]) -> Projection:
        """The projection activity and its payload for this snapshot and these entries."""

    async def _start_children(self) -> None:
        """Start the child workflows the last change queued (the order's claims, complaints)."""

    async def _on_closed(self) -> None:
        """After the last projection, before the notices are awaited (a claim tells its order)."""

    def _history_limit(self) -> int | None:
        """History bytes past which this run continues as new; None: it never does."""
        return None

    def _continue_input(self) -> Any:
        """The input of the run this one continues as new with (asked only if it does)."""
        raise NotImplementedError

    # -- the loop ----------------------------------------------------------------------------

    async def _run_case(self) -> None:
        while True:
            self._changed = False
            self._tick()
            await self._sync()
            await self._project()
            if self._closed():
                break
            if self._history_full():
                await self._continue_as_new()  # returns only if the case changed meanwhile
                continue
            await self._wait(self._next_wakeup())
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._sync()
        await self._project()
        await self._on_closed()
        await self._deliveries.finish()

    def _history_full(self) -> bool:
        limit = self._history_limit()
        if limit is None:
            return False
        info = workflow.info()
        if info.get_current_history_length() < MIN_RUN_EVENTS:
            return False
        return ((info.is_continue_as_new_suggested() or info.get_current_history_size() > limit)
                and workflow.patched(CONTINUE_AS_NEW_PATCH))  # asked last: a marker once due

    async def _continue_as_new(self) -> None:
        """End this run handing the case to a new one, once no update handler is running (an
        accepted update must be answered by the run that accepted it)."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._changed or self._pending or self._dirty:
            return  # a handler or timer changed the case: the loop sends that first
        await self._deliveries.finish()
        workflow.continue_as_new(self._continue_input())

    async def _settle(self) -> None:
        """End of an update handler: tick, wake the loop, send what was queued, project."""
        self._tick()
        self._changed = True
        await self._sync()
        await self._project()

    async def _sync(self) -> None:
        if self._ladders is not None:
            await self._ladders.sync()
        await self._start_children()

    async def _wait(self, wake: datetime | None) -> None:
        if self._lean:
            self._set_alarm(wake)
            await workflow.wait_condition(lambda: self._changed)
            return
        timeout = None if wake is None else max((wake - workflow.now()).total_seconds(), 0.001)
        with contextlib.suppress(TimeoutError):  # a deadline is due: the next tick handles it
            await workflow.wait_condition(lambda: self._changed, timeout=timeout)

    def _set_alarm(self, wake: datetime | None) -> None:
        """Make sure a timer rings by `wake`. A running one that rings earlier is kept (it may
        ring for nothing: the loop then sets the next), so a change that moves the next
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

    # -- the read model ----------------------------------------------------------------------

    async def _project(self) -> None:
        """Write the read model if anything changed since the last write (and at least once)."""
        if not self._pending and not self._dirty and self._s.seq > 0:
            return
        self._s.seq += 1
        entries, self._pending, self._dirty = self._pending, [], False
        activity, payload = self._projection(self._snapshot(), entries)
        await project(activity, payload, self._deliveries, self._deliveries_started)

    def _snapshot(self) -> StateT:
        """The state a projection is built from: a copy, as the state goes on changing while
        the payload waits to be encoded (a case that sends only what changed copies that)."""
        return copy.deepcopy(self._s)
