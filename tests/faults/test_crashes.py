"""Services killed with SIGKILL at random points while batches are in flight, and restarted: each batch is one
PostgreSQL transaction with the consumer's positions, the outbox relays republish rather than lose, consumers
deduplicate by event id, so nothing is lost and nothing counted twice (ARCHITECTURE.md, "Nothing lost")."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from tests.faults import summary
from tests.faults.harness import ALL_SERVICES, FaultStack, Submitter, services_alive
from tests.faults.invariants import check
from tests.faults.workload import organisations, quiet, realisations, submit_through_outages

pytestmark = pytest.mark.faults

KILLS = 24
SEED = 20250701


async def test_services_killed_mid_batch_lose_nothing_and_count_nothing_twice(
    fault_stack: FaultStack, submitter: Submitter
) -> None:
    started = time.monotonic()
    rng = random.Random(SEED)
    before, kills_before = len(submitter.sent), sum(fault_stack.kills.values())
    resubmitted_before = submitter.resubmitted
    worlds = await organisations(fault_stack, submitter, 8)
    load = realisations(worlds, 3 * KILLS, rng)  # one chunk of 8 submissions per kill, then more

    async def kill_one(chunk: int) -> None:
        if chunk < KILLS:
            await asyncio.sleep(rng.uniform(0.0, 0.4))  # somewhere inside the batches this chunk started
            fault_stack.kill_service(ALL_SERVICES[chunk % len(ALL_SERVICES)] if chunk < 6
                                     else rng.choice(ALL_SERVICES))

    await submit_through_outages(submitter, load, chunk=len(worlds), pause=0.3, on_chunk=kill_one)
    await submitter.settle(150, resubmit_after=15, check=lambda: services_alive(fault_stack))
    await quiet(fault_stack, timeout=120, check=lambda: services_alive(fault_stack))
    found = await check(fault_stack, submitter.sent.values())
    kills = sum(fault_stack.kills.values()) - kills_before
    resubmitted = submitter.resubmitted - resubmitted_before
    summary.record("kill -9 mid-batch", kills, "SIGKILL + restart: " + ", ".join(
        f"{n} x{c}" for n, c in sorted(fault_stack.kills.items())), len(submitter.sent) - before, found,
        time.monotonic() - started, note=f"seed {SEED}; {resubmitted} unanswered after 15 s and resubmitted")
    assert found.ok, found.problems
    assert kills >= 20
    assert all(fault_stack.kills.get(n, 0) >= 2 for n in ALL_SERVICES)
    services_alive(fault_stack)
