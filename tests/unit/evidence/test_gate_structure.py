"""Structural rejections: what the gate refuses before it even looks at a signature."""

from __future__ import annotations

import orjson
import pytest
from evidence_world import SIKDA, SIMPEG, STAFF1, World, build_world, codes

from contracts.signing import b64, sign_envelope
from services.evidence.domain import Accepted, Code, Duplicate, Rejected, decide
from services.evidence.domain.parse import MAX_DEPTH


@pytest.fixture
def world() -> World:
    return build_world()


def test_a_submission_larger_than_the_limit_is_rejected_as_oversize_and_keeps_only_the_limit(
    world: World,
) -> None:
    raw = orjson.dumps(sign_envelope(world.realisation(STAFF1, "iki-imunisasi"), SIKDA))
    decision = decide(raw, world.state, received_at=world.now, received_from="t", max_bytes=100)
    assert codes(decision) == (Code.OVERSIZE,)
    assert isinstance(decision, Rejected)
    assert decision.original == raw[:100]
    assert str(len(raw)) in decision.reasons[0].message_en


def test_bytes_that_are_not_utf8_are_rejected_as_invalid_utf8(world: World) -> None:
    assert codes(world.decide_raw(b'{"a": "\xff\xfe"}')) == (Code.INVALID_UTF8,)


def test_a_lone_surrogate_escape_is_rejected_as_invalid_utf8(world: World) -> None:
    assert codes(world.decide_raw(b'{"a": "\\ud800"}')) == (Code.INVALID_UTF8,)


@pytest.mark.parametrize("raw", [b"", b"{", b"{'a': 1}", b"NaN", b'{"a": 1,}', b"\x00"])
def test_text_that_is_not_json_is_rejected_as_not_json(world: World, raw: bytes) -> None:
    assert codes(world.decide_raw(raw)) == (Code.NOT_JSON,)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5000])
def test_json_nested_too_deeply_is_rejected_as_too_deep(world: World, depth: int) -> None:
    raw = b'{"payload": ' + b"[" * depth + b"]" * depth + b"}"
    assert codes(world.decide_raw(raw)) == (Code.TOO_DEEP,)


@pytest.mark.parametrize("raw", [b"[]", b"1", b'"text"', b"null", b"true"])
def test_json_that_is_not_an_object_is_rejected_as_not_object(world: World, raw: bytes) -> None:
    assert codes(world.decide_raw(raw)) == (Code.NOT_OBJECT,)


@pytest.mark.parametrize("value", [95.5, 2**60])
def test_a_float_or_huge_integer_is_rejected_because_it_has_no_canonical_form(
    world: World, value: object
) -> None:
    envelope = world.realisation(STAFF1, "iki-imunisasi")
    envelope["payload"]["value"] = value
    decision = world.decide_raw(orjson.dumps(envelope))
    assert codes(decision) == (Code.NUMBER_NOT_CANONICAL,)
    assert isinstance(decision, Rejected)
    assert decision.reasons[0].path == "payload.value"


def test_a_wrong_type_is_rejected_as_schema_invalid_with_the_field_path(world: World) -> None:
    envelope = world.realisation(STAFF1, "iki-imunisasi")
    envelope["payload"]["iki_id"] = ["not", "a", "string"]
    envelope["period"] = "last year"
    decision = world.submit(envelope, SIKDA)
    assert set(codes(decision)) == {Code.SCHEMA_INVALID}
    assert isinstance(decision, Rejected)
    assert {r.path for r in decision.reasons} == {"period"}


def test_a_wrong_payload_field_is_rejected_with_its_payload_path(world: World) -> None:
    envelope = world.realisation(STAFF1, "iki-imunisasi")
    envelope["payload"]["value"] = "-3"
    decision = world.submit(envelope, SIKDA)
    assert codes(decision) == (Code.SCHEMA_INVALID,)
    assert isinstance(decision, Rejected)
    assert decision.reasons[0].path == "payload.value"
    assert decision.event_id is not None


def test_a_naive_datetime_in_a_payload_is_rejected_as_schema_invalid(world: World) -> None:
    envelope = world.envelope(
        "employee.assigned",
        STAFF1,
        {
            "nip": STAFF1,
            "name": "X",
            "unit_id": "dinkes",
            "position_id": "p",
            "jabatan": "J",
            "effective_from": "2025-01-01T00:00:00",
        },
        source="sys:simpeg",
    )
    decision = world.submit(envelope, SIMPEG)
    assert codes(decision) == (Code.SCHEMA_INVALID,)
    assert isinstance(decision, Rejected)
    assert decision.reasons[0].path == "payload.effective_from"


@pytest.mark.parametrize("field", ["sequence", "recorded_at"])
def test_a_field_the_service_assigns_is_rejected_when_a_submitter_sets_it(world: World, field: str) -> None:
    envelope = world.realisation(STAFF1, "iki-imunisasi")
    envelope[field] = 7 if field == "sequence" else "2025-01-01T00:00:00+07:00"
    assert codes(world.decide_raw(orjson.dumps(envelope))) == (Code.SERVER_FIELD,)


@pytest.mark.parametrize("type_", ["salary.raised", "score.computed", "submission.rejected"])
def test_an_unknown_or_derived_type_is_rejected_as_unknown_type(world: World, type_: str) -> None:
    envelope = world.envelope(type_, STAFF1, {}, source="sys:sikda")
    assert codes(world.submit(envelope, SIKDA)) == (Code.UNKNOWN_TYPE,)


def test_a_schema_version_newer_than_the_code_knows_is_rejected_as_unsupported_version(world: World) -> None:
    envelope = world.realisation(STAFF1, "iki-imunisasi")
    envelope["schema_version"] = 9
    assert codes(world.submit(envelope, SIKDA)) == (Code.UNSUPPORTED_VERSION,)


def test_a_resubmitted_event_id_is_answered_as_a_duplicate_and_changes_nothing(world: World) -> None:
    envelope = world.realisation(STAFF1, "iki-imunisasi")
    first = world.submit(envelope, SIKDA)
    before = world.state
    again = world.submit(envelope, SIKDA)
    assert isinstance(first, Accepted)
    assert again == Duplicate(first.envelope.event_id)
    assert world.state is before


def test_an_accepted_envelope_carries_the_receipt_time_and_no_sequence(world: World) -> None:
    decision = world.submit(world.realisation(STAFF1, "iki-imunisasi"), SIKDA)
    assert isinstance(decision, Accepted)
    assert decision.envelope.recorded_at == world.now
    assert decision.envelope.sequence is None


def test_a_rejection_becomes_a_submission_rejected_payload_with_the_original_bytes(world: World) -> None:
    decision = world.decide_raw(b"[1]")
    assert isinstance(decision, Rejected)
    payload = decision.to_payload()
    assert payload.original_b64 == b64(b"[1]")
    assert payload.reasons[0].code == Code.NOT_OBJECT
    assert payload.received_at == world.now
    assert payload.received_from == "test"


def test_every_reason_code_has_a_message_in_both_languages() -> None:
    from services.evidence.domain.reasons import MESSAGES

    assert set(MESSAGES) == set(Code)
    assert all(indonesian and english and indonesian != english for indonesian, english in MESSAGES.values())
