"""The work the fault scenarios push through the pipeline: organisations set up phase by phase (sources, then
structure and plans), then a stream of signed realisations, all remembered by the submitter."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg

from chassis.kafka import partition_of
from tests.e2e.world import AT, World
from tests.faults.harness import FaultStack, Sent, Submitter, send_raw, sent_of

_NIPS = itertools.count(random.SystemRandom().randrange(100_000, 900_000, 1000))


class FaultWorld(World):
    """A `World` whose NIPs come from one counter, so that many organisations never share an employee."""

    def __post_init__(self) -> None:
        self.unit = f"unit-{self.tag}"
        self.system = f"system.{self.tag}"
        self.penilai, self.employee, self.peer = (f"198001012005{next(_NIPS):06d}" for _ in range(3))


def sent(envelopes: list[dict[str, Any]], expect: str = "accepted") -> list[Sent]:
    """Submissions keyed by subject, as a departmental system keys them."""
    return [sent_of(e, str(e["subject"]), expect) for e in envelopes]


def covering(stack: FaultStack, partitions: int) -> list[FaultWorld]:
    """One organisation per partition: each world's employee (the key of its realisations) falls in a partition
    no other world's does, so every instance of a group that holds partitions gets work."""
    by_part: dict[int, FaultWorld] = {}
    while len(by_part) < partitions:
        w = FaultWorld(stack)
        by_part.setdefault(partition_of(w.employee.encode(), range(partitions)), w)
    return [by_part[p] for p in range(partitions)]


async def organisations(stack: FaultStack, submitter: Submitter, n: int, *, timeout: float = 90,
                        cover: int | None = None) -> list[FaultWorld]:
    """`n` organisations with registered sources, structure and plans, each phase answered before the next;
    with `cover`, `n` must equal it and the organisations' employees fall one in each of `cover` partitions."""
    assert cover is None or cover == n, (cover, n)
    worlds = covering(stack, n) if cover else [FaultWorld(stack) for _ in range(n)]
    for phase in (lambda w: w.registrations(), lambda w: w.structure()):
        await submitter.submit([s for w in worlds for s in sent(phase(w))])
        await submitter.settle(timeout)
    return worlds


def realisations(worlds: list[FaultWorld], per_world: int, rng: random.Random) -> list[Sent]:
    """`per_world` signed realisations for each organisation's employee, interleaved across organisations."""
    out = []
    for i in range(per_world):
        for w in worlds:
            value = f"{rng.randint(9000, 9999) / 100:.2f}"
            out.append(sent([w.realisation(value, AT + timedelta(days=30, minutes=i))])[0])
    return out


async def submit_through_outages(submitter: Submitter, items: list[Sent], chunk: int = 50,
                                 pause: float = 0.05, on_chunk: Callable[[int], Any] | None = None) -> int:
    """Submit in chunks, retrying a chunk the broker did not acknowledge (it may be away); returns retries."""
    retries = 0
    for start in range(0, len(items), chunk):
        part = items[start:start + chunk]
        submitter.remember(part)
        while True:
            try:
                await send_raw(submitter.bootstrap, [(s.key, s.raw) for s in part])
                break
            except Exception:
                retries += 1
                await asyncio.sleep(0.5)
        if on_chunk is not None:
            result = on_chunk(start // chunk)
            if asyncio.iscoroutine(result):
                await result
        await asyncio.sleep(pause)
    return retries


async def quiet(stack: FaultStack, *, timeout: float = 120, check: Callable[[], None] | None = None) -> dict[str, int]:
    """Wait until every accepted event is in scoring, every event and score is in the ledger and a signed
    checkpoint over every partition covers the whole ledger, twice in a row; returns the counts."""
    deadline = time.monotonic() + timeout
    last: dict[str, int] | None = None
    stable = 0
    while True:
        if check is not None:
            check()
        counts = await _counts(stack.admin_dsn)
        done = (counts["scored"] == counts["accepted"]
                and counts["ledgered"] == counts["accepted"] + counts["rejected"] + counts["scores"]
                and counts["checkpointed"] == counts["ledgered"])  # the audit service still signs checkpoints
        stable = stable + 1 if done and counts == last else 0
        if stable >= 2:
            return counts
        if time.monotonic() > deadline:
            raise AssertionError(f"the pipeline did not settle within {timeout:.0f}s: {counts}")
        last = counts
        await asyncio.sleep(0.5)


async def _counts(dsn: str) -> dict[str, int]:
    try:
        conn = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError):
        return {"accepted": -1, "rejected": -1, "scored": -2, "scores": -1, "ledgered": -1, "checkpointed": -1}
    try:
        row = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM evidence.events) AS accepted,
                      (SELECT count(*) FROM evidence.rejections) AS rejected,
                      (SELECT count(*) FROM scoring.events) AS scored,
                      (SELECT count(*) FROM scoring.outbox) AS scores,
                      (SELECT count(*) FROM audit.leaves) AS ledgered,
                      coalesce((SELECT (SELECT sum(s)::bigint FROM unnest(sizes) AS s) FROM audit.partition_checkpoints
                                ORDER BY n DESC LIMIT 1), 0) AS checkpointed""")
    finally:
        await conn.close()
    return dict(row)
