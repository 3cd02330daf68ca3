"""Replay recent histories from a running Temporal against the workflow code on disk.

The check an operator runs before rolling a new worker (`waybill replay`): a workflow whose
history the new code cannot reproduce would fail its next task with a non-determinism error,
so a change to workflow logic must be behind `workflow.patched(...)` first.

Framework-free: Temporal's client and worker only. The workflow classes come in as an argument
(cli.py passes worker.WORKFLOWS), since nothing but the command line may import worker.py.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import temporalio.worker
from temporalio import workflow
from temporalio.client import Client, WorkflowHistory
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.worker import Replayer

from shared.sandbox import workflow_runner

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# A non-determinism error carries the whole mismatched command; the start says what it is.
_MAX_ERROR_CHARS = 400
# The SDK core wraps a task failure's message in its Failure's debug text.
_CORE_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')


def parse_span(text: str) -> timedelta:
    """`30m`, `12h`, `7d`, `2w` -> a timedelta; ValueError on anything else or zero."""
    match = _SPAN.match(text)
    if not match or float(match[1]) <= 0:
        raise ValueError(f"expected a positive number and one of s, m, h, d, w (e.g. 7d), "
                         f"got {text!r}")
    return timedelta(**{_UNITS[match[2]]: float(match[1])})


def type_name(cls: type) -> str:
    """The workflow type a class is registered under (its `@workflow.defn(name=...)`)."""
    # The SDK exposes no public accessor; its replayer and worker read the same definition.
    name = workflow._Definition.must_from_class(cls).name
    if name is None:  # a dynamic workflow takes every unregistered type: none to list
        raise ValueError(f"{cls.__name__} is a dynamic workflow")
    return name


def visibility_queries(workflow_type: str, since: datetime,
                       extra: str | None = None) -> tuple[str, str]:
    """The list queries for one type: (still running, whatever their age; closed since `since`).

    Running workflows are the ones a new worker will execute next; recently closed ones
    exercise the code paths to the end that running ones have not reached yet.
    """
    base = f"WorkflowType = '{workflow_type}'"
    if extra and extra.strip():
        base += f" AND ({extra.strip()})"
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (f"{base} AND ExecutionStatus = 'Running'", f"{base} AND CloseTime > '{stamp}'")


def interleave(first: Sequence[tuple[str, str]], second: Sequence[tuple[str, str]],
               limit: int) -> list[tuple[str, str]]:
    """Alternate between two lists (first's item first), up to `limit`, without repeats: a
    limit shares itself between running and closed workflows while both have some left."""
    chosen: list[tuple[str, str]] = []
    for i in range(max(len(first), len(second))):
        for items in (first, second):
            if i < len(items) and items[i] not in chosen and len(chosen) < limit:
                chosen.append(items[i])
    return chosen


@dataclass(frozen=True)
class ReplayBounds:
    """How much `replay_recent` may look at, and for how long."""

    since: timedelta = timedelta(days=7)
    per_type: int = 50
    total: int = 500
    deadline: timedelta = timedelta(minutes=5)
    query: str | None = None  # a visibility filter AND-ed to every list query


@dataclass(frozen=True)
class ReplayFailure:
    workflow_type: str
    workflow_id: str
    run_id: str
    error: str
    nondeterministic: bool  # else the task failed another way (a bug, an undecodable input)


@dataclass
class TypeTally:
    workflow_type: str
    selected: int = 0
    replayed: int = 0
    failed: int = 0


@dataclass
class ReplayReport:
    tallies: list[TypeTally]
    failures: list[ReplayFailure] = field(default_factory=list)
    deadline_passed: bool = False

    @property
    def ok(self) -> bool:
        """Every selected history replayed, and none failed."""
        return not self.failures and not self.deadline_passed


def _describe(exc: BaseException) -> str:
    core = _CORE_MESSAGE.search(str(exc))
    text = " ".join(f"{type(exc).__name__}: {core[1] if core else exc}".split())
    return text if len(text) <= _MAX_ERROR_CHARS else text[:_MAX_ERROR_CHARS] + "..."


def _quiet_runtime() -> Runtime:
    """The replayer's own runtime, whose core logs errors only: each failed replay is in the
    report already, not also a multi-line warning per history on stderr."""
    return Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(
        filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))))


async def _ids(client: Client, query: str, limit: int) -> list[tuple[str, str]]:
    return [(wf.id, wf.run_id) async for wf in client.list_workflows(query, limit=limit)]


async def replay_recent(client: Client, workflows: Sequence[type], bounds: ReplayBounds,
                        now: datetime | None = None) -> ReplayReport:
    """Replay recent histories of every type in `workflows` against those classes.

    Uses the client's data converter and its interceptors that are also worker interceptors,
    as a Worker built on that client does. The report holds the failures (workflow id, run id,
    error); if the deadline passes, what was done so far with `deadline_passed` set.
    """
    since = (now or datetime.now(UTC)) - bounds.since
    tallies = {type_name(cls): TypeTally(type_name(cls)) for cls in workflows}
    report = ReplayReport(list(tallies.values()))
    # history object -> (type, run id): results come back holding the history they replayed
    origin: dict[int, tuple[str, str]] = {}
    try:
        async with asyncio.timeout(bounds.deadline.total_seconds()):
            picked: list[tuple[str, str, str]] = []
            for name, tally in tallies.items():
                room = min(bounds.per_type, bounds.total - len(picked))
                if room <= 0:
                    break
                running_q, closed_q = visibility_queries(name, since, bounds.query)
                chosen = interleave(await _ids(client, running_q, room),
                                    await _ids(client, closed_q, room), room)
                tally.selected = len(chosen)
                picked += [(name, wf_id, run_id) for wf_id, run_id in chosen]

            async def histories() -> AsyncIterator[WorkflowHistory]:
                for name, wf_id, run_id in picked:
                    history = await client.get_workflow_handle(wf_id, run_id=run_id) \
                        .fetch_history()
                    origin[id(history)] = (name, run_id)
                    yield history

            replayer = Replayer(
                workflows=list(workflows), namespace=client.namespace, runtime=_quiet_runtime(),
                workflow_runner=workflow_runner(),
                data_converter=client.data_converter,
                interceptors=[i for i in client.config()["interceptors"]
                              if isinstance(i, temporalio.worker.Interceptor)])
            async with replayer.workflow_replay_iterator(histories()) as results:
                async for result in results:
                    name, run_id = origin.pop(id(result.history))
                    tally = tallies[name]
                    if result.replay_failure is None:
                        tally.replayed += 1
                        continue
                    tally.failed += 1
                    report.failures.append(ReplayFailure(
                        name, result.history.workflow_id, run_id,
                        _describe(result.replay_failure),
                        isinstance(result.replay_failure, workflow.NondeterminismError)))
    except TimeoutError:
        report.deadline_passed = True
    return report
