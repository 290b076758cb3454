"""Driving the stack under measurement: a fast producer, a cheap progress probe, timing a backlog until every
service has settled it, and a sampler of each process's memory and CPU."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import psutil
from aiokafka import AIOKafkaProducer

from bench.workload import Keyed
from contracts import topics


@asynccontextmanager
async def producer(bootstrap: str, *, linger_ms: int = 20) -> AsyncIterator[AIOKafkaProducer]:
    """An aiokafka producer as a departmental system would run one (acks=all, no idempotence: Tansu has none)."""
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=linger_ms,
                         max_batch_size=1024 * 1024, max_request_size=4 * 1024 * 1024)
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


async def publish_chunks(bootstrap: str, chunks: Iterable[list[Keyed]], topic: str = topics.SUBMISSIONS, *,
                         in_flight: int = 16) -> int:
    """Publish every record of `chunks` (produced lazily, so memory stays bounded), with up to `in_flight` chunks
    sent and not yet acknowledged (as many departmental systems sending at once: one waiting for each ack would
    measure the benchmark's producer, not the pipeline); returns how many."""
    sent = 0
    pending: deque[asyncio.Future[Any]] = deque()
    async with producer(bootstrap) as p:
        for chunk in chunks:
            futures = [await p.send(topic, value, key=key) for key, value in chunk]
            pending.append(asyncio.gather(*futures))
            sent += len(chunk)
            if len(pending) >= in_flight:
                await pending.popleft()
        while pending:
            await pending.popleft()
    return sent


@dataclass(frozen=True)
class Probe:
    """Where each service is, read from counters and cursors (O(1) queries, unlike count(*) on the tables)."""

    accepted: int
    rejected: int
    evidence_relayed: int
    rejections_relayed: int
    scoring_consumed: int
    scores: int
    scores_relayed: int
    ledgered: int
    #: the highest `pos` stored (an event's `sequence`, in clock order across the store's partitions: ADR 0013)
    events_upto: int = 0
    rejections_upto: int = 0

    def settled(self, decided: int) -> bool:
        """`decided` submissions decided, and everything that follows from them scored, relayed and ledgered."""
        return (
            self.accepted + self.rejected >= decided
            and self.evidence_relayed == self.accepted
            and self.rejections_relayed == self.rejected
            and self.scoring_consumed >= self.accepted
            and self.scores_relayed == self.scores
            and self.ledgered >= self.accepted + self.rejected + self.scores
        )


_PROBE = f"""
SELECT (SELECT sum(n) FROM evidence.partitions WHERE stream = 'events') AS accepted,
       (SELECT sum(n) FROM evidence.partitions WHERE stream = 'rejections') AS rejected,
       (SELECT sum(pos) FROM evidence.relay_cursors WHERE name = 'evidence') AS evidence_relayed,
       (SELECT sum(pos) FROM evidence.relay_cursors WHERE name = 'rejections') AS rejections_relayed,
       (SELECT coalesce(sum(next_offset), 0) FROM scoring.consumer_positions
         WHERE topic = '{topics.EVIDENCE}') AS scoring_consumed,
       (SELECT sum(n) FROM scoring.partitions WHERE stream = 'scores') AS scores,
       (SELECT sum(pos) FROM scoring.relay_cursors WHERE name = 'scores') AS scores_relayed,
       (SELECT sum(size) FROM audit.heads) AS ledgered,
       (SELECT coalesce(max(pos), 0) FROM evidence.events) AS events_upto,
       (SELECT coalesce(max(pos), 0) FROM evidence.rejections) AS rejections_upto
"""


async def probe(conn: asyncpg.Connection) -> Probe:
    """The stack's progress now."""
    row = await conn.fetchrow(_PROBE)
    return Probe(**{k: int(v) for k, v in dict(row).items()})


@dataclass(frozen=True)
class Settled:
    """How long a backlog took: from the evidence service's first decision on it (the `received_at` it records,
    so the consumer's group join is not counted) to the poll that found everything settled."""

    before: Probe
    after: Probe
    seconds: float
    seconds_from_start: float

    @property
    def decided(self) -> int:
        return self.after.accepted + self.after.rejected - self.before.accepted - self.before.rejected

    @property
    def rate(self) -> float:
        """Submissions decided per second, end to end (decided, scored, relayed, ledgered)."""
        return self.decided / self.seconds if self.seconds > 0 else 0.0


#: Rows past the positions probed before: `pos` follows the evidence service's clock across partitions, so these
#: are the ones decided after (a count of rows is no position since the store is partitioned).
_FIRST_DECISION = """
SELECT least((SELECT min(recorded_at) FROM evidence.events WHERE pos > $1),
             (SELECT min(recorded_at) FROM evidence.rejections WHERE pos > $2))
"""


async def probe_now(dsn: str) -> Probe:
    """The stack's progress now, on a connection of its own."""
    conn = await asyncpg.connect(dsn)
    try:
        return await probe(conn)
    finally:
        await conn.close()


async def wait_settled(dsn: str, decided: int, *, timeout: float, check: object = None,
                       poll: float = 0.1, before: Probe | None = None) -> Settled:
    """Poll until `decided` submissions are decided and all that follows is settled (and stays so for a moment);
    time it from the first decision after `before` (the progress probed before the backlog was published; by
    default, now). `check()` (optional) raises when a service died.

    Probe `before` publishing whenever the pipeline may decide while the backlog is still being published:
    probed afterwards, what was decided meanwhile would count neither in the events nor in the time."""
    conn = await asyncpg.connect(dsn)
    try:
        before = before if before is not None else await probe(conn)
        start = time.time()
        while time.time() - start < timeout:
            if callable(check):
                check()
            now = await probe(conn)
            at = time.time()
            if now.settled(decided):
                await asyncio.sleep(0.3)
                if await probe(conn) != now:
                    continue
                first = await conn.fetchval(_FIRST_DECISION, before.events_upto, before.rejections_upto)
                began = first.timestamp() if first is not None else start
                return Settled(before, now, at - began, at - start)
            await asyncio.sleep(poll)
        raise TimeoutError(f"not settled within {timeout:.0f}s: {await probe(conn)} (want {decided} decided)")
    finally:
        await conn.close()


@dataclass
class Sampler:
    """Samples RSS and CPU time of named processes in a thread; keeps the peak RSS per process and per phase."""

    pids: Mapping[str, int]
    interval: float = 0.2
    peak: dict[str, int] = field(default_factory=dict)
    phase_peak: dict[str, dict[str, int]] = field(default_factory=dict)
    timeline: list[tuple[float, dict[str, int]]] = field(default_factory=list)
    phase: str = "start"
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _t0: float = field(default_factory=time.monotonic)

    def start(self) -> None:
        self._procs = {name: psutil.Process(pid) for name, pid in self.pids.items()}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def track(self, name: str, pid: int) -> None:
        """Follow another process under `name` (a restarted service)."""
        self._procs[name] = psutil.Process(pid)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> dict[str, int]:
        rss: dict[str, int] = {}
        for name, proc in list(self._procs.items()):
            try:
                rss[name] = proc.memory_info().rss
            except psutil.Error:
                continue
            self.peak[name] = max(self.peak.get(name, 0), rss[name])
            phase = self.phase_peak.setdefault(self.phase, {})
            phase[name] = max(phase.get(name, 0), rss[name])
        self.timeline.append((time.monotonic() - self._t0, rss))
        return rss

    def cpu_seconds(self) -> dict[str, float]:
        """User + system CPU seconds each process has used so far."""
        out = {}
        for name, proc in self._procs.items():
            try:
                t = proc.cpu_times()
                out[name] = t.user + t.system
            except psutil.Error:
                continue
        return out

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
