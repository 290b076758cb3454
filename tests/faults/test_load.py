"""A slow consumer under sustained load (bounded in count and time, loopback only): the scoring service is frozen
three quarters of the time (SIGSTOP/SIGCONT) while submissions keep coming. Its lag grows and is visible, from the
positions it stores in PostgreSQL against the broker's end offsets; then it drains, and nothing is lost."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from contextlib import suppress

import asyncpg
import pytest

from chassis.kafka import LogProbe
from contracts import topics
from tests.faults import summary
from tests.faults.harness import FaultStack, Submitter, services_alive
from tests.faults.invariants import check
from tests.faults.workload import organisations, quiet, realisations, submit_through_outages

pytestmark = pytest.mark.faults

#: service → (schema with its consumer_positions, the topics it reads)
CONSUMERS = {
    "evidence": ("evidence", (topics.SUBMISSIONS,)),
    "scoring": ("scoring", (topics.EVIDENCE,)),
    "audit": ("audit", (topics.EVIDENCE, topics.REJECTIONS, topics.SCORES)),
}


async def consumer_lag(admin_dsn: str, probe: LogProbe) -> dict[str, int]:
    """Records each service has yet to read: broker end offsets minus the positions committed with its state.

    On Tansu the end offsets are a lower bound (the last batch's base offset + 1), so this is too."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        lag = {}
        for service, (schema, read) in CONSUMERS.items():
            stored = {(r["topic"], r["partition"]): r["next_offset"] for r in await conn.fetch(
                f"SELECT topic, partition, next_offset FROM {schema}.consumer_positions")}
            total = 0
            for topic in read:
                ends = await probe.end_offsets(topic) or {}
                total += sum(max(0, end - stored.get((topic, p), 0)) for p, end in ends.items())
            lag[service] = total
        lag["events"] = int(await conn.fetchval(
            "SELECT (SELECT count(*) FROM evidence.events) - (SELECT count(*) FROM scoring.events)"))
    finally:
        await conn.close()
    return lag


async def _throttle(pid: int, stop: asyncio.Event, frozen: float = 0.6, running: float = 0.2) -> int:
    """Freeze and thaw a process until `stop` (always leaving it running); returns how many times."""
    cycles = 0
    try:
        while not stop.is_set():
            os.kill(pid, signal.SIGSTOP)
            cycles += 1
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), frozen)
            os.kill(pid, signal.SIGCONT)
            await asyncio.sleep(running)
    finally:
        os.kill(pid, signal.SIGCONT)
    return cycles


async def test_a_slow_consumer_under_sustained_load_shows_its_lag_then_drains(
    fault_stack: FaultStack, submitter: Submitter
) -> None:
    started = time.monotonic()
    worlds = await organisations(fault_stack, submitter, 10)
    before = len(submitter.sent)
    load = realisations(worlds, 80, random.Random(15))  # 800 submissions in about 15 s
    probe = LogProbe(fault_stack.kafka_bootstrap)
    stop = asyncio.Event()
    scoring = fault_stack._services["scoring"].pid
    throttle = asyncio.create_task(_throttle(scoring, stop))
    peak: dict[str, int] = {}

    async def sample(_chunk: int) -> None:
        for name, value in (await consumer_lag(fault_stack.admin_dsn, probe)).items():
            peak[name] = max(peak.get(name, 0), value)

    try:
        await submit_through_outages(submitter, load, chunk=20, pause=0.3, on_chunk=sample)
        await asyncio.sleep(2)
        await sample(0)
    finally:
        stop.set()
        cycles = await throttle
    try:
        await submitter.settle(90, check=lambda: services_alive(fault_stack))
        await quiet(fault_stack, timeout=120, check=lambda: services_alive(fault_stack))
        drained = await consumer_lag(fault_stack.admin_dsn, probe)
    finally:
        await probe.close()
    found = await check(fault_stack, submitter.sent.values())
    summary.record("slow consumer under load", cycles, "scoring SIGSTOPped 75% of the time",
                   len(submitter.sent) - before, found, time.monotonic() - started,
                   note="peak lag (records; events for `events`): " + ", ".join(f"{k} {v}" for k, v in peak.items())
                   + "; after draining: " + ", ".join(f"{k} {v}" for k, v in drained.items()))
    assert peak["scoring"] > 0 and peak["events"] > 0, peak  # the slow consumer's lag was visible
    assert not any(drained.values()), drained
    assert found.ok, found.problems
    services_alive(fault_stack)
