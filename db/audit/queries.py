"""Reading audit chains (to verify and export them) and sealing their heads in checkpoints."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from db.audit import canonical
from db.audit.models import AuditCheckpoint, AuditCheckpointHead, AuditHead, AuditLink
from db.audit.verify import (
    MAX_PROBLEMS,
    Broken,
    Checkpoint,
    Head,
    Link,
    SideState,
    Verdict,
    checkpoint_message,
    checkpoint_problem,
    personal_problems,
    sign,
    verify_chain,
)
from db.claims.models import ClaimEvent, ClaimRow
from db.complaints.models import ComplaintEvent, ComplaintRow
from db.documents.models import Document
from db.escalations.models import EscalationEvent, EscalationRow
from db.orders.models import Order, OrderEvent
from db.personal import placeholders
from db.personal import queries as personal

_MODELS: dict[str, Any] = {
    canonical.ORDER_EVENTS: OrderEvent, canonical.ESCALATION_EVENTS: EscalationEvent,
    canonical.CLAIM_EVENTS: ClaimEvent, canonical.COMPLAINT_EVENTS: ComplaintEvent,
    canonical.DOCUMENTS: Document,
}
COMPLAINT_PREFIX = "complaint:"


def known(session: Session, chain: str) -> bool:
    """Whether `chain` is an order or has (or had, as a checkpoint says) a chain."""
    return (session.get(Order, chain) is not None or session.get(AuditHead, chain) is not None
            or session.scalar(select(AuditCheckpointHead.order_id)
                              .where(AuditCheckpointHead.order_id == chain).limit(1)) is not None)


def links_of(session: Session, chain: str) -> list[AuditLink]:
    return list(session.scalars(select(AuditLink).where(AuditLink.order_id == chain)
                                .order_by(AuditLink.seq)))


def _rows_of(session: Session, chain: str, links: list[AuditLink]) -> Iterator[tuple[str, Any]]:
    """Every row a link of `chain` names, and every row the chain's order (or complaint) owns,
    as (table, row). A row is read by its natural key or its owner, so a deleted owner (a
    claim's row) does not hide its events."""
    named: dict[str, set[str]] = {}
    for link in links:
        named.setdefault(link.table_name, set()).add(link.row_key)

    def firsts(table: str) -> list[Any]:
        return sorted({canonical.loads_key(k)[0] for k in named.get(table, ())})

    complaint = chain.removeprefix(COMPLAINT_PREFIX) if chain.startswith(COMPLAINT_PREFIX) \
        else None
    if complaint is None:
        yield from ((canonical.ORDER_EVENTS, r) for r in session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == chain)))
        ladders = select(EscalationRow.id).where(EscalationRow.order_id == chain)
        claims = select(ClaimRow.id).where(ClaimRow.order_id == chain)
        yield from ((canonical.CLAIM_EVENTS, r) for r in session.scalars(
            select(ClaimEvent).where(or_(ClaimEvent.claim_id.in_(claims),
                                         ClaimEvent.claim_id.in_(firsts("claim_events"))))))
        complaints = select(ComplaintRow.id).where(ComplaintRow.order_id == chain)
    else:
        ladders = select(EscalationRow.id).where(EscalationRow.order_id == "",
                                                 EscalationRow.subject == chain)
        complaints = select(ComplaintRow.id).where(ComplaintRow.id == complaint)
    yield from ((canonical.ESCALATION_EVENTS, r) for r in session.scalars(
        select(EscalationEvent).where(or_(
            EscalationEvent.escalation_id.in_(ladders),
            EscalationEvent.escalation_id.in_(firsts("escalation_events"))))))
    yield from ((canonical.COMPLAINT_EVENTS, r) for r in session.scalars(
        select(ComplaintEvent).where(or_(
            ComplaintEvent.complaint_id.in_(complaints),
            ComplaintEvent.complaint_id.in_(firsts("complaint_events"))))))
    if named.get(canonical.DOCUMENTS):
        yield from ((canonical.DOCUMENTS, r) for r in session.scalars(
            select(Document).where(Document.sha256.in_(firsts("documents")))))


def _mapping(table: str, row: Any) -> dict[str, Any]:
    return {col: getattr(row, col) for col in canonical.MEANING[table]}


def chain_mappings(session: Session, chain: str, links: list[AuditLink]
                   ) -> dict[tuple[str, str], dict[str, Any]]:
    return {(table, canonical.row_key(table, mapping)): mapping
            for table, mapping in ((t, _mapping(t, r)) for t, r in _rows_of(session, chain, links))}


def chain_rows(session: Session, chain: str, links: list[AuditLink]) -> dict[tuple[str, str], str]:
    """(table, key) -> canonical content of every row the chain's links name or its order
    owns (a row of another chain, named by none of these links, is left out)."""
    mappings = chain_mappings(session, chain, links)
    return {k: canonical.content(k[0], m) for k, m in mappings.items()}


def latest_checkpoint(session: Session, chain: str) -> Checkpoint | None:
    """The newest checkpoint that recorded `chain`, with all the heads it signed."""
    cp_id = session.scalar(select(func.max(AuditCheckpointHead.checkpoint_id))
                           .where(AuditCheckpointHead.order_id == chain))
    return None if cp_id is None else checkpoint(session, cp_id)


def checkpoint(session: Session, cp_id: int) -> Checkpoint | None:
    row = session.get(AuditCheckpoint, cp_id)
    if row is None:
        return None
    heads = session.execute(select(AuditCheckpointHead.order_id, AuditCheckpointHead.seq,
                                   AuditCheckpointHead.hash)
                            .where(AuditCheckpointHead.checkpoint_id == cp_id))
    return Checkpoint(id=row.id, created_at=canonical.utc_text(row.created_at),
                      key_id=row.key_id, prev_signature=row.prev_signature,
                      signature=row.signature,
                      heads=tuple(sorted((h.order_id, h.seq, h.hash) for h in heads)))


def verify(session: Session, chain: str, keys: Mapping[str, bytes], attempts: int = 5) -> Verdict:
    """Read `chain`'s links, rows, head and latest checkpoint, and walk it.

    An append committed while these are read (the order's projection goes on) would look like
    a row with no link or a head past the chain's end; every append moves the head, so the
    reading is taken again while the head moved under it."""
    for _ in range(attempts - 1):
        before = _head_of(session, chain)
        verdict = _verify_once(session, chain, keys)
        if verdict.ok or _head_of(session, chain) == before:
            return verdict
    return _verify_once(session, chain, keys)


def _head_of(session: Session, chain: str) -> tuple[int, str] | None:
    row = session.execute(select(AuditHead.seq, AuditHead.hash)
                          .where(AuditHead.order_id == chain)).one_or_none()
    return None if row is None else (row.seq, row.hash)


def _verify_once(session: Session, chain: str, keys: Mapping[str, bytes]) -> Verdict:
    links = links_of(session, chain)
    mappings = chain_mappings(session, chain, links)
    rows = {k: canonical.sha256(canonical.content(k[0], m)) for k, m in mappings.items()}
    named = {(lk.table_name, lk.row_key) for lk in links}
    unlinked = [k for k in rows if k not in named and _owned_elsewhere(session, k)]
    head_row = session.execute(select(AuditHead.seq, AuditHead.hash, AuditHead.sealed_seq)
                               .where(AuditHead.order_id == chain)).one_or_none()
    head = None if head_row is None else Head(head_row.seq, head_row.hash, head_row.sealed_seq)
    verdict = verify_chain(chain, [Link(lk.order_id, lk.seq, lk.table_name, lk.row_key,
                                        lk.content_hash, lk.prev_hash, lk.hash) for lk in links],
                           rows, unlinked, head, latest_checkpoint(session, chain), keys)
    # The personal values the rows' placeholders name must hold too (issue 17 §6).
    held = [(table, key, path, vid, digest) for (table, key), m in mappings.items()
            for path, vid, digest in placeholders.placeholders_in(table, m)]
    side = {vid: SideState(row.value, row.salt, row.redacted_at is not None)
            for vid, row in personal.side_rows(session, [h[3] for h in held]).items()}
    found = personal_problems(held, side)
    if not found:
        return verdict
    problems = (*verdict.problems, *found)[:MAX_PROBLEMS]
    checked = verdict.links_checked if verdict.problems else len(links)
    return Verdict(chain, checked, problems, verdict.head)


def _owned_elsewhere(session: Session, key: tuple[str, str]) -> bool:
    """True unless another chain links this row (a document first uploaded for another
    order is that order's)."""
    table, row_key = key
    return session.scalar(select(AuditLink.order_id).where(
        AuditLink.table_name == table, AuditLink.row_key == row_key)) is None


def export(session: Session, chain: str) -> Iterator[dict[str, Any]]:
    """Each link of `chain` with the canonical content of its row as stored now (None if the
    row is gone): what the README's offline script verifies."""
    links = links_of(session, chain)
    contents = chain_rows(session, chain, links)
    for lk in links:
        yield {"order_id": lk.order_id, "seq": lk.seq, "table": lk.table_name,
               "key": lk.row_key, "content": contents.get((lk.table_name, lk.row_key)),
               "content_hash": lk.content_hash, "prev_hash": lk.prev_hash, "hash": lk.hash}


def chains(session: Session) -> list[str]:
    """Every chain to verify: those with a head or a checkpoint (a chain deleted whole is
    still named), every order, and complaints with no order."""
    found = set(session.scalars(select(AuditHead.order_id)))
    found.update(session.scalars(select(AuditCheckpointHead.order_id).distinct()))
    found.update(session.scalars(select(Order.order_id)))
    found.update(f"{COMPLAINT_PREFIX}{cid}" for cid in session.scalars(
        select(ComplaintRow.id).where(ComplaintRow.order_id.is_(None))))
    return sorted(found)


def broken_checkpoints(session: Session, keys: Mapping[str, bytes]) -> list[Broken]:
    """Every checkpoint whose signature fails, or that does not follow its predecessor."""
    out: list[Broken] = []
    prev = ""
    for cp_id in session.scalars(select(AuditCheckpoint.id).order_by(AuditCheckpoint.id)):
        cp = checkpoint(session, cp_id)
        assert cp is not None
        problem = checkpoint_problem(cp, keys)
        if problem is not None:
            out.append(problem)
        elif cp.prev_signature != prev:
            out.append(Broken("checkpoint_chain", f"checkpoint {cp.id} does not follow the one "
                              "before it: a checkpoint was deleted"))
        prev = cp.signature
    return out


_HEADS: Any = AuditHead.__table__
# Run once per sealed chain, in one executemany; never moves a mark back (a concurrent seal).
_SEAL = (update(_HEADS)
         .where(_HEADS.c.order_id == bindparam("chain"), _HEADS.c.sealed_seq < bindparam("sealed"))
         .values(sealed_seq=bindparam("sealed")))


@dataclass(frozen=True)
class Sealed:
    checkpoint_id: int
    heads: int


def seal(session: Session, key: bytes, key_id: str, limit: int,
         now: datetime | None = None) -> Sealed | None:
    """Record and sign the heads of up to `limit` chains that moved since they were last
    sealed; None if none moved. Chains beyond `limit` wait for the next run."""
    moved = session.execute(select(AuditHead.order_id, AuditHead.seq, AuditHead.hash)
                            .where(AuditHead.seq > AuditHead.sealed_seq)
                            .order_by(AuditHead.order_id).limit(limit)).all()
    if not moved:
        return None
    heads = tuple(sorted((h.order_id, h.seq, h.hash) for h in moved))
    created = now or datetime.now(UTC)
    prev = session.scalar(select(AuditCheckpoint.signature)
                          .order_by(AuditCheckpoint.id.desc()).limit(1)) or ""
    created_text = canonical.utc_text(created)
    signature = sign(key, checkpoint_message(created_text, key_id, prev, heads))
    row = AuditCheckpoint(created_at=created, key_id=key_id, prev_signature=prev,
                          signature=signature, heads=len(heads))
    session.add(row)
    session.flush()
    session.execute(insert(AuditCheckpointHead), [
        {"order_id": c, "checkpoint_id": row.id, "seq": s, "hash": h} for c, s, h in heads])
    session.execute(_SEAL, [{"chain": c, "sealed": s} for c, s, _ in heads])
    return Sealed(row.id, len(heads))
