"""Kafka plumbing shared by the services: the FastStream broker, topic creation, record positions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError
from faststream.kafka import KafkaBroker


def make_broker(bootstrap: str, *, client_id: str) -> KafkaBroker:
    """A FastStream Kafka broker. Producers wait for all in-sync replicas and never use idempotence or
    transactions: the embedded broker (Tansu) supports neither, so exactly-once effect comes from the consumers'
    deduplication by event_id and their PostgreSQL transactions instead (ARCHITECTURE.md, "Guarantees")."""
    return KafkaBroker(
        bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=False,
        linger_ms=5,
        max_request_size=4 * 1024 * 1024,
        logger=None,
    )


async def ensure_topics(bootstrap: str, topics: Iterable[str], partitions: int, *, attempts: int = 60) -> None:
    """Create the topics that do not exist yet; waits for the broker to answer (bounded)."""
    for attempt in range(attempts):
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            await admin.start()
        except KafkaConnectionError:
            await asyncio.sleep(0.5)
            continue
        try:
            existing = set(await admin.list_topics())
            wanted = [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in topics if t not in existing]
            if wanted:
                try:
                    await admin.create_topics(wanted)
                except TopicAlreadyExistsError:
                    pass  # another process created it between list and create: the goal is met
            return
        finally:
            await admin.close()
    raise TimeoutError(f"Kafka at {bootstrap} did not answer after {attempts} attempts")


@dataclass(frozen=True, slots=True)
class Position:
    """Where a consumer is in one partition: the next offset to read."""

    topic: str
    partition: int
    offset: int


def next_positions_of(records: Sequence[object]) -> tuple[Position, ...]:
    """The position after the last record of each (topic, partition) in a batch of ConsumerRecords."""
    last: dict[tuple[str, int], int] = {}
    for r in records:
        key = (r.topic, r.partition)  # type: ignore[attr-defined]
        last[key] = max(last.get(key, -1), r.offset)  # type: ignore[attr-defined]
    return tuple(Position(t, p, o + 1) for (t, p), o in sorted(last.items()))
