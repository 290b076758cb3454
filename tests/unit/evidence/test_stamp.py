"""Stamping an accepted envelope (`recorded_at`, `sequence`) builds exactly what pydantic's `model_copy` builds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest

from contracts.envelope import Envelope
from services.evidence.domain.stamp import recorded, sequenced

_AT = datetime(2025, 7, 1, 8, 0, tzinfo=timezone(timedelta(hours=7)))
_BASE: dict[str, Any] = {
    "event_id": "6f1d3c52-8a4e-4b8e-9a59-0b7d51e0a7c1",
    "type": "realisation.recorded",
    "occurred_at": "2025-07-01T02:00:00+00:00",
    "source": "sistem.dinas-000.bench",
    "subject": "197001012005011001",
    "period": "2025-Q3",
    "payload": {"iki_id": "iki-layanan", "value": "67.00", "evidence": {"document": "d"}},
}
_ENVELOPES = {
    "only the required members": _BASE,
    "every member but the server's": {
        **_BASE, "schema_version": 1, "supersedes": "0b7d51e0-a7c1-4b8e-9a59-6f1d3c528a4e", "correlation_id": "c-1",
        "signature": "batch:2:0:AAAA:BBBB",
    },
    "server members present, as read back from the store": {
        **_BASE, "recorded_at": "2025-07-02T00:00:00Z", "sequence": 41,
    },
    "explicit nulls": {**_BASE, "supersedes": None, "recorded_at": None, "sequence": None},
}


def _members(envelope: Envelope) -> tuple[Any, ...]:
    return (type(envelope), envelope.__dict__, envelope.__pydantic_fields_set__, envelope.__pydantic_extra__,
            envelope.__pydantic_private__)


@pytest.mark.parametrize("name", list(_ENVELOPES))
@pytest.mark.parametrize(("stamp", "field", "value"), [
    (recorded, "recorded_at", _AT),
    (recorded, "recorded_at", datetime(2026, 1, 1, tzinfo=UTC)),
    (sequenced, "sequence", 1),
    (sequenced, "sequence", 2**53),
])
def test_a_stamped_envelope_is_the_envelope_model_copy_makes(name: str, stamp: Any, field: str, value: Any) -> None:
    # given an envelope as the gate or the store holds it
    envelope = Envelope.model_validate(_ENVELOPES[name])
    before = _members(envelope)
    # when it is stamped, and copied the way it was before
    stamped, copied = stamp(envelope, value), envelope.model_copy(update={field: value})
    # then the two are the same object in every member pydantic keeps, and read, dump and compare alike
    assert _members(stamped) == _members(copied)
    assert stamped == copied
    assert getattr(stamped, field) == value
    assert stamped.model_dump_json() == copied.model_dump_json()
    assert stamped.model_dump(exclude_unset=True) == copied.model_dump(exclude_unset=True)
    assert stamped.model_dump(exclude_none=True, mode="json") == copied.model_dump(exclude_none=True, mode="json")
    # and the original is untouched and shares no mutable member with its copy
    assert _members(envelope) == before
    assert stamped.__dict__ is not envelope.__dict__
    assert stamped.__pydantic_fields_set__ is not envelope.__pydantic_fields_set__


def test_a_stamped_envelope_stays_frozen_and_stamps_compose() -> None:
    envelope = sequenced(recorded(Envelope.model_validate(_BASE), _AT), 7)
    assert envelope == Envelope.model_validate(_BASE).model_copy(update={"recorded_at": _AT}).model_copy(
        update={"sequence": 7})
    assert envelope.event_id == UUID(_BASE["event_id"])
    with pytest.raises(ValueError, match="frozen"):
        envelope.sequence = 8  # type: ignore[misc]
