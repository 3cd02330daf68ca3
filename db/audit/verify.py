"""Walking one audit chain: every broken link and what is wrong with it. Pure: the
caller (db/audit/queries.py `gather`) reads the links, the rows and the checkpoint.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from db.audit import canonical
from db.personal.placeholders import value_hash

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
# A personal value kept beside a chained row (issue 17 §6) no longer matches its placeholder's
# salted hash, or was deleted instead of redacted.
PERSONAL_VALUE_EDITED = "personal_value_edited"
PERSONAL_VALUE_DELETED = "personal_value_deleted"


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


MAX_PROBLEMS = 100  # a report stays readable (and bounded) however much was changed


@dataclass(frozen=True)
class Verdict:
    """`problems`: every break the walk found, in chain order (at most MAX_PROBLEMS), so an
    auditor sees each edited or deleted row, not only the first; `links_checked`: links found
    intact before the first break."""

    order_id: str
    links_checked: int
    problems: tuple[Broken, ...] = ()
    head: Head | None = field(default=None, compare=False)

    @property
    def first_broken(self) -> Broken | None:
        return self.problems[0] if self.problems else None

    @property
    def ok(self) -> bool:
        return not self.problems


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
    """Walk `order_id`'s chain and report every broken link (the walk goes on past a break,
    taking the next link as it stands, so one deleted row does not hide a later edit).

    Args:
        links: the chain's links, by seq.
        rows: (table, natural key) -> content hash of every row a link names that still exists.
        unlinked: (table, natural key) of the order's rows no link names.
        head: the chain's head row; None if it has none.
        checkpoint: the latest signed checkpoint recording this chain, if any.
        keys: checkpoint keys by key id (the current one and retired ones).
    """
    problems: list[Broken] = []
    prev, seq, intact = canonical.GENESIS, 0, None
    hashes: dict[int, str] = {}
    for link in sorted(links, key=lambda lk: lk.seq):
        found = _link_problems(order_id, link, seq + 1, prev, rows)
        if found and intact is None:
            intact = seq
        problems += found
        prev, seq = link.hash, link.seq
        hashes[link.seq] = link.hash
    intact = seq if intact is None else intact
    if head is None and seq:
        problems.append(Broken(HEAD_MISMATCH, "the chain has links but no head: its head row "
                               "was deleted"))
    if head is not None and (head.seq, head.hash) != (seq, prev):
        problems.append(Broken(HEAD_MISMATCH, f"the chain's head is link {head.seq} but the "
                               f"chain ends at link {seq}: links were deleted from its end "
                               "(or the head was edited)", seq=head.seq))
    if checkpoint is not None:
        problems += _checkpoint_problems(order_id, checkpoint, hashes, keys)
    elif head is not None and head.sealed_seq > 0:
        problems.append(Broken(CHECKPOINT_MISSING, f"the chain was sealed at link "
                               f"{head.sealed_seq} but no checkpoint records it: a checkpoint "
                               "was deleted", seq=head.sealed_seq))
    problems += [Broken(ROW_UNLINKED, f"{table} row {key} has no link: it was inserted "
                        "around the chain", table=table, key=key)
                 for table, key in sorted(unlinked)]
    return Verdict(order_id, intact if problems else seq, tuple(problems[:MAX_PROBLEMS]), head)


def _link_problems(order_id: str, link: Link, expected_seq: int, prev: str,
                   rows: Mapping[tuple[str, str], str]) -> list[Broken]:
    """What is wrong at one link, given the seq and predecessor hash the walk expects."""
    at = _Where(link.seq, link.table, link.key)
    found: list[Broken] = []
    if link.seq != expected_seq:
        gap = f"links {expected_seq}–{link.seq - 1} are" if link.seq - 1 > expected_seq \
            else f"link {expected_seq} is"
        found.append(Broken(LINK_MISSING, f"{gap} missing (the next one is {link.seq}): a link "
                            "was deleted", seq=expected_seq))
    elif link.prev_hash != prev:
        found.append(Broken(LINK_BROKEN, f"link {link.seq} does not follow link "
                            f"{link.seq - 1}: links were reordered or replaced", *at))
    if canonical.link_hash(order_id, link.seq, link.table, link.key, link.content_hash,
                           link.prev_hash) != link.hash:
        found.append(Broken(LINK_EDITED, f"link {link.seq}'s hash does not match its fields: "
                            "the link was edited", *at))
    stored = rows.get((link.table, link.key))
    if stored is None:
        found.append(Broken(ROW_DELETED, f"{link.table} row {link.key} (link {link.seq}) "
                            "was deleted", *at))
    elif stored != link.content_hash:
        found.append(Broken(ROW_EDITED, f"{link.table} row {link.key} (link {link.seq}) "
                            "was edited: its content hash differs", *at))
    return found


def _checkpoint_problems(order_id: str, checkpoint: Checkpoint, hashes: Mapping[int, str],
                         keys: Mapping[str, bytes]) -> list[Broken]:
    problem = checkpoint_problem(checkpoint, keys)
    if problem is not None:
        return [problem]
    sealed = next((h for h in checkpoint.heads if h[0] == order_id), None)
    if sealed is None or hashes.get(sealed[1]) != sealed[2]:
        seq = sealed[1] if sealed else None
        return [Broken(CHECKPOINT_MISMATCH, f"the chain no longer holds link {seq} as "
                       f"checkpoint {checkpoint.id} signed it: the chain was rewritten",
                       seq=seq)]
    return []


@dataclass(frozen=True)
class SideState:
    """A `personal_values` row as verification reads it."""

    value: object
    salt: str | None
    redacted: bool


def personal_problems(named: Sequence[tuple[str, str, str, str, str]],
                      side: Mapping[str, SideState]) -> list[Broken]:
    """Every personal value that does not match its placeholder (issue 17 §6): edited, or
    deleted instead of redacted. A redacted one (value and salt gone on purpose) is fine.

    Args:
        named: (table, row key, path, value id, hash) of every placeholder in the chain's rows.
        side: value id -> its side-table row, for those that exist.
    """
    found: list[Broken] = []
    for table, key, path, vid, digest in sorted(named):
        state = side.get(vid)
        if state is None:
            found.append(Broken(PERSONAL_VALUE_DELETED, f"{table} row {key}: the personal "
                                f"value at {path} ({vid}) was deleted, not redacted",
                                table=table, key=key))
        elif not state.redacted and (state.salt is None
                                     or value_hash(state.salt, state.value) != digest):
            found.append(Broken(PERSONAL_VALUE_EDITED, f"{table} row {key}: the personal "
                                f"value at {path} ({vid}) was edited: its hash differs from "
                                "the row's placeholder", table=table, key=key))
    return found
