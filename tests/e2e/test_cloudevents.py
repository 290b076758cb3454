"""End to end through the real broker and PostgreSQL (issue 19, "Done when"): a departmental system builds its
submission with the CloudEvents SDK, frames it in the Kafka binding's binary mode (`to_binary`) and produces it
with librdkafka; it is accepted and scored exactly like the same envelope sent natively, the native record of it
is then a duplicate, the accepted event on `objektif.evidence.v1` and a score on `objektif.scores.v1` carry `ce_*`
headers the SDK's `from_binary` reads, and a CloudEvent that frames no envelope is recorded as a rejection naming
the header."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary_event, to_binary_event
from cloudevents.core.v1.event import CloudEvent
from confluent_kafka import Consumer, Producer

from contracts import pdp, topics
from contracts.cloudevents import ENVELOPE_SCHEMA, ce_type
from contracts.signing import sign_envelope
from objektif.stack import Stack
from tests.e2e.world import World, query, query_value, wait_for

pytestmark = pytest.mark.e2e

#: When the realisation happened; the SDK writes it as `2025-08-01T02:00:00Z`, and that text is what is signed.
AT = datetime(2025, 8, 1, 2, 0, tzinfo=UTC)
AT_TEXT = "2025-08-01T02:00:00Z"


def realisation(world: World, value: str) -> dict[str, Any]:
    """The departmental system's signed realisation, its `occurred_at` written as the CloudEvent's `time`."""
    doc = f"https://dapodik.example/{world.tag}/aps/{value}"
    envelope = world.envelope("realisation.recorded", world.employee, {
        "iki_id": "aps", "value": value,
        "evidence": {"source_system": world.system, "document": doc, "content_hash": "sha256:" + "cd" * 32}},
        world.system, AT)
    return sign_envelope({**envelope, "occurred_at": AT_TEXT}, world.key(world.system))


def cloudevent(envelope: dict[str, Any], **attributes: Any) -> KafkaMessage:
    """The SDK's CloudEvent of a signed envelope, in Kafka binary mode (docs/adr/0011-cloudevents.md)."""
    event = CloudEvent({
        "id": envelope["event_id"], "source": envelope["source"], "subject": envelope["subject"],
        "type": ce_type(envelope["type"], envelope["schema_version"]), "time": AT,
        "datacontenttype": "application/json", "objektifperiod": envelope["period"],
        "objektifsig": envelope["signature"], "partitionkey": envelope["subject"], **attributes,
    }, envelope["payload"])
    return to_binary_event(event)


def produce(bootstrap: str, records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]) -> None:
    """librdkafka publishes (key, value, headers) to the submissions topic and waits for every report."""
    failures: list[str] = []
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for key, value, headers in records:
        producer.produce(topics.SUBMISSIONS, value=value, key=key, headers=headers,
                         on_delivery=lambda err, _msg: failures.append(str(err)) if err else None)
    assert producer.flush(30) == 0, "librdkafka did not deliver everything within 30 s"
    assert failures == []


def binary(message: KafkaMessage) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    key = message.key.encode() if isinstance(message.key, str) else message.key or b""
    return key, message.value, list(message.headers.items())


async def appraisal(stack: Stack, world: World, event_id: str) -> dict[str, Any]:
    value = await wait_for(lambda: query_value(
        stack, "SELECT result::text FROM scoring.appraisals WHERE nip = $1 AND period = $2", world.employee,
        "2025-Q3"), lambda v: v is not None and event_id in v)
    result: dict[str, Any] = orjson.loads(value)
    return result


async def as_compared(stack: Stack, world: World, result: dict[str, Any]) -> str:
    """An appraisal with this world's own ids written as placeholders: the event ids by their place in the
    evidence sequence among the world's events, its NIPs, unit, source and tag by role."""
    ids = [str(r["event_id"]) for r in await query(
        stack, "SELECT event_id FROM evidence.events WHERE event_id = ANY($1::uuid[]) ORDER BY pos",
        result["basis_event_ids"])]
    # the name is sealed to each world's own employee's data key (UU PDP): equal only as a sealed value
    shown = {k: ("<sealed>" if k == "name" and pdp.is_sealed(v) else v) for k, v in result.items() if k != "basis_hash"}
    text = orjson.dumps(shown, option=orjson.OPT_SORT_KEYS).decode()
    for i, event_id in enumerate(ids):
        text = text.replace(event_id, f"<event {i}>")
    for name in ("employee", "penilai", "peer", "unit", "system", "tag"):
        text = text.replace(getattr(world, name), f"<{name}>")
    return text


def consume_evidence(bootstrap: str, event_id: str, timeout: float = 60, topic: str = topics.EVIDENCE
                     ) -> KafkaMessage:
    """The record of `event_id` on `topic` (objektif.evidence.v1 unless told), as the SDK's KafkaMessage, read by
    librdkafka."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"ce-test-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None or msg.error() is not None:
                continue
            value = msg.value() or b""
            if event_id.encode() in value and orjson.loads(value)["event_id"] == event_id:
                headers = {name: raw or b"" for name, raw in msg.headers() or []}
                return KafkaMessage(headers=headers, key=msg.key(), value=value)
    finally:
        consumer.close()
    raise AssertionError(f"{event_id} did not appear on {topic} within {timeout:.0f} s")


async def test_a_cloudevent_from_the_sdk_is_accepted_and_scored_exactly_like_the_same_envelope_sent_natively(
    stack: Stack,
) -> None:
    native, cloudy = World(stack), World(stack)
    await native.setup()
    await cloudy.setup()
    by_native, by_cloudevent = realisation(native, "98.50"), realisation(cloudy, "98.50")

    produce(stack.kafka_bootstrap, [
        (native.employee.encode(), orjson.dumps(by_native), []),
        binary(cloudevent(by_cloudevent)),
    ])
    scored_native = await appraisal(stack, native, by_native["event_id"])
    scored_cloudevent = await appraisal(stack, cloudy, by_cloudevent["event_id"])

    # scored alike: the same appraisal, id for id in its own world, and the CloudEvent's id in its basis
    assert by_cloudevent["event_id"] in scored_cloudevent["basis_event_ids"]
    assert {i["iki_id"]: i["capaian"] for i in scored_cloudevent["iki"]} == {"aps": "100.00"}
    assert await as_compared(stack, cloudy, scored_cloudevent) == await as_compared(stack, native, scored_native)

    # stored as the very envelope its source signed: the native record of it is that event again
    stored = orjson.loads(await query_value(
        stack, "SELECT value FROM evidence.events WHERE event_id = $1::uuid", by_cloudevent["event_id"]))
    assert {k: v for k, v in stored.items() if k not in ("sequence", "recorded_at")} == by_cloudevent
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.http_ports['evidence']}", timeout=30) as client:
        again = await client.post("/submissions", content=orjson.dumps(by_cloudevent),
                                  headers={"content-type": "application/json"})
    assert again.status_code == 202
    assert (again.json()["status"], again.json()["sequence"]) == ("duplicate", stored["sequence"])

    # emitted as a CloudEvent too: the accepted event's ce_ headers, read by the SDK, frame the envelope
    message = consume_evidence(stack.kafka_bootstrap, by_cloudevent["event_id"])
    event = from_binary_event(message)
    assert (event.get_id(), event.get_source(), event.get_subject()) == (
        by_cloudevent["event_id"], cloudy.system, cloudy.employee)
    assert event.get_type() == "id.go.semarangkota.objektif.realisation.recorded.v1"
    assert event.get_time() == AT
    assert event.get_dataschema() == ENVELOPE_SCHEMA
    assert event.get_extension("objektifsequence") == str(stored["sequence"])
    assert event.get_extension("objektifperiod") == "2025-Q3"
    assert event.get_data() == stored  # the whole envelope, its signature included, unchanged


async def test_a_score_record_is_a_cloudevent_the_sdk_reads_its_attributes_those_of_the_score_event(
    stack: Stack,
) -> None:
    world = World(stack)
    await world.setup()
    submission = realisation(world, "96.25")
    produce(stack.kafka_bootstrap, [(world.employee.encode(), orjson.dumps(submission), [])])
    await appraisal(stack, world, submission["event_id"])
    row = await wait_for(lambda: query(
        stack, "SELECT event_id::text AS event_id, value FROM scoring.outbox WHERE key = $1 AND "
               "position($2::text::bytea IN value) > 0 ORDER BY pos DESC LIMIT 1", world.employee,
        submission["event_id"]), lambda r: len(r) == 1)
    score_id, stored = row[0]["event_id"], orjson.loads(row[0]["value"])

    message = consume_evidence(stack.kafka_bootstrap, score_id, topic=topics.SCORES)
    event = from_binary_event(message)
    # every attribute is the score event's own (no clock: the relay re-sends the same headers after a reset)
    assert (event.get_id(), event.get_source(), event.get_subject()) == (score_id, "objektif.scoring", world.employee)
    assert event.get_type() == "id.go.semarangkota.objektif.score.computed.v1"
    assert event.get_time() == datetime.fromisoformat(stored["occurred_at"])
    assert message.headers["ce_time"] == stored["occurred_at"].encode()
    assert event.get_dataschema() == ENVELOPE_SCHEMA
    assert event.get_datacontenttype() == "application/json"
    assert event.get_extension("objektifperiod") == "2025-Q3"
    assert event.get_extension("objektifcorrelation") == stored["correlation_id"]
    assert event.get_extension("recordedtime") is None and event.get_extension("objektifsequence") is None
    assert event.get_data() == stored  # the whole score event, as ledgered
    assert message.value == bytes(row[0]["value"])  # its bytes unchanged by the framing


async def test_a_cloudevent_that_frames_no_envelope_is_recorded_as_a_rejection_naming_the_header(
    stack: Stack,
) -> None:
    world = World(stack)
    await world.setup()
    since = datetime.now(UTC)
    envelope = realisation(world, "97.00")
    message = cloudevent(envelope)
    headers = [(k, v) for k, v in message.headers.items() if k != "ce_objektifperiod"]
    produce(stack.kafka_bootstrap, [(world.employee.encode(), message.value, headers)])

    rows = await wait_for(lambda: query(
        stack, "SELECT event_id, codes, value FROM evidence.rejections WHERE submission_event_id = $1::uuid "
               "AND recorded_at >= $2", envelope["event_id"], since), lambda r: len(r) == 1)
    assert list(rows[0]["codes"]) == ["cloudevent.missing"]
    (reason,) = orjson.loads(rows[0]["value"])["payload"]["reasons"]
    assert reason["path"] == "ce_objektifperiod" and reason["message_id"] and reason["message_en"]
    assert await query_value(stack, "SELECT count(*) FROM evidence.events WHERE event_id = $1::uuid",
                             envelope["event_id"]) == 0
    await wait_for(lambda: query_value(stack, "SELECT count(*) FROM audit.leaves WHERE event_id = $1::uuid",
                                       rows[0]["event_id"]), lambda n: n == 1)
