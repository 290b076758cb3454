"""Scale-out (issue 17): two instances of every service in each consumer group, on six partitions; mid-run one
instance of each is killed (SIGKILL, not restarted) and, later, a new one of each is added. The groups rebalance
each time; the invariants of every fault scenario still hold: each submission ended as exactly one outcome, the
read model equals a replay, the ledger is complete and verifies.

Each instance folds what the others accepted before it decides (the evidence gate's `catch_up` reads the store
by its gap-free position in each partition), stores its consumer positions with its state in one transaction, and
deduplicates by event id, so partitions can move between instances at any time. No group has a serial point
(ADR 0013): the evidence store, the score outbox and the audit ledger are each in partitions, and an instance
locks only the rows of the partitions it writes (the ledger: one tree head per partition, under one checkpoint
over every partition, which `check` verifies with the rest of the ledger).
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults import summary
from tests.faults.harness import ALL_SERVICES, FaultStack, Submitter, services_alive
from tests.faults.invariants import check
from tests.faults.workload import organisations, quiet, realisations, submit_through_outages

pytestmark = pytest.mark.faults

PARTITIONS = 6
SEED = 20250917


@pytest.fixture(scope="module")
def scaled() -> Iterator[FaultStack]:
    """A stack of its own on six partitions, with a second instance of every service."""
    data_dir = Path(tempfile.mkdtemp(prefix="objektif-scale-"))
    data_dir.chmod(0o755)
    s = FaultStack(data_dir, database=f"objektif_scale_{os.getpid()}", partitions=PARTITIONS)
    s.start_infrastructure()
    own_postgres = s.postgres_restartable
    try:
        asyncio.run(s.prepare(fresh=True))
        s.spawn_all()
        for name in ALL_SERVICES:
            s.spawn(f"{name}#2")
        yield s
    finally:
        s.stop()
        if not own_postgres:
            asyncio.run(s.drop_database())
        if not os.environ.get("OBJEKTIF_KEEP_FAULT_LOGS"):
            shutil.rmtree(data_dir, ignore_errors=True)


async def test_two_instances_per_group_one_killed_one_added_lose_nothing_and_count_nothing_twice(
    scaled: FaultStack,
) -> None:
    started = time.monotonic()
    rng = random.Random(SEED)
    submitter = Submitter(scaled.kafka_bootstrap, scaled.admin_dsn)
    worlds = await organisations(scaled, submitter, PARTITIONS, timeout=150, cover=PARTITIONS)
    load = realisations(worlds, 30, rng)
    events: list[str] = []

    async def change_the_groups(chunk: int) -> None:
        if chunk == 6:  # batches in flight in every group: one instance of each dies and is not restarted
            await asyncio.sleep(rng.uniform(0.0, 0.3))
            for name in ("evidence#2", "scoring", "audit#2"):
                scaled.kill_service(name, restart=False)
                events.append(f"killed {name}")
        if chunk == 14:  # and a new one joins each group
            for name in ALL_SERVICES:
                scaled.spawn(f"{name}#3")
                events.append(f"added {name}#3")

    await submit_through_outages(submitter, load, chunk=len(worlds), pause=0.3, on_chunk=change_the_groups)
    # an added instance's first assignment takes seconds (a rebalance): go on submitting, one realisation per
    # partition a second, until it has decided work of its own, or a minute has passed (then the assert says so)
    waves = 0
    deadline = time.monotonic() + 60
    while _idle(scaled, [f"{s}#3" for s in ALL_SERVICES]) and time.monotonic() < deadline:
        await submit_through_outages(submitter, realisations(worlds, 1, rng), chunk=len(worlds), pause=1.0)
        waves += 1
    await submitter.settle(180, resubmit_after=20, check=lambda: services_alive(scaled))
    await quiet(scaled, timeout=180, check=lambda: services_alive(scaled))
    found = await check(scaled, submitter.sent.values())
    summary.record("scale-out, 2 instances/group, 6 partitions", len(events), "; ".join(events),
                   len(submitter.sent), found, time.monotonic() - started,
                   note=f"seed {SEED}; {waves} waves after the load; "
                        f"{submitter.resubmitted} unanswered after 20 s and resubmitted")
    assert found.ok, found.problems
    assert len(events) == 6
    # every instance, the killed ones and the added ones too, decided batches of its own: the groups did spread
    idle = _idle(scaled, [n for s in ALL_SERVICES for n in (s, f"{s}#2", f"{s}#3")])
    assert not idle, f"instances that never handled a batch: {idle} ({waves} waves after the load)"
    running = sorted(scaled._services)  # the harness's own bookkeeping of what it started and did not kill
    assert running == sorted(["evidence", "evidence#3", "scoring#2", "scoring#3", "audit", "audit#3"]), running
    services_alive(scaled)


def _idle(stack: FaultStack, names: list[str]) -> list[str]:
    """The instances among `names` whose log shows no batch they decided."""
    logs = {n: stack.data_dir / "logs" / f"{n.replace('#', '-')}.log" for n in names}
    return [n for n, path in logs.items()
            if not path.exists() or '"event": "batch.' not in path.read_text(errors="replace")]
