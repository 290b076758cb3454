"""End to end through the real broker and PostgreSQL: a departmental system publishes with kcat; the evidence
service decides, the scoring service scores, the audit service ledgers."""

from __future__ import annotations

import base64

import orjson
import pytest

from contracts.signing import verify_envelope
from objektif.stack import Stack
from tests.e2e.world import World, kcat_produce, line, query, query_value, wait_for

pytestmark = pytest.mark.e2e


async def test_a_valid_submission_by_kcat_is_accepted_scored_and_ledgered(stack: Stack) -> None:
    world = World(stack)
    await world.setup()
    submission = world.realisation("98.50")
    kcat_produce(stack.kafka_bootstrap, [(world.employee, line(submission))])

    seq = await wait_for(lambda: query_value(stack, "SELECT pos FROM evidence.events WHERE event_id = $1::uuid",
                                             submission["event_id"]), lambda v: v is not None)
    published = orjson.loads(await query_value(
        stack, "SELECT value FROM evidence.events WHERE event_id = $1::uuid", submission["event_id"]))
    assert published["sequence"] == seq and published["recorded_at"]
    # the accepted event still verifies under the departmental system's key, as a third party would check it
    assert verify_envelope(published, world.key(world.system).public_key())
    appraisal = await wait_for(
        lambda: query_value(stack, "SELECT result FROM scoring.appraisals WHERE nip = $1 AND period = $2 "
                                   "AND upto_sequence >= $3", world.employee, "2025-Q3", seq),
        lambda v: v is not None)
    result = orjson.loads(appraisal)
    assert submission["event_id"] in result["basis_event_ids"]
    iki = {i["iki_id"]: i for i in result["iki"]}
    assert iki["aps"]["capaian"] == "100.00"  # 98.50 inside the 97–99 range target (§1.3)
    ledgered = await wait_for(lambda: query_value(
        stack, "SELECT count(*) FROM audit.leaves WHERE event_id = $1::uuid", submission["event_id"]),
        lambda n: n == 1)
    assert ledgered == 1


async def test_a_malformed_submission_becomes_a_rejection_with_its_reason_and_bytes(stack: Stack) -> None:
    world = World(stack)
    bad = {"event_id": "not-a-uuid", "type": "realisation.recorded", "subject": world.employee}
    raw = orjson.dumps(bad)
    kcat_produce(stack.kafka_bootstrap, [(world.employee, raw)])
    rows = await wait_for(lambda: query(
        stack, "SELECT codes, value FROM evidence.rejections WHERE key = $1", world.employee), lambda r: len(r) == 1)
    codes, value = rows[0]["codes"], orjson.loads(rows[0]["value"])
    assert codes and all(c.startswith("schema") or c.startswith("signature") for c in codes), codes
    assert base64.b64decode(value["payload"]["original_b64"]) == raw
    assert value["payload"]["reasons"][0]["message_id"] and value["payload"]["reasons"][0]["message_en"]
    await wait_for(lambda: query_value(stack, "SELECT count(*) FROM audit.leaves WHERE event_id = $1::uuid",
                                       value["event_id"]), lambda n: n == 1)


async def test_a_duplicate_submission_has_no_second_effect(stack: Stack) -> None:
    world = World(stack)
    await world.setup()
    submission = world.realisation("97.25")
    kcat_produce(stack.kafka_bootstrap, [(world.employee, line(submission))])
    await wait_for(lambda: query_value(stack, "SELECT result FROM scoring.appraisals WHERE nip = $1",
                                       world.employee), lambda r: r is not None and submission["event_id"] in r)
    scores_before = await query_value(stack, "SELECT count(*) FROM scoring.outbox WHERE key = $1", world.employee)

    kcat_produce(stack.kafka_bootstrap, [(world.employee, line(submission)), (world.employee, line(submission))])
    marker = world.realisation("97.75")  # a later submission proves the duplicates were processed before it
    kcat_produce(stack.kafka_bootstrap, [(world.employee, line(marker))])
    await wait_for(lambda: query_value(stack, "SELECT result FROM scoring.appraisals WHERE nip = $1",
                                       world.employee), lambda r: marker["event_id"] in r)

    assert await query_value(stack, "SELECT count(*) FROM evidence.events WHERE event_id = $1::uuid",
                             submission["event_id"]) == 1
    assert await query_value(stack, "SELECT count(*) FROM evidence.rejections WHERE submission_event_id = $1::uuid",
                             submission["event_id"]) == 0
    assert await query_value(stack, "SELECT count(*) FROM scoring.events WHERE event_id = $1::uuid",
                             submission["event_id"]) == 1
    # only the marker changed the appraisal: the duplicates announced no score of their own
    assert await query_value(stack, "SELECT count(*) FROM scoring.outbox WHERE key = $1",
                             world.employee) == scores_before + 1
    after = orjson.loads(await query_value(stack, "SELECT result FROM scoring.appraisals WHERE nip = $1",
                                           world.employee))
    assert marker["event_id"] in after["basis_event_ids"]
