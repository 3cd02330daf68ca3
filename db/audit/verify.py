"""Walking one audit chain: the first broken link and what is wrong with it. Pure: the
caller (db/audit/queries.py `gather`) reads the links, the rows and the checkpoint.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from db.audit import canonical

# What can be wrong, in the order a walk meets it.
LINK_MISSING = "link_missing"          # a seq is absent: a link was deleted (or renumbered)
LINK_BROKEN = "link_broken"            # the predecessor hash differs: links reordered/replaced
LINK_EDITED = "link_edited"            # the link's own hash does not match what it says
ROW_DELETED = "row_deleted"            # the linked row is gone
ROW_EDITED = "row_edited"              # the linked row's content hash differs
HEAD_MISMATCH = "head_mismatch"        # the head is not the last link: links cut off the end
CHECKPOINT_SIGNATURE = "checkpoint_signature"  # the checkpoint's HMAC does not verify
CHECKPOINT_KEY_UNKNOWN = "checkpoint_key_unknown"
CHECKPOINT_MISMATCH = "checkpoint_mismatch"    # the chain no longer holds the signed head
CHECKPOINT_MISSING = "checkpoint_missing"      # the head says sealed; no checkpoint has it
ROW_UNLINKED = "row_unlinked"          # a row of the order with no link: inserted around it


@dataclass(frozen=True)
class Link:
    order_id: str
    seq: int
    table: str
    key: str
    content_hash: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    sealed_seq: int = 0


@dataclass(frozen=True)
class Checkpoint:
    """The latest checkpoint recording this chain, with every head it signed."""

    id: int
    created_at: str  # canonical UTC text
    key_id: str
    prev_signature: str
    signature: str
    heads: tuple[tuple[str, int, str], ...]  # (chain, seq, hash), sorted


class _Where(NamedTuple):
    seq: int
    table: str
    key: str


@dataclass(frozen=True)
class Broken:
    problem: str
    message: str
    seq: int | None = None
    table: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class Verdict:
    order_id: str
    links_checked: int
    first_broken: Broken | None = None
    head: Head | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.first_broken is None


def checkpoint_message(created_at: str, key_id: str, prev_signature: str,
                       heads: Sequence[tuple[str, int, str]]) -> str:
    """The text a checkpoint signs."""
    return canonical.dumps({"created_at": created_at, "key_id": key_id,
                            "prev_signature": prev_signature,
                            "heads": [list(h) for h in sorted(heads)]})


def sign(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), "sha256").hexdigest()


def checkpoint_problem(cp: Checkpoint, keys: Mapping[str, bytes]) -> Broken | None:
    """Whether a checkpoint's signature holds under the key its id names."""
    key = keys.get(cp.key_id)
    if key is None:
        return Broken(CHECKPOINT_KEY_UNKNOWN, f"checkpoint {cp.id} is signed with key "
                      f"{cp.key_id!r}, which is not configured")
    expected = sign(key, checkpoint_message(cp.created_at, cp.key_id, cp.prev_signature,
                                            cp.heads))
    if not hmac.compare_digest(expected, cp.signature):
        return Broken(CHECKPOINT_SIGNATURE, f"checkpoint {cp.id}'s signature does not verify: "
                      "the checkpoint or the heads it records were changed")
    return None


def verify_chain(order_id: str, links: Sequence[Link], rows: Mapping[tuple[str, str], str],
                 unlinked: Sequence[tuple[str, str]], head: Head | None,
                 checkpoint: Checkpoint | None, keys: Mapping[str, bytes]) -> Verdict:
    """Walk `order_id`'s chain and report its first broken link.

    Args:
        links: the chain's links, by seq.
        rows: (table, natural key) -> content hash of every row a link names that still exists.
        unlinked: (table, natural key) of the order's rows no link names.
        head: the chain's head row; None if it has none.
        checkpoint: the latest signed checkpoint recording this chain, if any.
        keys: checkpoint keys by key id (the current one and retired ones).
    """
    prev, checked = canonical.GENESIS, 0

    def broken(b: Broken) -> Verdict:
        return Verdict(order_id, checked, b, head)

    hashes: dict[int, str] = {}
    for link in sorted(links, key=lambda lk: lk.seq):
        at = _Where(link.seq, link.table, link.key)
        if link.seq != checked + 1:
            return broken(Broken(LINK_MISSING, f"link {checked + 1} is missing (the next one is "
                                 f"{link.seq}): a link was deleted", seq=checked + 1))
        if link.prev_hash != prev:
            return broken(Broken(LINK_BROKEN, f"link {link.seq} does not follow link "
                                 f"{link.seq - 1}: links were reordered or replaced", *at))
        if canonical.link_hash(order_id, link.seq, link.table, link.key, link.content_hash,
                               link.prev_hash) != link.hash:
            return broken(Broken(LINK_EDITED, f"link {link.seq}'s hash does not match its "
                                 "fields: the link was edited", *at))
        stored = rows.get((link.table, link.key))
        if stored is None:
            return broken(Broken(ROW_DELETED, f"{link.table} row {link.key} (link {link.seq}) "
                                 "was deleted", *at))
        if stored != link.content_hash:
            return broken(Broken(ROW_EDITED, f"{link.table} row {link.key} (link {link.seq}) "
                                 "was edited: its content hash differs", *at))
        prev, checked = link.hash, checked + 1
        hashes[link.seq] = link.hash
    if head is None and checked:
        return broken(Broken(HEAD_MISMATCH, "the chain has links but no head: its head row "
                             "was deleted"))
    if head is not None and (head.seq, head.hash) != (checked, prev):
        return broken(Broken(HEAD_MISMATCH, f"the chain's head is link {head.seq} but the "
                             f"chain ends at link {checked}: links were deleted from its end "
                             "(or the head was edited)", seq=head.seq))
    if checkpoint is not None:
        problem = checkpoint_problem(checkpoint, keys)
        if problem is not None:
            return broken(problem)
        sealed = next((h for h in checkpoint.heads if h[0] == order_id), None)
        if sealed is None or hashes.get(sealed[1]) != sealed[2]:
            seq = sealed[1] if sealed else None
            return broken(Broken(CHECKPOINT_MISMATCH, f"the chain no longer holds link {seq} "
                                 f"as checkpoint {checkpoint.id} signed it: the chain was "
                                 "rewritten", seq=seq))
    elif head is not None and head.sealed_seq > 0:
        return broken(Broken(CHECKPOINT_MISSING, f"the chain was sealed at link "
                             f"{head.sealed_seq} but no checkpoint records it: a checkpoint "
                             "was deleted", seq=head.sealed_seq))
    if unlinked:
        table, key = sorted(unlinked)[0]
        return broken(Broken(ROW_UNLINKED, f"{table} row {key} has no link: it was inserted "
                             "around the chain", table=table, key=key))
    return Verdict(order_id, checked, None, head)
