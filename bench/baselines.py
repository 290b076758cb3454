"""The machine's own limits, measured in the same run as the pipeline: what the pipeline is compared with.

- raw aiokafka consumption (`getmany`) of records the size of a submission, from a topic with the pipeline's
  partition count;
- raw asyncpg `COPY` into a staging table plus one `INSERT … ON CONFLICT DO UPDATE` per batch, the cheapest
  idempotent bulk write PostgreSQL offers;
- raw Ed25519 verification with `cryptography`, on one core (one thread).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.drive import producer
from chassis.kafka import ensure_topics

BASELINE_TOPIC = "objektif.bench.baseline"


@dataclass(frozen=True)
class Rate:
    """`count` items in `seconds` of wall time (and `cpu_seconds` of this process's CPU, where measured)."""

    count: int
    seconds: float
    cpu_seconds: float | None = None

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0

    @property
    def per_cpu_second(self) -> float:
        """Items per second of this process's CPU: what one core does while it runs, whatever else shares the
        machine (a wall-clock rate counts the time the scheduler gave to others)."""
        return self.count / self.cpu_seconds if self.cpu_seconds else self.per_second

    def to_json(self) -> dict[str, float | int | None]:
        return {**asdict(self), "per_second": round(self.per_second, 1),
                "per_cpu_second": round(self.per_cpu_second, 1)}


async def kafka_consume(bootstrap: str, records: int, value_size: int, partitions: int, *,
                        batch: int = 5000) -> Rate:
    """Produce `records` records of `value_size` bytes (keyed like submissions), then time consuming them all
    with `getmany` from the beginning."""
    await ensure_topics(bootstrap, [BASELINE_TOPIC], partitions)
    value = b"x" * value_size
    async with producer(bootstrap) as p:
        for start in range(0, records, batch):
            futures = [await p.send(BASELINE_TOPIC, value, key=f"{i % 10_000:018d}".encode())
                       for i in range(start, min(records, start + batch))]
            await asyncio.gather(*futures)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                max_partition_fetch_bytes=8 * 1024 * 1024, fetch_max_bytes=64 * 1024 * 1024)
    await consumer.start()
    try:
        parts = [TopicPartition(BASELINE_TOPIC, p) for p in range(partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        # timed from the first fetch on: the clock once started after it while counting its records, so the
        # records of a run small enough for one fetch took no time at all (2,000 in 20 µs)
        seen, began, cpu0 = 0, time.perf_counter(), time.process_time()
        while seen < records:
            got = await consumer.getmany(timeout_ms=1000, max_records=batch)
            seen += sum(len(rs) for rs in got.values())
        return Rate(seen, time.perf_counter() - began, time.process_time() - cpu0)
    finally:
        await consumer.stop()


async def copy_upsert(dsn: str, rows: int, value_size: int, *, batch: int = 2000) -> Rate:
    """Time writing `rows` rows (uuid, subject, value of `value_size` bytes) in transactions of `batch`:
    `COPY` into a temporary table, then `INSERT … SELECT … ON CONFLICT DO UPDATE` into the target."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("""
            CREATE SCHEMA IF NOT EXISTS bench;
            DROP TABLE IF EXISTS bench.copy_target;
            CREATE TABLE bench.copy_target (event_id uuid PRIMARY KEY, subject text NOT NULL, value bytea NOT NULL);
            CREATE TEMP TABLE copy_stage (event_id uuid, subject text, value bytea) ON COMMIT DELETE ROWS;
        """)
        value = b"x" * value_size
        data = [(uuid.UUID(int=i + 1), f"{i % 10_000:018d}", value) for i in range(rows)]
        began, cpu0 = time.perf_counter(), time.process_time()
        for start in range(0, rows, batch):
            async with conn.transaction():
                await conn.copy_records_to_table("copy_stage", records=data[start:start + batch])
                await conn.execute("""INSERT INTO bench.copy_target SELECT * FROM copy_stage
                                      ON CONFLICT (event_id) DO UPDATE SET value = excluded.value""")
        rate = Rate(rows, time.perf_counter() - began, time.process_time() - cpu0)
        await conn.execute("DROP TABLE bench.copy_target")
        return rate
    finally:
        await conn.close()


def ed25519_verify(messages: Sequence[bytes]) -> Rate:
    """Time verifying one signature per message, in this thread (one core)."""
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    public = key.public_key()
    signed = [(key.sign(m), m) for m in messages]
    began, cpu0 = time.perf_counter(), time.process_time()
    for signature, message in signed:
        public.verify(signature, message)
    return Rate(len(signed), time.perf_counter() - began, time.process_time() - cpu0)
