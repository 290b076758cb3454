"""Checkpoints are issued over each partition's stored tree only when it grew, only if it extends the last one
signed for that partition, always with one over every partition, and the receipts and proofs handed out verify
with the pure verifier against the signed notes alone (ADR 0013)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest
from audit_app_data import (
    NOW,
    OTHER_NIP,
    SIGNER,
    P,
    Q,
    event_id,
    evidence,
    filled,
    ledger,
    nip_in,
    others,
    realisation,
    tamper,
)

from chassis.partitions import PARTITIONS
from services.audit.adapters import checkpoint_rows, queries
from services.audit.adapters.checkpoint_rows import StoredCheckpoint
from services.audit.app.checkpoints import PeriodicCheckpoints, issue_checkpoint
from services.audit.app.errors import HistoryRewritten, LeafNotFound, NotCheckpointed, StoredTreeDamaged
from services.audit.app.proofs import consistency, receipt
from services.audit.domain.checkpoint import open_checkpoint
from services.audit.domain.errors import CheckpointError, ProofError
from services.audit.domain.merkle import EMPTY_ROOT, leaf_hash, verify_consistency, verify_inclusion
from services.audit.domain.partitions import (
    partition_origin,
    partitions_origin,
    partitions_root,
    verify_partition,
)


async def test_a_checkpoint_signs_the_current_tree_and_verifies_under_the_service_key(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 5)
    issued = await issue_checkpoint(conn, SIGNER, NOW)
    head = await queries.head(conn, P)
    assert issued.fresh
    assert issued.size == 5
    assert [(c.part, c.size, c.root) for c in issued.signed] == [(P, 5, head.root)]
    signed = open_checkpoint(issued.signed[0].note, SIGNER.verifier_key(), origin=partition_origin(SIGNER.name, P))
    assert (signed.size, signed.root) == (5, head.root)
    assert issued.partitions.sizes[P] == 5 and issued.partitions.roots[P] == head.root
    assert await checkpoint_rows.latest_checkpoint(conn, P) == issued.signed[0]
    assert await checkpoint_rows.checkpoint_keys(conn) == [SIGNER.verifier_key()]


async def test_an_empty_ledger_gets_a_checkpoint_of_the_empty_root(conn: asyncpg.Connection) -> None:
    issued = await issue_checkpoint(conn, SIGNER, NOW)
    assert issued.fresh
    assert issued.signed == ()
    assert issued.size == 0
    assert issued.partitions.sizes == (0,) * PARTITIONS
    assert issued.partitions.roots == (EMPTY_ROOT,) * PARTITIONS
    signed = open_checkpoint(issued.partitions.note, SIGNER.verifier_key(), origin=partitions_origin(SIGNER.name))
    assert (signed.size, signed.root) == (PARTITIONS, partitions_root([0] * PARTITIONS, [EMPTY_ROOT] * PARTITIONS))
    assert await checkpoint_rows.checkpoints(conn) == []


async def test_no_new_checkpoint_is_issued_while_the_tree_has_not_grown(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 3)
    await ledger(pool, *others(2))
    first = await issue_checkpoint(conn, SIGNER, NOW)
    again = await issue_checkpoint(conn, SIGNER, NOW + timedelta(hours=1))
    assert not again.fresh
    assert again.partitions == first.partitions
    assert again.signed == ()
    assert [(c.part, c.size) for c in await checkpoint_rows.checkpoints(conn)] == sorted([(P, 3), (Q, 2)])
    assert len(await checkpoint_rows.all_partitions(conn)) == 1


async def test_a_grown_tree_gets_a_checkpoint_consistent_with_the_previous_one(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 3)
    await ledger(pool, *others(2))
    first = await issue_checkpoint(conn, SIGNER, NOW)
    await ledger(pool, *evidence(realisation("later-1", 10, "1"), realisation("later-2", 11, "2")))
    second = await issue_checkpoint(conn, SIGNER, NOW + timedelta(minutes=1))
    # only the partition that grew is signed again; the one over every partition is signed anew
    assert [(c.part, c.size) for c in second.signed] == [(P, 5)]
    assert second.partitions.n == first.partitions.n + 1
    assert (second.partitions.sizes[Q], second.partitions.roots[Q]) == (2, first.partitions.roots[Q])
    before, after = first.partitions.roots[P], second.signed[0].root
    found = await consistency(conn, 3, 5, part=P)
    assert (found.root1, found.root2) == (before, after)
    verify_consistency(3, 5, before, after, list(found.proof))
    # then Q grows: its new checkpoint extends its own predecessor, P's is left as it was
    await ledger(pool, *others(3, name="more"))
    third = await issue_checkpoint(conn, SIGNER, NOW + timedelta(minutes=2))
    assert [(c.part, c.size) for c in third.signed] == [(Q, 5)]
    found = await consistency(conn, 2, 5, part=Q)
    verify_consistency(2, 5, first.partitions.roots[Q], third.signed[0].root, list(found.proof))
    stored = [(c.part, c.size) for c in await checkpoint_rows.checkpoints(conn)]
    assert stored == sorted([(P, 3), (P, 5), (Q, 2), (Q, 5)])


async def test_a_rewritten_subtree_is_refused_a_new_checkpoint(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 3)
    await issue_checkpoint(conn, SIGNER, NOW)
    await ledger(pool, *evidence(realisation("later", 10, "9")))
    await ledger(pool, *others(2))  # an intact partition grows too: it gets no checkpoint either
    # Someone rewrites the node over leaves [0, 2) that the consistency proof from size 3 relies on.
    await tamper(conn, "nodes", "UPDATE audit.nodes SET hash = $1 WHERE part = $2 AND level = 1 AND idx = 0",
                 b"\x07" * 32, P)
    with pytest.raises((HistoryRewritten, StoredTreeDamaged), match=f"partition {P}"):
        await issue_checkpoint(conn, SIGNER, NOW + timedelta(minutes=1))
    assert [(c.part, c.size) for c in await checkpoint_rows.checkpoints(conn)] == [(P, 3)]
    assert len(await checkpoint_rows.all_partitions(conn)) == 1


async def test_a_stored_checkpoint_that_disagrees_with_its_signed_note_stops_issuing(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 4)
    await issue_checkpoint(conn, SIGNER, NOW)
    await ledger(pool, *evidence(realisation("later", 10, "9")))
    await tamper(conn, "checkpoints", "UPDATE audit.checkpoints SET root = $1 WHERE part = $2", b"\x01" * 32, P)
    with pytest.raises(HistoryRewritten, match=f"partition {P}"):
        await issue_checkpoint(conn, SIGNER, NOW + timedelta(minutes=1))
    assert len(await checkpoint_rows.all_partitions(conn)) == 1


async def test_a_tree_head_the_stored_nodes_do_not_give_is_refused(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 4)
    await ledger(pool, *others(2))
    await conn.execute("UPDATE audit.heads SET root = $1 WHERE part = $2", b"\x02" * 32, P)
    with pytest.raises(StoredTreeDamaged, match=f"partition {P}"):
        await issue_checkpoint(conn, SIGNER, NOW)
    assert await checkpoint_rows.checkpoints(conn) == []
    assert await checkpoint_rows.all_partitions(conn) == []


async def test_a_receipt_proves_an_event_under_the_signed_checkpoint_alone(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await ledger(pool, *others(3))  # leaves of another partition first: positions are counted per partition
    events = await filled(pool, 11)
    await issue_checkpoint(conn, SIGNER, NOW)
    for index in (0, 5, 10):
        r = await receipt(conn, events[index].event_id)
        signed = open_checkpoint(r.checkpoint_note, SIGNER.verifier_key(), origin=partition_origin(SIGNER.name, P))
        leaf = await queries.leaf_by_event(conn, events[index].event_id)
        assert leaf is not None
        assert leaf.body is not None
        assert (r.partition, r.leaf_index, r.tree_size, r.root) == (P, index, 11, signed.root)
        verify_inclusion(r.leaf_index, signed.size, leaf_hash(leaf.body), list(r.proof), signed.root)
        # the second step: that partition's tree head inside the checkpoint over every partition
        assert r.partitions is not None
        over_all = open_checkpoint(r.partitions.note, SIGNER.verifier_key(), origin=partitions_origin(SIGNER.name))
        assert (over_all.size, over_all.root) == (PARTITIONS, r.partitions.root)
        verify_partition(P, signed.size, signed.root, over_all.size, list(r.partitions.proof), over_all.root)
        with pytest.raises(ProofError):  # the step does not prove the head as another partition's
            verify_partition(Q, signed.size, signed.root, over_all.size, list(r.partitions.proof), over_all.root)
        assert r.to_json()["leaf_index"] == index
        assert r.to_json()["partition"] == P


async def test_a_receipt_waits_for_a_checkpoint_that_covers_the_event(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 2)
    await issue_checkpoint(conn, SIGNER, NOW)
    late = realisation("late", 9, "3")
    elsewhere = realisation("elsewhere", 9, "3", OTHER_NIP)  # in a partition empty at the checkpoint
    await ledger(pool, *evidence(late, elsewhere))
    for event in (late, elsewhere):
        with pytest.raises(NotCheckpointed):
            await receipt(conn, event.event_id)
    with pytest.raises(LeafNotFound):
        await receipt(conn, event_id("never-ledgered"))


async def test_consistency_is_refused_beyond_the_tree(pool: asyncpg.Pool, conn: asyncpg.Connection) -> None:
    await filled(pool, 4)
    assert (await consistency(conn, 2, 4, part=P)).size2 == 4
    with pytest.raises(ProofError):
        await consistency(conn, 2, 5, part=P)
    with pytest.raises(ProofError):  # the other partitions' trees are empty
        await consistency(conn, 1, 2, part=Q)


async def test_the_periodic_task_issues_while_the_tree_grows_and_stops_cleanly(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 2)
    task = PeriodicCheckpoints(SIGNER, interval=0.05, clock=lambda: NOW)
    task.start(pool)
    try:
        for _ in range(100):
            if await checkpoint_rows.latest_checkpoint(conn, P) is not None:
                break
            await asyncio.sleep(0.02)
        await ledger(pool, *evidence(realisation("more", 7, "1")))
        for _ in range(100):
            latest = await checkpoint_rows.latest_checkpoint(conn, P)
            if latest is not None and latest.size == 3:
                break
            await asyncio.sleep(0.02)
    finally:
        await task.stop()
    assert [(c.part, c.size) for c in await checkpoint_rows.checkpoints(conn)] == [(P, 2), (P, 3)]
    assert [sum(c.sizes) for c in await checkpoint_rows.all_partitions(conn)] == [2, 3]


async def test_the_checkpoint_over_every_partition_signs_the_root_of_the_partitions_signed_roots(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    grown = {0: 3, P: 5, Q: 2}
    for part, n in grown.items():
        await ledger(pool, *others(n, nip_in(part), f"p{part}-"))
    vkey = SIGNER.verifier_key()

    async def check(issued_signed: tuple[StoredCheckpoint, ...], over_all_note: str, expect: dict[int, int]) -> None:
        # each grown partition's own note, under its own origin (partition 0 keeps the bare one)
        assert sorted(c.part for c in issued_signed) == sorted(expect)
        for c in issued_signed:
            origin = partition_origin(SIGNER.name, c.part)
            assert origin == (SIGNER.name if c.part == 0 else f"{SIGNER.name}/p{c.part}")
            opened = open_checkpoint(c.note, vkey, origin=origin)
            assert (opened.size, opened.root) == (expect[c.part], (await queries.head(conn, c.part)).root)
            if c.part != 0:
                with pytest.raises(CheckpointError):  # not a checkpoint of partition 0's log
                    open_checkpoint(c.note, vkey, origin=SIGNER.name)
        # the one over every partition: a C2SP note of PARTITIONS leaves, over the roots the partitions' notes sign
        over_all = open_checkpoint(over_all_note, vkey, origin=partitions_origin(SIGNER.name))
        assert over_all_note.splitlines()[1] == str(PARTITIONS)
        sizes, roots = [0] * PARTITIONS, [EMPTY_ROOT] * PARTITIONS
        for c in await checkpoint_rows.checkpoints(conn):
            latest = open_checkpoint(c.note, vkey, origin=partition_origin(SIGNER.name, c.part))
            if latest.size >= sizes[c.part]:
                sizes[c.part], roots[c.part] = latest.size, latest.root
        assert (over_all.size, over_all.root) == (PARTITIONS, partitions_root(sizes, roots))

    first = await issue_checkpoint(conn, SIGNER, NOW)
    await check(first.signed, first.partitions.note, grown)
    assert first.size == sum(grown.values())
    await ledger(pool, *others(4, nip_in(Q), "again"))
    second = await issue_checkpoint(conn, SIGNER, NOW + timedelta(minutes=1))
    await check(second.signed, second.partitions.note, {Q: 6})
    assert second.partitions.root != first.partitions.root
    with pytest.raises(CheckpointError):  # neither is a partition's checkpoint
        open_checkpoint(second.partitions.note, vkey, origin=SIGNER.name)
