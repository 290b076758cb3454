"""How submission records arrive on Kafka: today's envelope as the record value, or a CloudEvent in binary
content mode (`ce_*` headers, the payload as the value; contracts/cloudevents.py, docs/adr/0011-cloudevents.md).

A CloudEvent becomes the envelope it frames, as canonical JSON bytes, before the gate sees it, so the gate
decides it exactly as a native submission: same parse, same signature check, same stored bytes. A record that
is framed as a CloudEvent but cannot be read as an envelope is refused here with a `cloudevent.*` reason naming
the header (or `oversize`, `not_json`, `not_object` for the value), and its rejection records the event as
CloudEvents' JSON format with the value byte for byte, so it is never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from contracts.canonical import canonical_bytes
from contracts.cloudevents import CloudEventInvalid, envelope_from_binary, is_cloudevent, structured_form
from contracts.events import RejectionReason
from services.evidence.domain.gate import MAX_BYTES
from services.evidence.domain.parse import Unparsed
from services.evidence.domain.reasons import Code, reason


class Record(Protocol):
    """What the framing reads of a Kafka record (aiokafka's ConsumerRecord has both)."""

    @property
    def value(self) -> bytes | None: ...

    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


@dataclass(frozen=True, slots=True)
class Framed:
    """A batch's submissions as the gate takes them: bytes for each record, and for the records refused while
    unframing, at their index, why (their bytes then are what the rejection records)."""

    raws: list[bytes]
    refused: dict[int, Unparsed]


def unframe(records: Sequence[Record], *, max_bytes: int = MAX_BYTES) -> Framed:
    """Each record's submission bytes; CloudEvents become the envelope they frame. Native records (no `ce_`
    header) pass through untouched, and a batch without headers costs one look at each record."""
    raws = [r.value or b"" for r in records]
    refused: dict[int, Unparsed] = {}
    if not any(r.headers for r in records):
        return Framed(raws, refused)
    for i, record in enumerate(records):
        if not is_cloudevent(record.headers):
            continue
        outcome = envelope_bytes(record.headers, raws[i], max_bytes=max_bytes)
        if isinstance(outcome, bytes):
            raws[i] = outcome
        else:
            raws[i], refused[i] = structured_form(record.headers, raws[i]), outcome
    return Framed(raws, refused)


def envelope_bytes(headers: Sequence[tuple[str, bytes]], value: bytes, *, max_bytes: int = MAX_BYTES
                   ) -> bytes | Unparsed:
    """The canonical JSON of the envelope a binary-mode CloudEvent frames, or why it cannot be read."""
    if len(value) > max_bytes:
        return Unparsed(None, (reason(Code.OVERSIZE, f"{len(value)} > {max_bytes} bytes", path="data"),))
    try:
        envelope = envelope_from_binary(headers, value)
    except CloudEventInvalid as error:
        return Unparsed(_event_id(headers), (_reason(error),))
    return canonical_bytes(envelope)


def _reason(error: CloudEventInvalid) -> RejectionReason:
    if error.attribute == "data":
        code = Code.NOT_OBJECT if "JSON object" in error.problem else Code.NOT_JSON
        return reason(code, error.problem, path="data")
    code = Code.CLOUDEVENT_MISSING if error.missing else Code.CLOUDEVENT_INVALID
    return reason(code, f"{error.attribute}: {error.problem}", path=error.attribute)


def _event_id(headers: Sequence[tuple[str, bytes]]) -> UUID | None:
    """The `ce_id` when it is a UUID, so the rejection names the submission it refuses."""
    for name, value in headers:
        if name.lower() == "ce_id" and value and len(value) <= 64:
            try:
                return UUID(value.decode("ascii"))
            except (UnicodeDecodeError, ValueError):
                return None
    return None
