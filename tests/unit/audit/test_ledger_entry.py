"""The ledger indexes a record by its envelope fields and sets aside as `invalid` exactly the records that are not
valid envelopes (`Envelope.model_validate_json` refuses them), though it reads them without building the model."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from contracts.envelope import Envelope
from services.audit.adapters.ledger import INVALID_NAMESPACE, EnvelopeFields, entry_of

GOOD: dict[str, Any] = {
    "event_id": "8f0f6f8e-3f0a-5d53-9b1e-3f2f6b7c1a01",
    "type": "realisation.recorded",
    "schema_version": 1,
    "occurred_at": "2025-07-01T08:00:00+07:00",
    "recorded_at": "2025-07-01T09:00:00+00:00",
    "source": "system.test",
    "subject": "198001012005011001",
    "period": "2025-Q3",
    "payload": {"iki_id": "aps", "value": "10", "evidence": {"document": "https://x.example/1", "n": [1, 2.5, None]}},
    "supersedes": None,
    "correlation_id": "c-1",
    "signature": "sig",
    "sequence": 7,
}


def _without(key: str) -> dict[str, Any]:
    return {k: v for k, v in GOOD.items() if k != key}


RECORDS: list[bytes] = [
    orjson.dumps(GOOD),
    orjson.dumps({k: GOOD[k] for k in ("event_id", "type", "occurred_at", "source", "subject", "period", "payload")}),
    *(orjson.dumps(_without(k)) for k in GOOD),
    *(orjson.dumps({**GOOD, k: v}) for k, v in [
        ("payload", {}), ("payload", []), ("payload", "x"), ("payload", None), ("payload", 1),
        ("payload", {"a": {"b": {"c": [{"d": None}]}}}),
        ("occurred_at", "2025-07-01T08:00:00"), ("recorded_at", "2025-07-01T08:00:00"), ("occurred_at", 1751356800),
        ("occurred_at", "2025-07-01"), ("occurred_at", "yesterday"), ("recorded_at", None),
        ("event_id", "not-a-uuid"), ("event_id", 5), ("supersedes", "8f0f6f8e3f0a5d539b1e3f2f6b7c1a01"),
        ("type", ""), ("type", "t" * 81), ("type", 5), ("source", ""), ("subject", "s" * 65), ("subject", None),
        ("period", "2025-Q5"), ("period", "1899"), ("period", "2025-S2"), ("period", "2025"),
        ("schema_version", 0), ("schema_version", "2"), ("schema_version", 1.0), ("schema_version", 1.5),
        ("sequence", 0), ("sequence", "12"), ("sequence", None), ("sequence", True),
        ("correlation_id", "c" * 121), ("signature", 3), ("extra", 1),
    ]),
    b"", b"not json", b"\x00\xff", b"[1, 2, 3]", b"null", b'"string"', b"{}",
    orjson.dumps(GOOD).replace(b'"10"', b'"1\xff0"'),
    b"[" * 100_000 + b"]" * 100_000,
    orjson.dumps({**GOOD, "payload": {}}).replace(b'"payload":{}', b'"payload":' + b'{"a":' * 900 + b"1" + b"}" * 900),
    orjson.dumps(GOOD)[:-1],
    orjson.dumps(GOOD) + b" ",
    orjson.dumps(GOOD) + b"x",
    orjson.dumps(GOOD).replace(b'"type"', b'"type":"x","type"', 1),
]


def _is_envelope(record: bytes) -> bool:
    try:
        Envelope.model_validate_json(record)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("record", RECORDS, ids=range(len(RECORDS)))
def test_a_record_is_invalid_exactly_when_it_is_not_an_envelope(record: bytes) -> None:
    entry = entry_of("objektif.evidence.v1", record)
    assert (entry.type != "invalid") == _is_envelope(record)
    if entry.type == "invalid":
        assert entry.event_id == uuid.uuid5(INVALID_NAMESPACE, hashlib.sha256(record).hexdigest())
        assert (entry.subject, entry.period) == ("unknown", "unknown")
    else:
        e = Envelope.model_validate_json(record)
        assert entry == (e.event_id, "objektif.evidence.v1", e.type, e.subject, e.period, record)


def test_the_fields_read_are_the_envelopes_fields() -> None:
    """A field added to the envelope must be added here, or records carrying it would be set aside."""
    assert set(EnvelopeFields.__annotations__) == set(Envelope.model_fields)
