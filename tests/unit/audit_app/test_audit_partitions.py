"""The ledger in partitions (ADR 0013): appends of different partitions commit side by side, one event is a leaf
once whichever subjects carry it, and a ledger written before the partitions migrates with its history and its
signed checkpoints intact."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import asyncpg
import orjson
import pytest

from chassis.db import create_pool, schema_sql
from chassis.kafka import Position
from chassis.partitions import partition_of
from contracts import topics
from services.audit.adapters import checkpoint_rows, queries
from services.audit.adapters.ledger import Entry, Ledger, chain_next, entry_of
from services.audit.app.checkpoints import issue_checkpoint
from services.audit.app.proofs import receipt
from services.audit.app.verify import verify_ledger
from services.audit.domain.checkpoint import Checkpoint, open_checkpoint
from services.audit.domain.merkle import Frontier, leaf_hashes, root_from_leaf_hashes, verify_inclusion
from services.audit.domain.partitions import partition_origin, partitions_root, verify_partition
from tests.databases import fresh_database
from tests.unit.audit_app.audit_app_data import NOW, SIGNER, body, realisation

LEGACY_SCHEMA = Path(__file__).parent / "legacy_schema_fb54eb9.sql"


def _nips_in_two_partitions() -> tuple[str, str]:
    """Two NIPs whose leaves go to different partitions."""
    first = "198001012005011001"
    for n in range(2, 200):
        other = f"1980010120050110{n:02d}"
        if partition_of(other) != partition_of(first):
            return first, other
    raise AssertionError("no second partition among 200 NIPs")


def _entries(nip: str, names: list[str]) -> list[Entry]:
    return [entry_of(topics.EVIDENCE, body(realisation(f"{nip}-{n}", i + 1, "1", nip))) for i, n in enumerate(names)]


async def test_a_batch_commits_while_another_partition_is_locked_and_queues_behind_its_own(
    pool: asyncpg.Pool,
) -> None:
    a, b = _nips_in_two_partitions()
    ledger = Ledger(pool)
    async with pool.acquire() as holder, holder.transaction():
        await holder.execute("SELECT 1 FROM audit.heads WHERE part = $1 FOR UPDATE", partition_of(b))
        # Partition a's batch does not wait for the writer holding partition b.
        assert await asyncio.wait_for(ledger.append(_entries(a, ["x", "y"]), []), 10) == 2
        # Partition b's batch waits for it.
        waiting = asyncio.create_task(ledger.append(_entries(b, ["z"]), []))
        done, _ = await asyncio.wait({waiting}, timeout=1.5)
        assert not done
    assert await asyncio.wait_for(waiting, 10) == 1
    async with pool.acquire() as conn:
        heads = {h.part: h for h in await queries.heads(conn)}
    assert heads[partition_of(a)].size == 2
    assert heads[partition_of(b)].size == 1


async def test_one_event_under_two_subjects_in_two_partitions_is_one_leaf(pool: asyncpg.Pool) -> None:
    a, b = _nips_in_two_partitions()
    ledger = Ledger(pool)
    original = _entries(a, ["same"])[0]
    again = original._replace(subject=b)  # the same id, claimed under a subject of another partition
    assert await ledger.append([original], []) == 1
    assert await ledger.append([again, original], []) == 0
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM audit.leaves") == 1
        assert await queries.ledger_size(conn) == 1


async def test_leaves_are_ordered_across_partitions_and_each_tree_is_dense(pool: asyncpg.Pool) -> None:
    a, b = _nips_in_two_partitions()
    ledger = Ledger(pool)
    await ledger.append(_entries(a, ["1", "2"]) + _entries(b, ["3"]), [Position(topics.EVIDENCE, 0, 3)])
    await ledger.append(_entries(b, ["4"]) + _entries(a, ["5"]), [Position(topics.EVIDENCE, 0, 5)])
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT part, pos, idx FROM audit.leaves ORDER BY idx")
        assert len({r["idx"] for r in rows}) == 5
        for part in {partition_of(a), partition_of(b)}:
            assert sorted(r["pos"] for r in rows if r["part"] == part) == list(range(len(
                [r for r in rows if r["part"] == part])))
            own = [r["idx"] for r in rows if r["part"] == part]
            assert own == sorted(own)
        assert await conn.fetchval("SELECT next_offset FROM audit.consumer_positions") == 5
        report = await verify_ledger(conn, [SIGNER.verifier_key()])
    assert report.ok, report.problems
    assert report.tree_size == 5


async def _legacy_ledger(conn: asyncpg.Connection, bodies: list[bytes]) -> tuple[bytes, str]:
    """Write a ledger as the code before ADR 0013 did: one tree, idx = its index, one head, a checkpoint of the
    log's origin; returns the root and the signed note."""
    hashes = leaf_hashes(bodies)
    frontier, nodes = Frontier().extend(hashes)
    chain = b""
    for idx, (data, lh) in enumerate(zip(bodies, hashes, strict=True)):
        e = entry_of(topics.EVIDENCE, data)
        chain = chain_next(chain, lh)
        await conn.execute("INSERT INTO audit.leaves VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                           idx, e.event_id, e.topic, e.type, e.subject, e.period, lh, chain)
        await conn.execute("INSERT INTO audit.leaf_data VALUES ($1, $2)", idx, data)
    await conn.executemany("INSERT INTO audit.nodes VALUES ($1, $2, $3)", nodes)
    root = frontier.root()
    await conn.execute("UPDATE audit.head SET size = $1, root = $2, frontier = $3::jsonb, chain_hash = $4",
                       frontier.size, root, frontier.to_json(), chain)
    note = SIGNER.sign(Checkpoint(SIGNER.name, frontier.size, root))
    await conn.execute("INSERT INTO audit.checkpoints VALUES ($1, $2, $3, $4)", frontier.size, root, note, NOW)
    return root, note


async def test_a_ledger_from_before_the_partitions_migrates_with_its_history_and_checkpoints() -> None:
    nips = _nips_in_two_partitions()
    old = [body(realisation(f"old-{i}", i + 1, "2", nips[i % 2])) for i in range(5)]
    async with fresh_database(f"objektif_audit_legacy_{os.getpid()}") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(LEGACY_SCHEMA.read_text())
            legacy_root, legacy_note = await _legacy_ledger(conn, old)
            schema = schema_sql("services.audit.adapters")
            await conn.execute(schema)
            await conn.execute(schema)  # applied again, as every `objektif migrate` does: nothing changes
            assert await conn.fetchval("SELECT to_regclass('audit.head')") is None
            rows = await conn.fetch("SELECT part, pos, idx FROM audit.leaves ORDER BY idx")
            assert [(r["part"], r["pos"]) for r in rows] == [(0, i) for i in range(5)]
            zero = await queries.head(conn, 0)
            assert (zero.size, zero.root) == (5, legacy_root)
            stored = await checkpoint_rows.latest_checkpoint(conn, 0)
            assert stored is not None and stored.note == legacy_note
        finally:
            await conn.close()
        pool = await create_pool(dsn)
        try:
            await Ledger(pool).append(_entries(nips[0], ["new-a", "new-b"]) + _entries(nips[1], ["new-c"]), [])
            async with pool.acquire() as conn:
                issued = await issue_checkpoint(conn, SIGNER, NOW)
                report = await verify_ledger(conn, [SIGNER.verifier_key()])
                proof_of_old = await receipt(conn, entry_of(topics.EVIDENCE, old[0]).event_id)
                zero_rows = await conn.fetch(
                    "SELECT leaf_hash FROM audit.leaves WHERE part = 0 ORDER BY pos")
        finally:
            await pool.close()
    assert report.ok, report.problems
    assert report.tree_size == 8
    assert issued.fresh
    # Partition 0 kept the log's origin: its old checkpoint is the predecessor the new ones extend.
    assert open_checkpoint(legacy_note, SIGNER.verifier_key()).origin == partition_origin(SIGNER.name, 0)
    grown = {c.part for c in issued.signed}
    assert {partition_of(n) for n in nips} - {0} <= grown
    c = issued.partitions
    assert c.root == partitions_root(c.sizes, c.roots)
    assert c.roots[0] == root_from_leaf_hashes([bytes(r[0]) for r in zero_rows])
    assert proof_of_old.partition == 0 and proof_of_old.leaf_index == 0
    verify_inclusion(0, proof_of_old.tree_size, proof_of_old.leaf_hash, proof_of_old.proof, proof_of_old.root)
    step = proof_of_old.partitions
    assert step is not None
    verify_partition(0, proof_of_old.tree_size, proof_of_old.root, step.count, step.proof, step.root)
    assert orjson.loads(orjson.dumps(proof_of_old.to_json()))["partition"] == 0


@pytest.mark.parametrize("count", [1, 3])
async def test_the_checkpoint_over_every_partition_changes_with_any_partition(
    pool: asyncpg.Pool, count: int
) -> None:
    a, b = _nips_in_two_partitions()
    ledger = Ledger(pool)
    async with pool.acquire() as conn:
        await ledger.append(_entries(a, [str(i) for i in range(count)]), [])
        first = await issue_checkpoint(conn, SIGNER, NOW)
        await ledger.append(_entries(b, ["other"]), [])
        second = await issue_checkpoint(conn, SIGNER, NOW)
    assert [c.part for c in first.signed] == [partition_of(a)]
    assert [c.part for c in second.signed] == [partition_of(b)]  # partition a did not grow: not signed again
    assert first.partitions.root != second.partitions.root
    assert first.partitions.sizes[partition_of(a)] == second.partitions.sizes[partition_of(a)] == count
    assert second.partitions.n == first.partitions.n + 1
