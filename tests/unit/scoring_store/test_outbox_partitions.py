"""The score outbox in partitions (ADR 0013): each partition of the NIP gap-free in `n` with its own counter row,
positions unique, no clock involved; and an outbox written before the partitions migrates with its history."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import asyncpg

from chassis.db import create_pool, schema_sql
from chassis.partitions import PARTITIONS, STRIDE, partition_of
from services.scoring.adapters.store import ScoringStore, StoredAppraisal
from tests.databases import fresh_database


def appraisal(nip: str) -> StoredAppraisal:
    event = b'{"payload":{"result":{"nip":"%s"}}}' % nip.encode()
    start = event.index(b'{"nip"')
    return StoredAppraisal(nip=nip, period="2026-Q4", unit_id=None, result_at=(start, len(event) - 2), basis_hash=nip,
                           score_event_id=uuid.uuid4(), score_bytes=event, upto_sequence=1)


def nips(count: int) -> list[str]:
    return [f"19800101200501{i:04d}" for i in range(count)]


async def save(pool: asyncpg.Pool, appraisals: list[StoredAppraisal]) -> None:
    async with ScoringStore(pool).transaction() as tx:
        await tx.save(appraisals)


async def test_each_partition_of_the_outbox_counts_on_its_own_and_positions_are_unique(
    scoring_pool: asyncpg.Pool,
) -> None:
    people = nips(40)
    await save(scoring_pool, [appraisal(n) for n in people[:25]])
    await save(scoring_pool, [appraisal(n) for n in people[25:]])
    async with scoring_pool.acquire() as conn:
        rows = await conn.fetch("SELECT pos, part, n, key FROM scoring.outbox ORDER BY part, n")
        counters = {r["part"]: r["n"] for r in await conn.fetch(
            "SELECT part, n FROM scoring.partitions WHERE stream = 'scores'")}
    assert len({r["pos"] for r in rows}) == 40
    for part in {r["part"] for r in rows}:
        mine = [r for r in rows if r["part"] == part]
        assert [r["n"] for r in mine] == list(range(1, len(mine) + 1)) == list(range(1, counters[part] + 1))
        assert all(r["pos"] % STRIDE == part and partition_of(r["key"]) == part for r in mine)
        assert [r["pos"] for r in mine] == sorted(r["pos"] for r in mine)
    assert len(counters) == PARTITIONS


async def test_an_outbox_from_before_the_partitions_migrates_with_its_history() -> None:
    legacy_sql = (Path(__file__).parent / "legacy_schema_249d0c7.sql").read_text()
    async with fresh_database(f"objektif_scoring_legacy_{os.getpid()}") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(legacy_sql)
            await conn.executemany("INSERT INTO scoring.outbox (pos, event_id, key, value) VALUES ($1, $2, $3, $4)",
                                   [(i + 1, uuid.uuid4(), nip, b"old") for i, nip in enumerate(nips(3))])
            await conn.execute("UPDATE scoring.counters SET value = 3 WHERE name = 'scores'")
            await conn.execute("UPDATE scoring.relay_cursors SET pos = 2 WHERE name = 'scores'")
            await conn.execute(schema_sql("services.scoring.adapters"))
            await conn.execute(schema_sql("services.scoring.adapters"))  # migrate runs it every time
            assert [tuple(r) for r in await conn.fetch("SELECT pos, part, n FROM scoring.outbox ORDER BY pos")] == [
                (1, 0, 1), (2, 0, 2), (3, 0, 3)]
            assert await conn.fetchval(
                "SELECT pos FROM scoring.relay_cursors WHERE name = 'scores' AND part = 0") == 2
            assert await conn.fetchval("SELECT count(*) FROM scoring.relay_cursors") == PARTITIONS
        finally:
            await conn.close()
        pool = await create_pool(dsn)
        try:
            await save(pool, [appraisal(n) for n in nips(30)[3:]])
            async with pool.acquire() as conn:
                rows = await conn.fetch("SELECT pos, part, n FROM scoring.outbox WHERE value <> 'old'")
        finally:
            await pool.close()
    assert all(r["pos"] > 3 for r in rows) and len({r["pos"] for r in rows}) == 27
    assert sorted(r["n"] for r in rows if r["part"] == 0)[:1] in ([], [4])  # partition 0 continues the old count
