"""Kafka plumbing shared by the services: the FastStream broker, topic creation, record positions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError
from aiokafka.partitioner import murmur2
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from chassis.settings import ServiceSettings

#: How old the clients' view of topics and partitions may get (see `make_broker`).
METADATA_MAX_AGE_MS = 5000
#: Bytes a producer buffers per partition before sending: 1 MiB, not aiokafka's 16 kB, so a relay's thousands of
#: ~1 kB records go out in a few produce requests rather than one per 16 records (the broker's CPU per record
#: measured 15 → 5 µs on Tansu).
MAX_BATCH_BYTES = 1 << 20


def make_broker(bootstrap: str, *, client_id: str) -> KafkaBroker:
    """A FastStream Kafka broker. Producers wait for all in-sync replicas and never use idempotence or
    transactions: the embedded broker (Tansu) supports neither, so exactly-once effect comes from the consumers'
    deduplication by event_id and their PostgreSQL transactions instead (ARCHITECTURE.md, "Guarantees").

    Metadata is refreshed every 5 s, not every 5 minutes (aiokafka's default): a broker that came back empty may
    recreate a topic with another partition count (Tansu auto-creates topics with 4 partitions on the first
    produce or metadata request, e.g. a departmental system's), and a consumer assigns itself the new partitions
    only when its metadata shows them. The fault suite found submissions left unread on partition 3 for minutes.
    """
    return KafkaBroker(
        bootstrap,
        client_id=client_id,
        metadata_max_age_ms=METADATA_MAX_AGE_MS,
        acks="all",
        enable_idempotence=False,
        linger_ms=5,
        max_batch_size=MAX_BATCH_BYTES,
        max_request_size=4 * 1024 * 1024,
        logger=None,
    )


def partition_of(key: bytes, partitions: Sequence[int]) -> int:
    """The partition a keyed record goes to under aiokafka's and the Java client's default partitioner."""
    return partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]


class KeyedBatchProducer:
    """Publishes many keyed records at once, as few produce requests as the partitions allow: what the outbox
    relays use instead of one FastStream `publish` per record (measured on Tansu, 20k records of 1 kB: 70 µs of
    the relay's CPU per record through `publish`, 47 through aiokafka's `send`, 13 through batches built here).

    Records are partitioned exactly as aiokafka's (and the Java client's) default partitioner does for a keyed
    record, murmur2 of the key over all the topic's partitions, so an employee's events land in the partition
    any other producer would put them in, in order. Acks from all in-sync replicas; no idempotence (Tansu)."""

    def __init__(self, bootstrap: str, *, client_id: str = "objektif-relay") -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None

    async def send(self, topic: str, records: Sequence[tuple[bytes, bytes]],
                   headers: Sequence[Sequence[tuple[str, bytes]]] | None = None) -> None:
        """Publish (key, value) records in their order within each partition; returns once the broker has
        acknowledged every one (raises aiokafka's `KafkaError` otherwise: the caller retries the lot).
        `headers`, when given, holds each record's headers, in the same order."""
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self._bootstrap, client_id=self._client_id, acks="all",
                enable_idempotence=False, linger_ms=5, max_batch_size=MAX_BATCH_BYTES,
                max_request_size=4 * 1024 * 1024, metadata_max_age_ms=METADATA_MAX_AGE_MS,
            )
            await producer.start()
            self._producer = producer
        producer = self._producer
        partitions = sorted(await producer.partitions_for(topic))
        building: dict[int, Any] = {}
        sent = []
        for i, (key, value) in enumerate(records):
            partition = partition_of(key, partitions)
            batch = building.get(partition)
            if batch is None:
                batch = building[partition] = producer.create_batch()
            # aiokafka's C record builder takes a list and nothing else (a tuple is a TypeError)
            extra = list(headers[i]) if headers is not None else []
            if batch.append(key=key, value=value, timestamp=None, headers=extra) is None:  # full: send, next
                sent.append(await producer.send_batch(batch, topic, partition=partition))
                batch = building[partition] = producer.create_batch()
                if batch.append(key=key, value=value, timestamp=None, headers=extra) is None:
                    raise ValueError(f"a record of {len(value)} bytes exceeds the producer's batch size")
        for partition, batch in building.items():
            sent.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*sent)

    async def close(self) -> None:
        """Flush and close the connection (idempotent); the next `send` opens a new one."""
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()


#: Kafka's error code for a topic that exists already (CreateTopics): the goal of `ensure_topics` is met.
TOPIC_ALREADY_EXISTS = 36
#: Kafka's error code for a topic the broker does not know (Metadata).
UNKNOWN_TOPIC_OR_PARTITION = 3


async def ensure_topics(bootstrap: str, topics: Iterable[str], partitions: int, *, attempts: int = 60) -> None:
    """Create the topics that do not exist yet; waits for the broker to answer (bounded).

    Also the repair after a broker came back empty (the embedded broker keeps nothing): the outbox relay and the
    services call it again then, before anything is produced, because a broker that auto-creates topics on the
    first produce or metadata request would choose its own partition count (Tansu: 4)."""
    wanted_names = list(topics)
    for _attempt in range(attempts):
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            await admin.start()
        except KafkaConnectionError:
            await asyncio.sleep(0.5)
            continue
        try:
            existing = set(await admin.list_topics())
            wanted = [NewTopic(t, num_partitions=partitions, replication_factor=1)
                      for t in wanted_names if t not in existing]
            if wanted:
                # One request for all; each topic's own error code says why it was not created. "Exists already"
                # is success (a concurrent creator, or a topic this broker auto-created but does not list).
                response = await admin.create_topics(wanted)
                failed = [(name, code) for name, code, *_ in response.topic_errors
                          if code not in (0, TOPIC_ALREADY_EXISTS)]
                if failed:
                    raise KafkaTopicsError(f"Kafka at {bootstrap} refused to create topics: {failed}")
            return
        except KafkaConnectionError:
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
    raise TimeoutError(f"Kafka at {bootstrap} did not answer after {attempts} attempts")


class KafkaTopicsError(RuntimeError):
    """The broker answered but refused to create a topic (not "it exists already")."""


class LogProbe:
    """Reads topics' partitions and end offsets without joining a consumer group (an operator measures a
    consumer's lag with it: end offsets minus the positions the consumer stored in PostgreSQL), and keeps a
    marker on the broker: how the outbox relay notices a broker that came back empty.

    Tansu 0.6 answers ListOffsets(latest) with the last batch's base offset + 1, not the log end offset, so end
    offsets there are a lower bound (exact when records arrive one per batch); the marker does not depend on them.
    """

    def __init__(self, bootstrap: str, *, request_timeout_ms: int = 5000) -> None:
        self._bootstrap = bootstrap
        self._timeout_ms = request_timeout_ms
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._markers: dict[str, AIOKafkaConsumer] = {}

    async def end_offsets(self, topic: str, *, create_with: int | None = None) -> dict[int, int] | None:
        """Each partition's end offset (the offset the next record will get); None when the topic does not exist.

        With `create_with`, a missing topic is first created with that many partitions: asking a broker that
        auto-creates topics (Tansu does) for a topic's metadata creates it with the broker's default count.
        Raises aiokafka's `KafkaError` (connection, timeout) while the broker is away; the probe reconnects on
        the next call."""
        try:
            if self._admin is None or self._consumer is None:
                await self._start()
            assert self._admin is not None
            assert self._consumer is not None
            if create_with is not None and topic not in set(await self._admin.list_topics()):
                response = await self._admin.create_topics([NewTopic(topic, create_with, 1)])
                codes = [code for _name, code, *_ in response.topic_errors]
                if any(code not in (0, TOPIC_ALREADY_EXISTS) for code in codes):
                    raise KafkaTopicsError(f"Kafka refused to create {topic}: error codes {codes}")
            described = await self._admin.describe_topics([topic])
            if not described or described[0]["error_code"] == UNKNOWN_TOPIC_OR_PARTITION:
                return None
            if described[0]["error_code"] != 0:
                raise KafkaError(f"metadata of {topic}: error code {described[0]['error_code']}")
            partitions = [TopicPartition(topic, p["partition"]) for p in described[0]["partitions"]]
            if not partitions:
                return None
            ends = await asyncio.wait_for(self._consumer.end_offsets(partitions), self._timeout_ms / 1000)
        except (KafkaError, TimeoutError):
            await self.close()  # a fresh connection next time: the broker may have come back on the same address
            raise
        return {tp.partition: int(offset) for tp, offset in ends.items()}

    async def has_marker(self, group: str, topic: str) -> bool:
        """Whether the marker placed under `group` for `topic` (partition 0) is still on the broker.

        A committed offset is broker state like topics and records: a broker that lost its state lost the marker
        too. (Kafka expires the offsets of a group without members after `offsets.retention.minutes`, 7 days by
        default: placing the marker again at every check keeps it.)"""
        try:
            consumer = await self._marker_consumer(group, topic)
            committed = await asyncio.wait_for(consumer.committed(TopicPartition(topic, 0)), self._timeout_ms / 1000)
        except (KafkaError, TimeoutError):
            await self.close()
            raise
        return committed is not None

    async def place_marker(self, group: str, topic: str, value: int) -> None:
        """Commit `value` as the marker's offset (its value carries no meaning)."""
        try:
            consumer = await self._marker_consumer(group, topic)
            await asyncio.wait_for(consumer.commit({TopicPartition(topic, 0): max(value, 0)}),
                                   self._timeout_ms / 1000)
        except (KafkaError, TimeoutError):
            await self.close()
            raise

    async def _marker_consumer(self, group: str, topic: str) -> AIOKafkaConsumer:
        """A consumer of `group` that never joins it: partition 0 of `topic` assigned by hand, paused."""
        consumer = self._markers.get(group)
        if consumer is None:
            consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=group, enable_auto_commit=False,
                                        request_timeout_ms=self._timeout_ms)
            await consumer.start()
            self._markers[group] = consumer
            partition = TopicPartition(topic, 0)
            consumer.assign([partition])
            consumer.pause(partition)
        return consumer

    async def _start(self) -> None:
        await self.close()
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, request_timeout_ms=self._timeout_ms)
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False,
                                          request_timeout_ms=self._timeout_ms)
        try:
            await self._admin.start()
            await self._consumer.start()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Close both clients (idempotent)."""
        admin, consumer, self._admin, self._consumer = self._admin, self._consumer, None, None
        markers, self._markers = list(self._markers.values()), {}
        for client in (*markers, consumer, admin):
            if client is not None:
                with contextlib.suppress(Exception):
                    await (client.stop() if isinstance(client, AIOKafkaConsumer) else client.close())


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


async def undecoded(msg: Any) -> Any:
    """A FastStream decoder that leaves a batch's bodies as bytes: pass it as `decoder=` to a batch subscriber
    whose handler reads `msg.raw_message` (every Objektif consumer). FastStream's default decoder builds a
    message object per record and tries `json.loads` on every body, whose result those handlers never read:
    measured (bench/, py-spy) at 5% of the evidence service's CPU, 4% of scoring's and 16% of audit's."""
    return msg.body


def batch_subscription(settings: ServiceSettings, group_id: str) -> dict[str, Any]:
    """How every Objektif consumer subscribes: a consumer group, raw batches, from the earliest offset when the
    group has none (a broker that came back empty), and an explicit ack policy. Offsets are committed only after
    the handler's PostgreSQL transaction, and a failing batch is redelivered (STYLE.md: FastStream's default is
    at-most-once); the handler deduplicates by event_id."""
    return {
        "group_id": group_id,
        "batch": True,
        "max_records": settings.batch_max_records,
        "batch_timeout_ms": settings.batch_timeout_ms,
        # Apache Kafka answers a fetch as soon as a record arrives (fetch_min_bytes 1), so the wait only bounds
        # idle polling there; Tansu holds every fetch for the whole wait even when records arrive meanwhile, so
        # aiokafka's 500 ms default added up to half a second per hop (produce → consume p50 measured: 202 ms at
        # 500, 28 ms at 100, 5 ms at 10). 20 ms by default (ServiceSettings).
        "fetch_max_wait_ms": settings.fetch_max_wait_ms,
        # a fetch may bring 4 MiB per partition (aiokafka: 1 MiB, ~1,000 records of 1 kB), so a backlog can
        # fill a batch of batch_max_records
        "max_partition_fetch_bytes": 4 * 1024 * 1024,
        "auto_offset_reset": "earliest",
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "decoder": undecoded,
    }
