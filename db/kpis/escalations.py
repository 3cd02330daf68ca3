"""The KPI aggregates of escalations: how many opened per level, stage and kind, and how long
they took to be acknowledged and resolved."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from db.escalations.models import EscalationEvent, EscalationRow
from db.kpis.window import Key, Samples, Window, as_int, grouped, key_of, samples, seconds

_ESCALATION_OWN = {"customer": EscalationRow.customer_id, "tier": EscalationRow.customer_tier}


def escalation_counts(session: Session, w: Window, group_by: Sequence[str]
                      ) -> dict[Key, list[tuple[int, str, str, int]]]:
    """Escalations opened in the window: (level reached, stage, kind, count) per group."""
    groups, source = grouped(EscalationRow, _ESCALATION_OWN, EscalationRow.order_id, group_by)
    dims = (EscalationRow.level, EscalationRow.stage, EscalationRow.kind)
    q = (select(*groups, *dims, func.count()).select_from(source)
         .where(w.holds(EscalationRow.opened_at)).group_by(*groups, *dims))
    n = len(groups)
    out: dict[Key, list[tuple[int, str, str, int]]] = {}
    for r in session.execute(q):
        out.setdefault(key_of(r, n), []).append((int(r[n]), r[n + 1] or "none", r[n + 2],
                                                as_int(r[n + 3])))
    return out


def escalation_durations(session: Session, w: Window, group_by: Sequence[str]
                         ) -> Samples:
    """time_to_acknowledge (opening to the first acknowledgement, which a climb does not
    undo) and time_to_resolve, for those that happened in the window."""
    # The first acknowledgement falls in the window when one does and none came before it:
    # only the window's acknowledgements are read, not every one ever made.
    ack, earlier = EscalationEvent, aliased(EscalationEvent)
    acked_before = (select(literal(1)).where(earlier.escalation_id == ack.escalation_id,
                                             earlier.action == "acknowledged",
                                             earlier.at < w.start).exists())
    first_ack = (select(ack.escalation_id.label("escalation_id"), func.min(ack.at).label("at"))
                 .where(ack.action == "acknowledged", w.holds(ack.at), ~acked_before)
                 .group_by(ack.escalation_id).subquery())
    groups, source = grouped(EscalationRow, _ESCALATION_OWN, EscalationRow.order_id, group_by)
    acked = (select(*groups, literal("time_to_acknowledge").label("metric"),
                    seconds(EscalationRow.opened_at, first_ack.c.at).label("secs"))
             .select_from(source.join(first_ack, first_ack.c.escalation_id == EscalationRow.id)))
    resolved = (select(*groups, literal("time_to_resolve").label("metric"),
                       seconds(EscalationRow.opened_at, EscalationRow.resolved_at).label("secs"))
                .select_from(source).where(w.holds(EscalationRow.resolved_at)))
    return samples(session, select(union_all(acked, resolved).subquery()), len(groups))
