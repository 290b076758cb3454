"""Driving a running stack from outside, as a departmental system and an operator would: publish submissions to
Kafka, and watch PostgreSQL until every service has caught up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer

from contracts import topics


async def publish(bootstrap: str, submissions: Sequence[dict], *, on_sent: Callable[[int], None] | None = None) -> int:
    """Publish envelopes (dicts) to the submissions topic, keyed by subject; waits for every acknowledgement."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=5)
    await producer.start()
    try:
        futures = []
        for i, envelope in enumerate(submissions):
            futures.append(await producer.send(
                topics.SUBMISSIONS, orjson.dumps(envelope), key=str(envelope.get("subject", "")).encode()
            ))
            if on_sent and i % 500 == 0:
                on_sent(i)
        await asyncio.gather(*futures)
        if on_sent:
            on_sent(len(submissions))
    finally:
        await producer.stop()
    return len(submissions)


@dataclass(frozen=True)
class Progress:
    """How far each service has got, read from their own schemas by the operator (administrator DSN)."""

    accepted: int
    rejected: int
    scored_events: int
    appraisals: int
    scores: int
    ledgered: int

    @property
    def settled_for(self) -> int:
        """Submissions that ended as an accepted or a rejected event."""
        return self.accepted + self.rejected

    def caught_up(self, submitted: int) -> bool:
        """Every submission decided, every accepted event projected, every event ledgered."""
        return (
            self.settled_for >= submitted
            and self.scored_events >= self.accepted
            and self.ledgered >= self.accepted + self.rejected + self.scores
        )


async def progress(admin_dsn: str) -> Progress:
    conn = await asyncpg.connect(admin_dsn)
    try:
        row = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM evidence.events) AS accepted,
                      (SELECT count(*) FROM evidence.rejections) AS rejected,
                      (SELECT count(*) FROM scoring.events) AS scored_events,
                      (SELECT count(*) FROM scoring.appraisals) AS appraisals,
                      (SELECT count(*) FROM scoring.outbox) AS scores,
                      (SELECT count(*) FROM audit.leaves) AS ledgered"""
        )
    finally:
        await conn.close()
    return Progress(**dict(row))


async def wait_until_caught_up(
    admin_dsn: str,
    submitted: int,
    *,
    timeout: float = 180.0,
    check: Callable[[], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> Progress:
    """Poll until the pipeline has settled every submission (and stays settled briefly); `check` may raise."""
    deadline = time.monotonic() + timeout
    stable = 0
    last: Progress | None = None
    while time.monotonic() < deadline:
        if check:
            check()
        now = await progress(admin_dsn)
        if on_progress:
            on_progress(now)
        stable = stable + 1 if (now.caught_up(submitted) and now == last) else 0
        if stable >= 2:
            return now
        last = now
        await asyncio.sleep(0.5)
    raise TimeoutError(f"the pipeline did not catch up within {timeout:.0f}s: {last}")
