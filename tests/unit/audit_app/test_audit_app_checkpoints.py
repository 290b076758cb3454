"""Checkpoints are issued over the stored tree only when it grew, only if it extends the last one signed, and
the receipts and proofs handed out verify with the pure verifier against the signed note alone."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest
from audit_app_data import NOW, SIGNER, event_id, evidence, filled, ledger, realisation, tamper

from services.audit.adapters import queries
from services.audit.app.checkpoints import PeriodicCheckpoints, issue_checkpoint
from services.audit.app.errors import HistoryRewritten, LeafNotFound, NotCheckpointed, StoredTreeDamaged
from services.audit.app.proofs import consistency, receipt
from services.audit.domain.checkpoint import open_checkpoint
from services.audit.domain.errors import ProofError
from services.audit.domain.merkle import EMPTY_ROOT, leaf_hash, verify_consistency, verify_inclusion


async def test_a_checkpoint_signs_the_current_tree_and_verifies_under_the_service_key(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 5)
    issued = await issue_checkpoint(conn, SIGNER, NOW)
    head = await queries.head(conn)
    assert issued.fresh
    assert issued.checkpoint.size == 5
    assert issued.checkpoint.root == head.root
    signed = open_checkpoint(issued.checkpoint.note, SIGNER.verifier_key(), origin=SIGNER.name)
    assert (signed.size, signed.root) == (5, head.root)
    assert await queries.checkpoint_keys(conn) == [SIGNER.verifier_key()]


async def test_an_empty_ledger_gets_a_checkpoint_of_the_empty_root(conn: asyncpg.Connection) -> None:
    issued = await issue_checkpoint(conn, SIGNER, NOW)
    assert (issued.checkpoint.size, issued.checkpoint.root) == (0, EMPTY_ROOT)


async def test_no_new_checkpoint_is_issued_while_the_tree_has_not_grown(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 3)
    first = await issue_checkpoint(conn, SIGNER, NOW)
    again = await issue_checkpoint(conn, SIGNER, NOW + timedelta(hours=1))
    assert not again.fresh
    assert again.checkpoint == first.checkpoint
    assert len(await queries.checkpoints(conn)) == 1


async def test_a_grown_tree_gets_a_checkpoint_consistent_with_the_previous_one(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 3)
    first = (await issue_checkpoint(conn, SIGNER, NOW)).checkpoint
    await ledger(pool, *evidence(realisation("later-1", 10, "1"), realisation("later-2", 11, "2")))
    second = (await issue_checkpoint(conn, SIGNER, NOW + timedelta(minutes=1))).checkpoint
    assert second.size == 5
    found = await consistency(conn, first.size, second.size)
    verify_consistency(first.size, second.size, first.root, second.root, list(found.proof))


async def test_a_rewritten_subtree_is_refused_a_new_checkpoint(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 3)
    await issue_checkpoint(conn, SIGNER, NOW)
    await ledger(pool, *evidence(realisation("later", 10, "9")))
    # Someone rewrites the node over leaves [0, 2) that the consistency proof from size 3 relies on.
    await tamper(conn, "nodes", "UPDATE audit.nodes SET hash = $1 WHERE level = 1 AND idx = 0", b"\x07" * 32)
    with pytest.raises((HistoryRewritten, StoredTreeDamaged)):
        await issue_checkpoint(conn, SIGNER, NOW + timedelta(minutes=1))
    assert len(await queries.checkpoints(conn)) == 1


async def test_a_stored_checkpoint_that_disagrees_with_its_signed_note_stops_issuing(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 4)
    await issue_checkpoint(conn, SIGNER, NOW)
    await ledger(pool, *evidence(realisation("later", 10, "9")))
    await tamper(conn, "checkpoints", "UPDATE audit.checkpoints SET root = $1", b"\x01" * 32)
    with pytest.raises(HistoryRewritten):
        await issue_checkpoint(conn, SIGNER, NOW + timedelta(minutes=1))


async def test_a_tree_head_the_stored_nodes_do_not_give_is_refused(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 4)
    await conn.execute("UPDATE audit.head SET root = $1", b"\x02" * 32)
    with pytest.raises(StoredTreeDamaged):
        await issue_checkpoint(conn, SIGNER, NOW)


async def test_a_receipt_proves_an_event_under_the_signed_checkpoint_alone(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    events = await filled(pool, 11)
    await issue_checkpoint(conn, SIGNER, NOW)
    for index in (0, 5, 10):
        r = await receipt(conn, events[index].event_id)
        signed = open_checkpoint(r.checkpoint_note, SIGNER.verifier_key())
        leaf = await queries.leaf_by_event(conn, events[index].event_id)
        assert leaf is not None
        assert leaf.body is not None
        verify_inclusion(r.leaf_index, signed.size, leaf_hash(leaf.body), list(r.proof), signed.root)
        assert r.to_json()["leaf_index"] == index


async def test_a_receipt_waits_for_a_checkpoint_that_covers_the_event(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 2)
    await issue_checkpoint(conn, SIGNER, NOW)
    late = realisation("late", 9, "3")
    await ledger(pool, *evidence(late))
    with pytest.raises(NotCheckpointed):
        await receipt(conn, late.event_id)
    with pytest.raises(LeafNotFound):
        await receipt(conn, event_id("never-ledgered"))


async def test_consistency_is_refused_beyond_the_tree(pool: asyncpg.Pool, conn: asyncpg.Connection) -> None:
    await filled(pool, 4)
    with pytest.raises(ProofError):
        await consistency(conn, 2, 5)


async def test_the_periodic_task_issues_while_the_tree_grows_and_stops_cleanly(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 2)
    task = PeriodicCheckpoints(SIGNER, interval=0.05, clock=lambda: NOW)
    task.start(pool)
    try:
        for _ in range(100):
            if await queries.latest_checkpoint(conn) is not None:
                break
            await asyncio.sleep(0.02)
        await ledger(pool, *evidence(realisation("more", 7, "1")))
        for _ in range(100):
            latest = await queries.latest_checkpoint(conn)
            if latest is not None and latest.size == 3:
                break
            await asyncio.sleep(0.02)
    finally:
        await task.stop()
    assert [c.size for c in await queries.checkpoints(conn)] == [2, 3]
