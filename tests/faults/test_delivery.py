"""Kafka delivers at least once, in order only within a partition: duplicates, a redelivery of everything after
a commit that was lost, and submissions of different employees arriving in any order across partitions change
nothing but what they should."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import replace

import pytest
from aiokafka import AIOKafkaConsumer

from contracts import topics
from services.audit.main import GROUP_ID as AUDIT_GROUP
from services.evidence.main import GROUP_ID as EVIDENCE_GROUP
from services.scoring.main import GROUP_ID as SCORING_GROUP
from tests.faults import summary
from tests.faults.harness import FaultStack, Submitter, services_alive
from tests.faults.invariants import check
from tests.faults.workload import FaultWorld, organisations, quiet, realisations, sent

pytestmark = pytest.mark.faults


async def test_duplicate_deliveries_have_no_second_effect(fault_stack: FaultStack, submitter: Submitter) -> None:
    started = time.monotonic()
    rng = random.Random(11)
    before = len(submitter.sent)
    worlds = await organisations(fault_stack, submitter, 4)
    load = realisations(worlds, 25, rng)
    copies = [s for s in load for _ in range(rng.choice((1, 2, 3)))]  # each once, twice or three times
    rng.shuffle(copies)
    await submitter.submit(copies)
    await submitter.submit(load[: len(load) // 2])  # and again, later
    await submitter.settle(90)
    await quiet(fault_stack, check=lambda: services_alive(fault_stack))
    found = await check(fault_stack, submitter.sent.values())
    duplicates = len(copies) - len(load) + len(load) // 2
    summary.record("duplicate deliveries", duplicates, "the same submission 2-4 times",
                   len(submitter.sent) - before, found, time.monotonic() - started)
    assert found.ok, found.problems


async def _rewind_group(bootstrap: str, group: str, subscribed: tuple[str, ...], timeout: float = 60) -> int:
    """Join the (stopped) service's group as its only member and commit offset 0 everywhere: as if every commit
    since the start had been lost. Returns how many partitions were rewound."""
    consumer = AIOKafkaConsumer(*subscribed, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        while not consumer.assignment():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no assignment in group {group} within {timeout:.0f}s")
            await consumer.getmany(timeout_ms=500, max_records=1)  # drives the join
        partitions = sorted(consumer.assignment())
        await consumer.commit(dict.fromkeys(partitions, 0))
        return len(partitions)
    finally:
        await consumer.stop()


async def test_a_redelivery_of_everything_after_lost_commits_changes_nothing(
    fault_stack: FaultStack, submitter: Submitter
) -> None:
    started = time.monotonic()
    worlds = await organisations(fault_stack, submitter, 2)
    before = len(submitter.sent)
    await submitter.submit(realisations(worlds, 10, random.Random(12)))
    await submitter.settle(60)
    counts = await quiet(fault_stack, check=lambda: services_alive(fault_stack))
    groups = ((("evidence", EVIDENCE_GROUP, (topics.SUBMISSIONS,)), ("scoring", SCORING_GROUP, (topics.EVIDENCE,)),
               ("audit", AUDIT_GROUP, (topics.EVIDENCE, topics.REJECTIONS, topics.SCORES))))
    for name, _group, _subscribed in groups:
        fault_stack.kill_service(name, restart=False)
    rewound = sum(await asyncio.gather(*(_rewind_group(fault_stack.kafka_bootstrap, group, subscribed)
                                         for _name, group, subscribed in groups)))
    for name, _group, _subscribed in groups:
        fault_stack.spawn(name)
    marker = realisations(worlds, 1, random.Random(13))  # answered only after the redelivered backlog
    await submitter.submit(marker)
    await submitter.settle(90)
    after = await quiet(fault_stack, check=lambda: services_alive(fault_stack))
    found = await check(fault_stack, submitter.sent.values())
    summary.record("redelivery after lost commits", 3, "kill + group offsets rewound to 0",
                   len(submitter.sent) - before, found, time.monotonic() - started,
                   note=f"{counts['accepted'] + counts['rejected']} decided submissions redelivered to evidence")
    assert found.ok, found.problems
    assert rewound >= 3 * 3  # every partition the three groups read
    assert after["accepted"] == counts["accepted"] + len(marker)  # the redelivered backlog added nothing
    assert after["rejected"] == counts["rejected"]


async def test_submissions_arriving_in_any_order_across_partitions_end_as_a_replay_says(
    fault_stack: FaultStack, submitter: Submitter
) -> None:
    started = time.monotonic()
    rng = random.Random(14)
    before = len(submitter.sent)
    worlds = [FaultWorld(fault_stack) for _ in range(6)]
    # Registrations (keyed by source), structure and plans (by unit and NIP) and realisations (by NIP) of six
    # organisations, all at once and shuffled: each lands on its key's partition, partitions are read in any
    # order. A submission read before the registration it needs is rejected (that is its answer).
    everything = [s for w in worlds for s in sent(w.registrations()) + sent(w.structure(), "any")
                  + [replace(r, expect="any") for r in realisations([w], 5, rng)]]
    rng.shuffle(everything)
    await submitter.submit(everything)
    await submitter.settle(90)
    await quiet(fault_stack, check=lambda: services_alive(fault_stack))
    found = await check(fault_stack, submitter.sent.values())
    summary.record("reordering across partitions", len(everything), "6 organisations' set-up and work, shuffled",
                   len(submitter.sent) - before, found, time.monotonic() - started)
    assert found.ok, found.problems
