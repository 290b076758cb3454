"""Submission-to-score latency at a fixed offered load: submissions are sent at `rate` per second for `seconds`,
and each is timed until the first `score.computed` on `objektif.scores.v1` that covers it arrives here.

Sender and receiver share this process's monotonic clock, so no clock skew enters. A submission still unscored
when the wait ends is counted, not guessed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.drive import producer
from bench.workload import Keyed
from contracts import topics


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0–100) by the nearest-rank method; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n·q/100), at least 1
    return ordered[int(rank) - 1]


@dataclass(frozen=True)
class LatencyResult:
    offered_rate: float
    achieved_send_rate: float
    sent: int
    scored: int
    latencies_ms: tuple[float, ...]

    def to_json(self) -> dict[str, object]:
        lat = self.latencies_ms
        return {
            "offered_per_second": self.offered_rate, "sent_per_second": round(self.achieved_send_rate, 1),
            "sent": self.sent, "scored": self.scored, "unscored": self.sent - self.scored,
            "p50_ms": round(percentile(lat, 50), 1), "p90_ms": round(percentile(lat, 90), 1),
            "p99_ms": round(percentile(lat, 99), 1), "max_ms": round(max(lat, default=0.0), 1),
        }


class Tracker:
    """Which submissions a score covers. A `score.computed` names in `correlation_id` the last event of the
    stream it folded (services.scoring.app.project.score_event); an employee's events keep their order (one
    partition per NIP), so a score for that employee covers every submission sent for it up to that one."""

    def __init__(self, records: Sequence[tuple[str, str, Keyed]]) -> None:
        self.sent_at: dict[str, float] = {}
        self.latencies: list[float] = []
        self._where: dict[str, tuple[str, int]] = {}
        self._order: dict[str, list[str]] = {}
        self._done: dict[str, int] = {}
        for event_id, subject, _record in records:
            self._where[event_id] = (subject, len(self._order.setdefault(subject, [])))
            self._order[subject].append(event_id)

    def sent(self, event_id: str, at: float) -> None:
        self.sent_at[event_id] = at

    def scored(self, correlation_id: str, at: float) -> None:
        """A score arrived at `at` whose stream ended with `correlation_id`."""
        where = self._where.get(correlation_id)
        if where is None:
            return
        subject, upto = where
        order, start = self._order[subject], self._done.get(subject, 0)
        for event_id in order[start:upto + 1]:
            self.latencies.append((at - self.sent_at[event_id]) * 1000)
        self._done[subject] = max(start, upto + 1)


async def measure(bootstrap: str, partitions: int, records: Sequence[tuple[str, str, Keyed]], rate: float, *,
                  drain_seconds: float = 60.0, tick: float = 0.01) -> LatencyResult:
    """Send `records` ((event id, subject, (key, value))) at `rate` per second and time each until a score
    covering it arrives."""
    tracker = Tracker(records)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                fetch_max_wait_ms=10)  # the receiver must not add a hop of its own
    await consumer.start()
    try:
        parts = [TopicPartition(topics.SCORES, p) for p in range(partitions)]
        consumer.assign(parts)
        await consumer.seek_to_end(*parts)
        for p in parts:  # resolve the end offsets now, before anything is sent
            await consumer.position(p)
        done = asyncio.Event()

        async def receive() -> None:
            while not done.is_set():
                got = await consumer.getmany(timeout_ms=100, max_records=5000)
                now = time.monotonic()
                for batch in got.values():
                    for record in batch:
                        tracker.scored(orjson.loads(record.value).get("correlation_id") or "", now)
                if len(tracker.latencies) == len(records):
                    return

        receiver = asyncio.create_task(receive())
        async with producer(bootstrap, linger_ms=1) as p:
            began = time.monotonic()
            futures = []
            for i, (event_id, _subject, (key, value)) in enumerate(records):
                due = began + i / rate
                if (wait := due - time.monotonic()) > tick:
                    await asyncio.sleep(wait)
                tracker.sent(event_id, time.monotonic())
                futures.append(await p.send(topics.SUBMISSIONS, value, key=key))
            await asyncio.gather(*futures)
            send_seconds = time.monotonic() - began
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(receiver), timeout=drain_seconds)
        done.set()
        await receiver
    finally:
        await consumer.stop()
    return LatencyResult(rate, len(records) / send_seconds if send_seconds else 0.0, len(records),
                         len(tracker.latencies), tuple(tracker.latencies))
