"""The CloudEvents 1.0 Kafka protocol binding, binary content mode, as another framing of the one envelope
(docs/adr/0011-cloudevents.md; docs/signing.md §9).

A CloudEvent carries the envelope's members as `ce_*` headers and its `payload` as the record value (JSON,
`content-type: application/json`). Every envelope member maps to exactly one attribute and every string is
carried verbatim, so the envelope rebuilt from the headers has the same signing bytes as the one the source
signed: the gate verifies the same signature as for the native record.

| envelope | attribute (Kafka header) | |
|---|---|---|
| `event_id` | `id` (`ce_id`) | the UUID as written |
| `type`, `schema_version` | `type` (`ce_type`) | `id.go.semarangkota.objektif.<type>.v<schema_version>` |
| `source` | `source` (`ce_source`) | |
| `subject` | `subject` (`ce_subject`) | required here |
| `occurred_at` | `time` (`ce_time`) | the header text is the signed text |
| `period` | `objektifperiod` (`ce_objektifperiod`) | |
| `signature` | `objektifsig` (`ce_objektifsig`) | single or `batch:` |
| `supersedes` | `objektifsupersedes` | only when set |
| `correlation_id` | `objektifcorrelation` | only when set |
| `recorded_at` | `recordedtime` (CloudEvents' Recorded Time extension) | accepted events only |
| `sequence` | `objektifsequence` | accepted events only |
| `payload` | the record value | a JSON object |

On the topics Objektif writes, the record value stays the whole envelope (scoring and audit read it, and its
bytes are what the ledger holds); the same headers, with `dataschema` naming the envelope schema and without
`objektifsig` (the value carries the signature), tell a CloudEvents consumer what it is without re-serialising
anything. Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import orjson

from contracts.canonical import canonical_bytes

SPECVERSION: Final = "1.0"
#: Reverse-DNS prefix of every Objektif event type (Kota Semarang's domain, semarangkota.go.id).
TYPE_PREFIX: Final = "id.go.semarangkota.objektif."
CONTENT_TYPE: Final = "application/json"
#: `dataschema` of a record whose value is the whole envelope (the topics Objektif writes).
ENVELOPE_SCHEMA: Final = "https://objektif.example/schemas/envelope.json"
HEADER_PREFIX: Final = "ce_"
CONTENT_TYPE_HEADER: Final = "content-type"

#: envelope member → extension attribute, for the members CloudEvents has no attribute of its own for.
EXTENSIONS: Final[Mapping[str, str]] = {
    "period": "objektifperiod",
    "signature": "objektifsig",
    "supersedes": "objektifsupersedes",
    "correlation_id": "objektifcorrelation",
    "recorded_at": "recordedtime",
    "sequence": "objektifsequence",
}
#: Attributes a submission must carry (`subject` is optional in CloudEvents, not here).
REQUIRED: Final = ("specversion", "id", "source", "type", "time", "subject", "objektifperiod")
#: Set by the evidence service on acceptance: a submission carrying them is refused, as natively.
SERVER_ATTRIBUTES: Final = ("recordedtime", "objektifsequence")

_TYPE_RE = re.compile(r"^(?P<type>[a-z0-9_]+(?:\.[a-z0-9_]+)*)\.v(?P<version>[1-9][0-9]{0,8})$")
_MAX_HEADER = 4096
#: RFC 3339 `date-time` (§5.6), which CloudEvents requires of `time`.
_RFC3339 = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


class CloudEventInvalid(ValueError):
    """A record framed as a CloudEvent that cannot be read as an Objektif envelope: `attribute` names the
    header (`ce_id`, `content-type`, or `data` for the record value); `missing` when it is absent."""

    def __init__(self, attribute: str, problem: str, *, missing: bool = False) -> None:
        super().__init__(f"{attribute}: {problem}")
        self.attribute = attribute
        self.problem = problem
        self.missing = missing


def ce_type(event_type: str, schema_version: int) -> str:
    """The CloudEvents `type` of an Objektif type at a schema version: `id.go.semarangkota.objektif.<type>.v<N>`."""
    return f"{TYPE_PREFIX}{event_type}.v{schema_version}"


def parse_ce_type(value: str) -> tuple[str, int] | None:
    """(type, schema_version) of a CloudEvents `type` written by `ce_type`; None for any other text."""
    if not value.startswith(TYPE_PREFIX):
        return None
    match = _TYPE_RE.match(value[len(TYPE_PREFIX):])
    return (match["type"], int(match["version"])) if match else None


def is_cloudevent(headers: Iterable[tuple[str, bytes | None]] | None) -> bool:
    """Whether a Kafka record is in binary content mode: it has a `ce_` header (the SDKs' test, too)."""
    return any(name[:3].lower() == HEADER_PREFIX for name, _ in headers or ())


def binary_headers(envelope: Mapping[str, Any], *, whole_envelope: bool = False) -> list[tuple[str, bytes]]:
    """The `ce_*` and `content-type` headers framing `envelope` (its JSON object, as signed or as accepted).

    With `whole_envelope`, the record value is the envelope itself (the topics Objektif writes), which
    `dataschema` says; otherwise it is the payload alone (a submission). Members absent or null get no header.
    """
    attributes: list[tuple[str, Any]] = [
        ("specversion", SPECVERSION),
        ("id", envelope["event_id"]),
        ("source", envelope["source"]),
        ("type", ce_type(envelope["type"], envelope.get("schema_version", 1))),
        ("subject", envelope["subject"]),
        ("time", envelope["occurred_at"]),
    ]
    attributes += [(name, envelope.get(member)) for member, name in EXTENSIONS.items()]
    if whole_envelope:
        attributes.append(("dataschema", ENVELOPE_SCHEMA))
    headers = [(HEADER_PREFIX + name, str(value).encode()) for name, value in attributes if value is not None]
    headers.append((CONTENT_TYPE_HEADER, CONTENT_TYPE.encode()))
    return headers


#: Header names and values that are the same on every published record.
_PUBLISHED_FIXED: Final = (("ce_specversion", SPECVERSION.encode()), ("ce_dataschema", ENVELOPE_SCHEMA.encode()),
                           (CONTENT_TYPE_HEADER, CONTENT_TYPE.encode()))
_PUBLISHED_OPTIONAL: Final = (("ce_objektifperiod", "period"), ("ce_recordedtime", "recorded_at"),
                              ("ce_objektifsequence", "sequence"), ("ce_objektifsupersedes", "supersedes"),
                              ("ce_objektifcorrelation", "correlation_id"))


def headers_of_published(value: bytes) -> list[tuple[str, bytes]]:
    """The headers an outbox relay adds to a record whose value is an envelope's JSON (accepted or derived):
    what a CloudEvents consumer routes and filters by. The signature is not repeated in a header, since the
    value, the whole envelope, carries it; the relays' hot path spends about 2 µs a record here."""
    envelope = orjson.loads(value)
    headers = [
        *_PUBLISHED_FIXED,
        ("ce_id", envelope["event_id"].encode()),
        ("ce_source", envelope["source"].encode()),
        ("ce_type", f"{TYPE_PREFIX}{envelope['type']}.v{envelope.get('schema_version', 1)}".encode()),
        ("ce_subject", envelope["subject"].encode()),
        ("ce_time", envelope["occurred_at"].encode()),
    ]
    for header, member in _PUBLISHED_OPTIONAL:
        member_value = envelope.get(member)
        if member_value is not None:
            headers.append((header, str(member_value).encode()))
    return headers


def _attributes(headers: Iterable[tuple[str, bytes | None]]) -> tuple[dict[str, str], str | None]:
    attributes: dict[str, str] = {}
    content_type: str | None = None
    for raw_name, raw_value in headers:
        name = raw_name.lower()
        if name == CONTENT_TYPE_HEADER:
            content_type = _text(raw_name, raw_value)
        elif name.startswith(HEADER_PREFIX):
            attribute = name[len(HEADER_PREFIX):]
            if attribute in attributes:
                raise CloudEventInvalid(raw_name, "the header appears more than once")
            attributes[attribute] = _text(raw_name, raw_value)
    return attributes, content_type


def _text(name: str, value: bytes | None) -> str:
    if value is None:
        raise CloudEventInvalid(name, "the header has no value")
    if len(value) > _MAX_HEADER:
        raise CloudEventInvalid(name, f"longer than {_MAX_HEADER} bytes")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise CloudEventInvalid(name, "not UTF-8") from None


def envelope_from_binary(headers: Iterable[tuple[str, bytes | None]], value: bytes) -> dict[str, Any]:
    """The envelope a binary-mode CloudEvent submission frames, as the JSON object its source signed.

    Raises CloudEventInvalid naming the first attribute that is missing or unusable. Checks only the framing:
    the envelope then goes through the gate like a native submission (schema, signature, authorisation).
    """
    attributes, content_type = _attributes(headers)
    for name in REQUIRED:
        if not attributes.get(name):
            raise CloudEventInvalid(HEADER_PREFIX + name, "required attribute is missing or empty", missing=True)
    if attributes["specversion"] != SPECVERSION:
        raise CloudEventInvalid("ce_specversion", f"{attributes['specversion'][:20]!r} is not {SPECVERSION!r}")
    kind = parse_ce_type(attributes["type"])
    if kind is None:
        raise CloudEventInvalid(
            "ce_type", f"{attributes['type'][:120]!r} is not {TYPE_PREFIX}<type>.v<schema version>")
    if not _RFC3339.match(attributes["time"]):
        raise CloudEventInvalid("ce_time", f"{attributes['time'][:40]!r} is not an RFC 3339 timestamp")
    for name in SERVER_ATTRIBUTES:
        if name in attributes:
            raise CloudEventInvalid(HEADER_PREFIX + name, "set by the evidence service, not by the submitter")
    if content_type is None or content_type.split(";", 1)[0].strip().lower() != CONTENT_TYPE:
        raise CloudEventInvalid(CONTENT_TYPE_HEADER, f"{(content_type or '(none)')[:80]!r} is not {CONTENT_TYPE}",
                                missing=content_type is None)
    try:
        payload = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise CloudEventInvalid("data", f"the record value is not JSON ({str(error)[:80]})") from None
    if not isinstance(payload, dict):
        raise CloudEventInvalid("data", "the record value must be a JSON object (the payload)")
    envelope: dict[str, Any] = {
        "event_id": attributes["id"],
        "type": kind[0],
        "schema_version": kind[1],
        "occurred_at": attributes["time"],
        "source": attributes["source"],
        "subject": attributes["subject"],
        "payload": payload,
    }
    for member in ("period", "signature", "supersedes", "correlation_id"):
        text = attributes.get(EXTENSIONS[member])
        if text is not None:
            if not text:
                raise CloudEventInvalid(HEADER_PREFIX + EXTENSIONS[member], "empty")
            envelope[member] = text
    return envelope


def structured_form(headers: Sequence[tuple[str, bytes | None]], value: bytes) -> bytes:
    """A refused CloudEvent as CloudEvents' JSON format (structured mode): its attributes as the headers said
    them and the record value, exactly, as `data_base64`. What a rejection records as the original."""
    import base64

    doc: dict[str, Any] = {}
    for name, raw in headers:
        lower = name.lower()
        key = "datacontenttype" if lower == CONTENT_TYPE_HEADER else lower[3:] if lower[:3] == "ce_" else None
        if key is not None and key not in doc:
            doc[key] = (raw or b"")[:_MAX_HEADER].decode("utf-8", errors="replace")
    doc["data_base64"] = base64.b64encode(value).decode("ascii")
    return canonical_bytes(doc)


__all__ = [
    "CONTENT_TYPE",
    "ENVELOPE_SCHEMA",
    "EXTENSIONS",
    "REQUIRED",
    "SPECVERSION",
    "TYPE_PREFIX",
    "CloudEventInvalid",
    "binary_headers",
    "ce_type",
    "envelope_from_binary",
    "headers_of_published",
    "is_cloudevent",
    "parse_ce_type",
    "structured_form",
]
