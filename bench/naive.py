"""The comparison: the same pipeline written naively, one message and one transaction at a time.

For each submission: `getone`; the real gate (`services.evidence.domain.decide`, so one full Ed25519 verification
per message, batch signature or not); a transaction storing the event and the consumer position; the employee's
whole stream read back, parsed and scored with the real core (`score_stream`); a transaction per appraisal
upsert; a transaction per ledger leaf (head row locked, hash chain extended); a Kafka commit. Same domain work,
none of the batching. It runs in the benchmark's own process, in its own schema, bounded in time.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer

from bench.baselines import Rate
from bench.drive import publish_chunks
from bench.workload import Keyed
from chassis.kafka import ensure_topics
from contracts.canonical import canonical_bytes
from contracts.envelope import Envelope
from services.evidence.domain import Accepted, decide, evolve, initial_state
from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.domain.stream import score_stream

NAIVE_TOPIC = "objektif.bench.naive"
_SCHEMA = """
DROP SCHEMA IF EXISTS bench_naive CASCADE;
CREATE SCHEMA bench_naive;
CREATE TABLE bench_naive.events (pos bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, subject text NOT NULL,
                                 value bytea NOT NULL);
CREATE INDEX ON bench_naive.events (subject, pos);
CREATE TABLE bench_naive.appraisals (nip text, period text, result jsonb NOT NULL, PRIMARY KEY (nip, period));
CREATE TABLE bench_naive.leaves (idx bigint PRIMARY KEY, event_id uuid, leaf_hash bytea NOT NULL,
                                 chain_hash bytea NOT NULL);
CREATE TABLE bench_naive.head (id int PRIMARY KEY, size bigint NOT NULL, chain bytea NOT NULL);
INSERT INTO bench_naive.head VALUES (1, 0, '\\x'::bytea);
CREATE TABLE bench_naive.positions (topic text, partition int, next_offset bigint, PRIMARY KEY (topic, partition));
INSERT INTO bench_naive.events (event_id, subject, value) SELECT event_id, subject, value FROM evidence.events
  ORDER BY pos;
"""
_STATE_TYPES = ("realisation.recorded", "behaviour.rated")


async def _ledger(conn: asyncpg.Connection, event_id: object, body: bytes) -> None:
    async with conn.transaction():
        head = await conn.fetchrow("SELECT size, chain FROM bench_naive.head WHERE id = 1 FOR UPDATE")
        leaf = hashlib.sha256(b"\x00" + body).digest()
        chain = hashlib.sha256(bytes(head["chain"]) + leaf).digest()
        await conn.execute("INSERT INTO bench_naive.leaves VALUES ($1, $2, $3, $4)", head["size"], event_id, leaf,
                           chain)
        await conn.execute("UPDATE bench_naive.head SET size = size + 1, chain = $1 WHERE id = 1", chain)


async def run(bootstrap: str, dsn: str, admin_public_key: bytes, records: Sequence[Keyed], partitions: int, *,
              seconds: float) -> Rate:
    """Publish `records` to a topic of their own, then push them through the naive pipeline for at most
    `seconds`; the rate counts submissions carried all the way (decided, scored, ledgered, committed)."""
    await ensure_topics(bootstrap, [NAIVE_TOPIC], partitions)
    await publish_chunks(bootstrap, [list(records)], topic=NAIVE_TOPIC)
    conn = await asyncpg.connect(dsn)
    await conn.set_type_codec("jsonb", schema="pg_catalog", encoder=lambda v: orjson.dumps(v).decode(),
                              decoder=orjson.loads, format="text")
    consumer = AIOKafkaConsumer(NAIVE_TOPIC, bootstrap_servers=bootstrap, group_id="objektif-bench-naive",
                                enable_auto_commit=False, auto_offset_reset="earliest")
    try:
        await conn.execute(_SCHEMA)
        state = initial_state([admin_public_key])
        for row in await conn.fetch("SELECT value FROM evidence.events WHERE type <> ALL($1::text[]) ORDER BY pos",
                                    list(_STATE_TYPES)):
            state = evolve(state, Envelope.model_validate_json(row["value"]))
        policies = load_default_policies()
        await consumer.start()
        done, began, cpu0 = 0, 0.0, 0.0
        while done < len(records):
            record = await consumer.getone()
            if not began:
                began, cpu0 = time.perf_counter(), time.process_time()
            decision = decide(record.value, state, received_at=datetime.now(UTC), received_from="kafka:naive")
            if isinstance(decision, Accepted):
                accepted = decision.envelope
                async with conn.transaction():
                    await conn.execute("INSERT INTO bench_naive.events (event_id, subject, value) VALUES ($1,$2,$3)",
                                       accepted.event_id, accepted.subject, decision.original)
                    await conn.execute("""INSERT INTO bench_naive.positions VALUES ($1, $2, $3) ON CONFLICT
                                          (topic, partition) DO UPDATE SET next_offset = excluded.next_offset""",
                                       record.topic, record.partition, record.offset + 1)
                state = evolve(state, accepted)
                rows = await conn.fetch("SELECT value FROM bench_naive.events WHERE subject = $1 ORDER BY pos",
                                        accepted.subject)
                stream = [Envelope.model_validate_json(r["value"]) for r in rows]
                for appraisal in score_stream(stream, policies).appraisals:
                    result = appraisal.to_json()
                    async with conn.transaction():
                        await conn.execute("""INSERT INTO bench_naive.appraisals VALUES ($1, $2, $3) ON CONFLICT
                                              (nip, period) DO UPDATE SET result = excluded.result""",
                                           result["nip"], result["period"], result)
                    await _ledger(conn, None, canonical_bytes(result))
                await _ledger(conn, accepted.event_id, decision.original)
            await consumer.commit()
            done += 1
            if time.perf_counter() - began >= seconds:
                break
        return Rate(done, time.perf_counter() - began, time.process_time() - cpu0)
    finally:
        await consumer.stop()
        await conn.execute("DROP SCHEMA IF EXISTS bench_naive CASCADE")
        await conn.close()
