"""What a long order carries into the run it continues as new with (issue 16 §2).

A tracking feed can send an order thousands of events; one run's history would outgrow
Temporal's limits, so the case loop (workflows/case.py) hands the order to a new run once its
history passes a size. The new run starts from an `OrderResume` in its input, the first event
of every run, so it is kept lean:

- the state, with only the scans the deadline rules still read: the newest seen (the scan gap
  counts from it) and the newest carrying an ETA (late risk). Both rules take a maximum over
  the scans, so the scans kept and those still to come give the same answer as the whole feed;
  the read model holds every scan (order_scans), and the new run's first projection writes a
  complete state (workflows/order/changes.py);
- the event ids applied so far, each with the start of its body hash (workflows/rejections.py
  `remembered`): enough to answer a repeat posted after the continue-as-new as a duplicate and
  another body under the same id as `event_id_reused`;
- the latest event's type (a breach it clears names it) and the stage the search attribute
  shows (search attributes carry over to the new run; it is written again only if it differs).

Open deadlines and alarms are not carried: they are worked out from the state
(workflows/order/deadlines.py), and the new run sets its timer for the earliest. Escalation
ladders, claims and complaints are child workflows that outlive the run (ABANDON); the run
continues as new only once the queues that start and clear them are empty.
"""

from __future__ import annotations

from dataclasses import replace

from workflows.order.types import OrderResume, OrderState, Scan
from workflows.rejections import remembered


def resume_of(state: OrderState, event_hashes: dict[str, str], last_event: str,
              shown_stage: str | None) -> OrderResume:
    """The resume of a run that ends now (its state is not used again, so it is not copied)."""
    return OrderResume(
        state=replace(state, scans=kept_scans(state.scans)),
        event_hashes=remembered(event_hashes),
        last_event=last_event, shown_stage=shown_stage)


def kept_scans(scans: list[Scan]) -> list[Scan]:
    """The scans deadlines.py reads, in the feed's order: the newest seen (scan gap) and the
    newest, by event time, carrying an ETA (late risk); `max` keeps the first of equals, as the
    rules do, so the rules pick the same scan from these as from the whole feed."""
    if not scans:
        return []
    keep = {id(max(scans, key=lambda s: min(s.occurred_at, s.seen_at or s.occurred_at)))}
    with_eta = [s for s in scans if s.eta is not None]
    if with_eta:
        keep.add(id(max(with_eta, key=lambda s: s.occurred_at)))
    return [s for s in scans if id(s) in keep]
