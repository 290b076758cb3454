"""The broker restarts empty, PostgreSQL restarts: nothing is lost, nothing counted twice.

The embedded broker keeps nothing across a restart (topics, records, groups, offsets). What the outbox relays had
published but consumers had not read is republished from the stores (the relays notice and rewind); consumers
rejoin and read the new log from the start, deduplicating by event id. Submissions the broker lost before the
evidence service read them are the submitter's to resend: it resubmits whatever stayed unanswered.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from tests.faults import summary
from tests.faults.harness import FaultStack, Submitter, services_alive
from tests.faults.invariants import check
from tests.faults.workload import organisations, quiet, realisations, submit_through_outages

pytestmark = pytest.mark.faults


async def test_a_broker_that_restarts_empty_mid_stream_loses_nothing(
    fault_stack: FaultStack, submitter: Submitter
) -> None:
    started = time.monotonic()
    rng = random.Random(8)
    before, resubmitted_before = len(submitter.sent), submitter.resubmitted
    worlds = await organisations(fault_stack, submitter, 6)
    load = realisations(worlds, 40, rng)
    restarts = 0

    async def restart_now(chunk: int) -> None:
        nonlocal restarts
        if chunk in (1, 3):  # while submissions, evidence and scores are in flight
            await asyncio.sleep(rng.uniform(0.0, 0.3))
            fault_stack.kill_broker()
            await asyncio.sleep(1.0)
            fault_stack.start_broker()
            restarts += 1

    await submit_through_outages(submitter, load, chunk=40, on_chunk=restart_now)
    await submitter.settle(150, resubmit_after=6, check=lambda: services_alive(fault_stack))
    await quiet(fault_stack, timeout=90, check=lambda: services_alive(fault_stack))
    found = await check(fault_stack, submitter.sent.values())
    resubmitted = submitter.resubmitted - resubmitted_before
    summary.record("broker restarts empty", restarts, "Tansu SIGKILL, back empty", len(submitter.sent) - before,
                   found, time.monotonic() - started, note=f"{resubmitted} resubmitted by the submitter")
    assert found.ok, found.problems
    assert restarts == 2
    services_alive(fault_stack)


async def test_postgresql_restarting_mid_stream_loses_nothing(fault_stack: FaultStack, submitter: Submitter) -> None:
    started = time.monotonic()
    if not fault_stack.postgres_restartable:
        summary.NOTES.append(f"PostgreSQL restart not run: {fault_stack.postgres_note}")
        found = await check(fault_stack, submitter.sent.values())
        assert found.ok, found.problems
        return
    rng = random.Random(9)
    before = len(submitter.sent)
    worlds = await organisations(fault_stack, submitter, 4)
    load = realisations(worlds, 40, rng)
    restarts = 0

    async def restart_now(chunk: int) -> None:
        nonlocal restarts
        if chunk in (1, 2):
            await asyncio.sleep(rng.uniform(0.0, 0.3))
            await asyncio.to_thread(fault_stack.restart_postgres, 1.5)
            restarts += 1

    await submit_through_outages(submitter, load, chunk=40, on_chunk=restart_now)
    await submitter.settle(120, resubmit_after=10, check=lambda: services_alive(fault_stack))
    await quiet(fault_stack, timeout=90, check=lambda: services_alive(fault_stack))
    found = await check(fault_stack, submitter.sent.values())
    summary.record("PostgreSQL restarts", restarts, "immediate stop, same data dir", len(submitter.sent) - before,
                   found, time.monotonic() - started)
    assert found.ok, found.problems
    assert restarts == 2
    services_alive(fault_stack)
