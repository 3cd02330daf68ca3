"""The pure chain walk (db/audit/verify.py): which problem it names first, on chains built in
memory. Fast: no database."""

from __future__ import annotations

from dataclasses import replace

from db.audit import canonical
from db.audit import verify as v

KEY = {"k1": b"secret"}


def _chain(n: int, chain: str = "SO-1") -> tuple[list[v.Link], dict[tuple[str, str], str]]:
    links, rows, prev = [], {}, canonical.GENESIS
    for seq in range(1, n + 1):
        key = canonical.dumps([chain, f"e{seq}"])
        content_hash = canonical.sha256(f"row {seq}")
        link = v.Link(chain, seq, "order_events", key, content_hash, prev,
                      canonical.link_hash(chain, seq, "order_events", key, content_hash, prev))
        links.append(link)
        rows[("order_events", key)] = content_hash
        prev = link.hash
    return links, rows


def _checkpoint(links: list[v.Link], seq: int, key: bytes = b"secret") -> v.Checkpoint:
    heads = (("SO-1", seq, links[seq - 1].hash),)
    created = "2026-12-05T07:00:00.000000Z"
    sig = v.sign(key, v.checkpoint_message(created, "k1", "", heads))
    return v.Checkpoint(1, created, "k1", "", sig, heads)


def _walk(links: list[v.Link], rows: dict[tuple[str, str], str], *,
          unlinked: list[tuple[str, str]] | None = None, head: v.Head | None = None,
          checkpoint: v.Checkpoint | None = None) -> v.Verdict:
    if head is None and links:
        head = v.Head(links[-1].seq, links[-1].hash)
    return v.verify_chain("SO-1", links, rows, unlinked or [], head, checkpoint, KEY)


def test_an_intact_chain_verifies_with_its_checkpoint() -> None:
    links, rows = _chain(5)
    verdict = _walk(links, rows, checkpoint=_checkpoint(links, 3))
    assert verdict.ok and verdict.links_checked == 5
    assert v.verify_chain("SO-1", [], {}, [], None, None, KEY).ok  # an order with nothing yet


def test_the_first_problem_is_named_with_its_link() -> None:
    links, rows = _chain(5)
    edited = {**rows, ("order_events", links[1].key): "x"}
    deleted = {k: h for k, h in rows.items() if k != ("order_events", links[3].key)}
    cases = [
        (links, edited, v.ROW_EDITED, 2),
        (links, deleted, v.ROW_DELETED, 4),
        (links[:2] + links[3:], rows, v.LINK_MISSING, 3),
        ([*links[:1], replace(links[2], seq=2), replace(links[1], seq=3), *links[3:]], rows,
         v.LINK_BROKEN, 2),
        ([*links[:2], replace(links[2], table="claim_events"), *links[3:]], rows,
         v.LINK_EDITED, 3),
        # Two problems: the one earlier in the chain is named.
        (links[:4], {**edited, ("order_events", links[3].key): "y"}, v.ROW_EDITED, 2),
    ]
    for chain, current, problem, seq in cases:
        broken = _walk(chain, current, head=v.Head(5, links[-1].hash)).first_broken
        assert broken is not None and (broken.problem, broken.seq) == (problem, seq), broken


def test_every_edited_deleted_or_inserted_row_is_named_not_only_the_first() -> None:
    links, rows = _chain(6)
    current = {**rows, ("order_events", links[1].key): "x"}
    del current[("order_events", links[4].key)]
    verdict = _walk(links[:3] + links[4:], current, unlinked=[("order_events", '["SO-1","zz"]')])
    assert not verdict.ok and verdict.links_checked == 1
    assert [(b.problem, b.seq) for b in verdict.problems] == [
        (v.ROW_EDITED, 2), (v.LINK_MISSING, 4), (v.ROW_DELETED, 5), (v.ROW_UNLINKED, None)]
    assert verdict.first_broken == verdict.problems[0]


def test_the_end_of_the_chain_is_held_by_its_head_and_its_checkpoint() -> None:
    links, rows = _chain(5)
    cut = _walk(links[:4], rows, head=v.Head(5, links[4].hash)).first_broken
    assert cut is not None and cut.problem == v.HEAD_MISMATCH
    headless = v.verify_chain("SO-1", links, rows, [], None, None, KEY).first_broken
    assert headless is not None and headless.problem == v.HEAD_MISMATCH
    # Cut and the head moved back too: only the signed checkpoint still knows.
    checkpoint = _checkpoint(links, 5)
    rewound = _walk(links[:4], rows, checkpoint=checkpoint).first_broken
    assert rewound is not None and rewound.problem == v.CHECKPOINT_MISMATCH
    # A forged signature, a key nobody has, and a checkpoint gone while the head says sealed.
    forged = _walk(links, rows, checkpoint=replace(checkpoint, signature="0" * 64)).first_broken
    assert forged is not None and forged.problem == v.CHECKPOINT_SIGNATURE
    other = _walk(links, rows, checkpoint=_checkpoint(links, 5, key=b"other")).first_broken
    assert other is not None and other.problem == v.CHECKPOINT_SIGNATURE
    unknown = _walk(links, rows, checkpoint=replace(checkpoint, key_id="k9")).first_broken
    assert unknown is not None and unknown.problem == v.CHECKPOINT_KEY_UNKNOWN
    missing = _walk(links, rows, head=v.Head(5, links[-1].hash, sealed_seq=5)).first_broken
    assert missing is not None and missing.problem == v.CHECKPOINT_MISSING


def test_a_row_inserted_around_the_chain_is_named_after_the_links_check_out() -> None:
    links, rows = _chain(2)
    broken = _walk(links, rows, unlinked=[("order_events", '["SO-1","zz"]'),
                                          ("claim_events", '["SO-1-CL1",1]')]).first_broken
    assert broken is not None and broken.problem == v.ROW_UNLINKED
    assert (broken.table, broken.key) == ("claim_events", '["SO-1-CL1",1]')


def test_canonical_content_is_sorted_utc_with_microseconds_and_unescaped() -> None:
    from datetime import datetime, timedelta, timezone
    at = datetime(2026, 12, 5, 15, 1, 37, tzinfo=timezone(timedelta(hours=8)))
    row = {"sha256": "ab", "content_type": "application/pdf", "size": 3, "created_at": at,
           "created_by": "张三"}
    assert canonical.content("documents", row) == (
        '{"content_type":"application/pdf","created_at":"2026-12-05T07:01:37.000000Z",'
        '"created_by":"张三","sha256":"ab","size":3}')
    assert canonical.row_key("documents", row) == '["ab"]'
