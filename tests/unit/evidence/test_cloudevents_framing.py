"""A CloudEvent in Kafka binary mode is another framing of the one signed envelope (issue 19,
docs/adr/0011-cloudevents.md): the gate rebuilds exactly the envelope the source signed, decides it as it would
the native record, and refuses a CloudEvent that frames no envelope with a reason naming the header."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from cloudevents.core.bindings.kafka import from_binary_event, to_binary_event
from cloudevents.core.v1.event import CloudEvent

from contracts.cloudevents import (
    CloudEventInvalid,
    binary_headers,
    ce_type,
    envelope_from_binary,
    headers_of_published,
    parse_ce_type,
)
from contracts.signing import sign_envelope, signing_bytes, verify_envelope
from services.evidence.adapters.kafka_framing import unframe
from services.evidence.domain import Accepted
from tests.unit.evidence.evidence_world import SIKDA, STAFF1, World, build_world, codes


@dataclass(frozen=True)
class Record:
    """A consumed Kafka record as the framing reads it."""

    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


def signed(world: World, **extra: Any) -> dict[str, Any]:
    envelope = world.realisation(STAFF1, "iki-imunisasi")
    envelope["occurred_at"] = "2025-02-01T09:30:00+07:00"
    return sign_envelope({**envelope, **extra}, SIKDA)


def framed(envelope: dict[str, Any]) -> Record:
    """What a departmental system sends in binary mode: the envelope's members as headers, the payload as value."""
    return Record(orjson.dumps(envelope["payload"]), tuple(binary_headers(envelope)))


def test_the_type_names_objektifs_type_and_schema_version_under_the_reverse_dns_prefix() -> None:
    assert ce_type("realisation.recorded", 1) == "id.go.semarangkota.objektif.realisation.recorded.v1"
    assert parse_ce_type("id.go.semarangkota.objektif.pp46.tugas_tambahan.recorded.v12") == (
        "pp46.tugas_tambahan.recorded", 12)
    for other in ("realisation.recorded", "id.go.semarangkota.objektif.realisation.recorded",
                  "id.go.semarangkota.objektif.realisation.recorded.v0", "com.example.realisation.recorded.v1"):
        assert parse_ce_type(other) is None, other


def test_the_envelope_rebuilt_from_the_headers_is_the_one_signed_and_its_signature_verifies() -> None:
    world = build_world()
    envelope = signed(world, correlation_id="laporan-2025-02", supersedes="00000000-0000-0000-0000-0000000000aa")
    record = framed(envelope)
    headers = dict(record.headers)
    assert headers["ce_id"] == envelope["event_id"].encode()
    assert headers["ce_time"] == b"2025-02-01T09:30:00+07:00"
    assert headers["ce_objektifsig"] == envelope["signature"].encode()
    assert headers["content-type"] == b"application/json"

    rebuilt = envelope_from_binary(record.headers, record.value or b"")
    assert rebuilt == envelope
    assert signing_bytes(rebuilt) == signing_bytes(envelope)
    assert verify_envelope(rebuilt, SIKDA.public_key())


def test_the_gate_accepts_a_cloudevent_exactly_as_the_native_record_of_the_same_envelope() -> None:
    native_world, ce_world = build_world(), build_world()
    envelope = signed(native_world)
    native = native_world.decide_raw(orjson.dumps(envelope))
    batch = unframe([framed(envelope)])
    assert batch.refused == {}
    via_ce = ce_world.decide_raw(batch.raws[0])
    assert isinstance(native, Accepted) and isinstance(via_ce, Accepted)
    assert via_ce.envelope == native.envelope
    assert via_ce.payload == native.payload
    # and a forged CloudEvent fails the very signature check a forged native record fails
    forged = framed({**envelope, "payload": {**envelope["payload"], "value": "99"}})
    assert codes(build_world().decide_raw(unframe([forged]).raws[0])) == ("signature.invalid",)


def test_the_cloudevents_sdk_builds_a_submission_the_gate_reads_as_the_signed_envelope() -> None:
    world = build_world()
    at = datetime(2025, 2, 1, 2, 30, tzinfo=UTC)
    envelope = world.realisation(STAFF1, "iki-imunisasi")
    envelope["occurred_at"] = "2025-02-01T02:30:00Z"  # what the SDK writes for this time (isoformat, +00:00 as Z)
    envelope = sign_envelope(envelope, SIKDA)
    event = CloudEvent({"id": envelope["event_id"], "source": envelope["source"], "subject": envelope["subject"],
                        "type": ce_type(envelope["type"], 1), "time": at, "datacontenttype": "application/json",
                        "objektifperiod": envelope["period"], "objektifsig": envelope["signature"]},
                       envelope["payload"])
    message = to_binary_event(event)
    batch = unframe([Record(message.value, tuple(message.headers.items()))])
    assert batch.refused == {}
    assert orjson.loads(batch.raws[0]) == envelope
    assert isinstance(world.decide_raw(batch.raws[0]), Accepted)


def test_published_records_carry_headers_a_cloudevents_consumer_reads_beside_the_unchanged_envelope() -> None:
    world = build_world()
    value = orjson.dumps({**signed(world), "sequence": 42, "recorded_at": "2025-02-01T03:00:00+00:00"})
    headers = headers_of_published(value)
    from cloudevents.core.bindings.kafka import KafkaMessage

    event = from_binary_event(KafkaMessage(dict(headers), None, value))
    assert event.get_type() == "id.go.semarangkota.objektif.realisation.recorded.v1"
    assert event.get_id() == orjson.loads(value)["event_id"]
    assert event.get_subject() == STAFF1
    assert event.get_dataschema() == "https://objektif.example/schemas/envelope.json"
    assert event.get_extension("objektifsequence") == "42"
    assert event.get_extension("recordedtime") == "2025-02-01T03:00:00+00:00"
    assert event.get_extension("objektifsig") is None  # the value, the whole envelope, carries the signature
    assert event.get_data() == orjson.loads(value)
    assert dict(headers) == {k: v for k, v in binary_headers(orjson.loads(value), whole_envelope=True)
                             if k != "ce_objektifsig"}


def _without(record: Record, name: str) -> Record:
    return Record(record.value, tuple(h for h in record.headers if h[0] != name))


def _with(record: Record, name: str, value: bytes) -> Record:
    return Record(record.value, (*_without(record, name).headers, (name, value)))


CASES: dict[str, tuple[Any, str, str]] = {
    # name: (how the record is spoilt, the reason code, the path it names)
    "no id": (lambda r: _without(r, "ce_id"), "cloudevent.missing", "ce_id"),
    "no subject": (lambda r: _without(r, "ce_subject"), "cloudevent.missing", "ce_subject"),
    "no period": (lambda r: _without(r, "ce_objektifperiod"), "cloudevent.missing", "ce_objektifperiod"),
    "no content type": (lambda r: _without(r, "content-type"), "cloudevent.missing", "content-type"),
    "CloudEvents 0.3": (lambda r: _with(r, "ce_specversion", b"0.3"), "cloudevent.invalid", "ce_specversion"),
    "a foreign type": (lambda r: _with(r, "ce_type", b"com.example.recorded"), "cloudevent.invalid", "ce_type"),
    "a time not RFC 3339": (lambda r: _with(r, "ce_time", b"1738377000"), "cloudevent.invalid", "ce_time"),
    "a header not UTF-8": (lambda r: _with(r, "ce_source", b"\xff\xfe"), "cloudevent.invalid", "ce_source"),
    "an XML value": (lambda r: _with(r, "content-type", b"application/xml"), "cloudevent.invalid", "content-type"),
    "a recorded time": (lambda r: _with(r, "ce_recordedtime", b"2025-02-01T00:00:00Z"), "cloudevent.invalid",
                        "ce_recordedtime"),
    "an id twice": (lambda r: Record(r.value, (*r.headers, ("ce_id", b"x"))), "cloudevent.invalid", "ce_id"),
    "a value not JSON": (lambda r: Record(b"<realisasi/>", r.headers), "not_json", "data"),
    "a value not an object": (lambda r: Record(b"[1, 2]", r.headers), "not_object", "data"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_cloudevent_that_frames_no_envelope_is_refused_with_a_reason_naming_the_header(case: str) -> None:
    world = build_world()
    envelope = signed(world)
    spoil, code, path = CASES[case]
    record = spoil(framed(envelope))
    batch = unframe([Record(orjson.dumps(envelope)), record])
    assert set(batch.refused) == {1}
    (found,) = batch.refused[1].reasons
    assert (found.code, found.path) == (code, path)
    assert found.message_id and found.message_en
    # what the rejection records: the event in CloudEvents' JSON format, the value byte for byte
    original = orjson.loads(batch.raws[1])
    assert base64.b64decode(original["data_base64"]) == record.value
    assert original.get("subject") == (None if case == "no subject" else STAFF1)
    # the native record beside it is untouched
    assert batch.raws[0] == orjson.dumps(envelope)


def test_the_mapping_raises_a_named_error_for_every_missing_required_attribute() -> None:
    world = build_world()
    record = framed(signed(world))
    for name in ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "ce_objektifperiod"):
        with pytest.raises(CloudEventInvalid) as raised:
            envelope_from_binary(_without(record, name).headers, record.value or b"")
        assert (raised.value.attribute, raised.value.missing) == (name, True)


async def test_the_intake_stores_a_cloudevent_as_the_native_envelope_and_records_a_refused_one_with_its_reason(
) -> None:
    from services.evidence.app.intake import Intake
    from tests.unit.evidence_http.http_intake_world import MemoryStore

    world = build_world()
    store = MemoryStore()
    intake = Intake(store, world.state, clock=lambda: world.now, data_keys=world.key_directory())
    good, bad = signed(world), signed(world)
    batch = unframe([framed(good), _without(framed(bad), "ce_objektifperiod")])
    outcome = await intake.handle(batch.raws, (), received_from="kafka:objektif.submissions.v1",
                                  refused=batch.refused)
    assert [str(e.event_id) for e in outcome.accepted] == [good["event_id"]]
    stored = orjson.loads(store.events[0][2])
    assert {k: v for k, v in stored.items() if k not in ("sequence", "recorded_at")} == good
    (rejection,) = store.rejections.values()
    assert rejection.codes == ("cloudevent.missing",)
    assert str(rejection.submission_event_id) == bad["event_id"]
    payload = rejection.envelope.payload
    assert payload["reasons"][0]["path"] == "ce_objektifperiod"
    assert orjson.loads(base64.b64decode(payload["original_b64"]))["id"] == bad["event_id"]
