"""Verifying and exporting an order's audit chain: what the API and the CLI both call."""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy.orm import Session

from api.audit.schemas import BrokenLink, ChainVerdict
from api.errors import ApiError
from config import Settings
from db.audit import queries
from db.audit.verify import Verdict
from shared.audit_keys import verifying_keys


def check_exists(session: Session, order_id: str) -> None:
    """404 unless there is such an order or such a chain (`complaint:<id>`)."""
    if not queries.known(session, order_id):
        raise ApiError(404, "order_not_found", f"order {order_id} does not exist", None,
                       order_id=order_id)


def verdict_view(verdict: Verdict) -> ChainVerdict:
    problems = [BrokenLink(problem=b.problem, message=b.message, seq=b.seq, table=b.table,
                           key=b.key) for b in verdict.problems]
    return ChainVerdict(order_id=verdict.order_id, ok=verdict.ok,
                        links_checked=verdict.links_checked,
                        first_broken=problems[0] if problems else None, problems=problems)


def verify(session: Session, settings: Settings, order_id: str) -> ChainVerdict:
    check_exists(session, order_id)
    return verdict_view(queries.verify(session, order_id, verifying_keys(settings)))


def export_lines(session: Session, order_id: str) -> Iterator[str]:
    """The chain as JSON Lines, a link a line (README: "Verifying an order's audit chain")."""
    check_exists(session, order_id)
    for link in queries.export(session, order_id):
        yield json.dumps(link, ensure_ascii=False, separators=(",", ":")) + "\n"
