"""The evidence store's partitions in PostgreSQL (ADR 0013): each gap-free in `n`, sequences unique and in order,
a batch waits only for writers of its own partitions, one event id claimed at once in two partitions is stored
once, and a store written before the partitions migrates with its history intact."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import orjson
import pytest

from chassis.db import create_pool, schema_sql
from chassis.partitions import PARTITIONS, STRIDE, next_sequences, partition_of
from contracts.envelope import Envelope
from services.evidence.adapters import store as store_module
from services.evidence.adapters.store import EvidenceStore
from tests.databases import fresh_database

T = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def subjects_by_partition(count: int) -> dict[int, list[str]]:
    """NIP-like subjects, `count` in each of the first partitions that get any."""
    found: dict[int, list[str]] = {}
    i = 0
    while len([p for p, s in found.items() if len(s) >= count]) < 3:
        subject = f"1990010120150{i:05d}"
        found.setdefault(partition_of(subject), []).append(subject)
        i += 1
    return {p: s[:count] for p, s in found.items() if len(s) >= count}


def event(subject: str, event_id: uuid.UUID | None = None) -> tuple[Envelope, bytes]:
    body = {"event_id": str(event_id or uuid.uuid4()), "type": "indicator.measured", "occurred_at": T.isoformat(),
            "source": "sys:dapodik", "subject": subject, "period": "2026-Q4", "payload": {"value": "1"}}
    raw = orjson.dumps(body)
    return Envelope.model_validate({**body, "recorded_at": T}), raw


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    async with fresh_database(f"objektif_evidence_parts_{os.getpid()}", "services.evidence.adapters") as dsn:
        p = await create_pool(dsn)
        try:
            yield p
        finally:
            await p.close()


def test_partitions_match_the_schema_and_kafka_partitioning() -> None:
    assert f"generate_series(0, {PARTITIONS - 1})" in schema_sql("services.evidence.adapters")
    assert PARTITIONS % 6 == 0 and PARTITIONS <= STRIDE
    # a topic of 3 or 6 partitions sends a key where the store's partition says, modulo the topic's count
    from aiokafka.partitioner import DefaultPartitioner
    for subject in ("197001011990031001", "unit:puskesmas-candisari", "sys:dapodik"):
        for topic_partitions in (3, 6):
            chosen = DefaultPartitioner()(subject.encode(), list(range(topic_partitions)), [])
            assert partition_of(subject) % topic_partitions == chosen


def test_sequences_keep_their_partition_follow_the_clock_and_pass_legacy_ones() -> None:
    now = 1_796_000_000_000
    first = next_sequences(0, 5, 3, now)
    assert first == [now * STRIDE + 5, now * STRIDE + 5 + STRIDE, now * STRIDE + 5 + 2 * STRIDE]
    assert next_sequences(first[-1], 5, 1, now)[0] == first[-1] + STRIDE  # same millisecond: still after
    assert next_sequences(first[-1], 5, 1, now + 10)[0] == (now + 10) * STRIDE + 5
    assert next_sequences(41, 0, 1, now)[0] == now * STRIDE  # a legacy gap-free sequence, then the clock's
    assert all(s % STRIDE == 5 for s in first)


async def test_each_partition_is_gap_free_and_sequences_are_unique_and_increasing_within_it(
    pool: asyncpg.Pool,
) -> None:
    store = EvidenceStore(pool)
    by_part = subjects_by_partition(3)
    batch = [event(s) for subjects in by_part.values() for s in subjects]
    outcome = await store.append_batch(batch[:4], [], [])
    outcome2 = await store.append_batch(batch[4:], [], [])
    stored = [*outcome.accepted, *outcome2.accepted]
    assert len({e.sequence for e in stored}) == len(batch)
    tailed = await store.events_after({})
    for part in by_part:
        ns = [t.n for t in tailed if t.part == part]
        assert ns == list(range(1, len(by_part[part]) + 1))
        sequences = [orjson.loads(t.value)["sequence"] for t in tailed if t.part == part]
        assert sequences == sorted(sequences) and all(s % STRIDE == part for s in sequences)
    spans = {s.part: (s.first, s.last) for s in (*outcome.spans, *outcome2.spans)}
    assert set(spans) == set(by_part)
    some = next(iter(by_part))
    after = await store.events_after({some: len(by_part[some])})
    assert [t for t in after if t.part == some] == [] and len(after) == len(batch) - len(by_part[some])



async def test_a_reader_asking_for_some_types_gets_every_position_and_only_their_bytes(pool: asyncpg.Pool) -> None:
    store = EvidenceStore(pool)
    subjects = [s for group in subjects_by_partition(2).values() for s in group]
    batch = [event(s) for s in subjects]
    unit, unit_raw = event(subjects[0])
    registered = unit.model_copy(update={"type": "org.unit.registered"})
    await store.append_batch([*batch, (registered, unit_raw.replace(b"indicator.measured", b"org.unit.registered"))],
                             [], [])
    every = await store.events_after({})
    some = await store.events_after({}, types={"org.unit.registered"})
    assert [(t.part, t.n) for t in some] == [(t.part, t.n) for t in every]
    kept = [t for t in some if t.value is not None]
    assert len(kept) == 1 and orjson.loads(kept[0].value or b"")["type"] == "org.unit.registered"
    assert kept[0].value == next(t.value for t in every if (t.part, t.n) == (kept[0].part, kept[0].n))

async def hold_partition(pool: asyncpg.Pool, part: int) -> tuple[asyncpg.Connection, asyncpg.transaction.Transaction]:
    """Another writer in the middle of a batch on `part`: its row locked, not committed."""
    conn = await pool.acquire()
    tx = conn.transaction()
    await tx.start()
    await conn.execute("SELECT 1 FROM evidence.partitions WHERE stream = 'events' AND part = $1 FOR UPDATE", part)
    return conn, tx


async def waits_for_a_lock(pool: asyncpg.Pool) -> bool:
    async with pool.acquire() as conn:
        return bool(await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"))


async def test_a_batch_waits_only_for_writers_of_its_own_partitions(pool: asyncpg.Pool) -> None:
    store = EvidenceStore(pool)
    (a, subjects_a), (b, subjects_b), *_ = subjects_by_partition(1).items()
    conn, tx = await hold_partition(pool, a)
    try:
        other = await asyncio.wait_for(store.append_batch([event(subjects_b[0])], [], []), timeout=30)
        assert [s.part for s in other.spans] == [b]  # committed while partition a's writer is still open
        same = asyncio.ensure_future(store.append_batch([event(subjects_a[0])], [], []))
        for _ in range(300):
            if await waits_for_a_lock(pool):
                break
            await asyncio.sleep(0.05)
        assert not same.done() and await waits_for_a_lock(pool)  # queued behind partition a's writer
    finally:
        await tx.rollback()
        await pool.release(conn)
    assert [s.part for s in (await asyncio.wait_for(same, timeout=30)).spans] == [a]


async def test_one_event_id_claimed_at_once_in_two_partitions_is_stored_once(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = EvidenceStore(pool)
    (_, [subject_a]), (_, [subject_b]), *_ = subjects_by_partition(1).items()
    shared = uuid.uuid4()
    first_checked, second_stored = asyncio.Event(), asyncio.Event()
    original = store_module._decided_before
    calls = 0

    async def paused(conn: asyncpg.Connection, accepted: list[tuple[Envelope, bytes]]) -> set[uuid.UUID]:
        nonlocal calls
        calls += 1
        found = await original(conn, accepted)
        if calls == 1:  # the first batch has looked for the id and found none: the other one stores it now
            first_checked.set()
            await second_stored.wait()
        return found

    monkeypatch.setattr(store_module, "_decided_before", paused)
    racing = asyncio.ensure_future(store.append_batch([event(subject_a, shared)], [], []))
    await first_checked.wait()
    winner = await store.append_batch([event(subject_b, shared)], [], [])
    second_stored.set()
    loser = await asyncio.wait_for(racing, timeout=30)
    assert [e.event_id for e in winner.accepted] == [shared] and winner.duplicates == ()
    assert loser.accepted == () and loser.duplicates == (shared,)  # decided again after the unique index refused
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM evidence.events WHERE event_id = $1", shared) == 1


async def test_a_store_from_before_the_partitions_migrates_with_its_history() -> None:
    legacy_sql = (Path(__file__).parent / "legacy_schema_249d0c7.sql").read_text()
    async with fresh_database(f"objektif_evidence_legacy_{os.getpid()}") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(legacy_sql)
            old = [event(f"19900101201501{i:04d}") for i in range(3)]
            await conn.executemany(
                "INSERT INTO evidence.events (pos, event_id, type, source, subject, period, key, value, recorded_at)"
                " VALUES ($1, $2, 'indicator.measured', 'sys:dapodik', $3, '2026-Q4', $3, $4, $5)",
                [(i + 1, e.event_id, e.subject, raw, T) for i, (e, raw) in enumerate(old)])
            await conn.execute("UPDATE evidence.counters SET value = 3 WHERE name = 'events'")
            await conn.execute("UPDATE evidence.relay_cursors SET pos = 2 WHERE name = 'evidence'")
            schema = schema_sql("services.evidence.adapters")
            await conn.execute(schema)
            await conn.execute(schema)  # applied again, as every `objektif migrate` does: nothing changes
            rows = await conn.fetch("SELECT pos, part, n FROM evidence.events ORDER BY pos")
            assert [tuple(r) for r in rows] == [(1, 0, 1), (2, 0, 2), (3, 0, 3)]
            assert await conn.fetchval(
                "SELECT n FROM evidence.partitions WHERE stream = 'events' AND part = 0") == 3
            assert await conn.fetchval(
                "SELECT pos FROM evidence.relay_cursors WHERE name = 'evidence' AND part = 0") == 2
            assert await conn.fetchval("SELECT count(*) FROM evidence.relay_cursors") == 2 * PARTITIONS
            with pytest.raises(asyncpg.RaiseError, match="append-only"):  # the trigger is back on
                await conn.execute("DELETE FROM evidence.events")
        finally:
            await conn.close()
        pool = await create_pool(dsn)
        try:
            store = EvidenceStore(pool)
            zero = next(s for s in (f"19900101201502{i:04d}" for i in range(500)) if partition_of(s) == 0)
            outcome = await store.append_batch([event(zero)], [], [])
            assert [(s.part, s.first) for s in outcome.spans] == [(0, 4)]  # partition 0 continues the old counter
            assert outcome.accepted[0].sequence is not None and outcome.accepted[0].sequence > 3
            assert [t.n for t in await store.events_after({0: 2})] == [3, 4]
        finally:
            await pool.close()
