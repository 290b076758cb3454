"""From raw bytes to a validated envelope and typed payload, or the reasons why not. Never raises on any
input.

Checks run from the cheapest to the dearest: size before parsing, nesting and numbers before pydantic, so
hostile input is turned away early (issue 6: oversize, invalid UTF-8, deep JSON, non-objects, wrong types).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

import orjson
from pydantic import ValidationError

from contracts import events as ev
from contracts.envelope import Envelope
from contracts.merkle import leaf_hash
from contracts.registry import SUBMITTABLE, UnknownEventType, UnsupportedSchemaVersion, parse_payload
from contracts.signing import BATCH_PREFIX, MAX_SAFE_INTEGER, signing_bytes
from services.evidence.domain.batches import BatchMember, parse_batch_member
from services.evidence.domain.reasons import Code, reason

#: Deepest nesting a submission may have; the deepest contract (an SKP plan's target) needs 6.
MAX_DEPTH = 16
#: At most this many schema reasons are reported for one submission (so that a rejection fits a tiled-log entry:
#: gate.MAX_BYTES).
MAX_SCHEMA_REASONS = 10
_MAX_PATH = 200
_SERVER_FIELDS = ("sequence", "recorded_at")


@dataclass(frozen=True, slots=True)
class Parsed:
    """A structurally valid submission: its envelope and typed payload, and what authentication reads: the
    signing bytes and, for a `batch:` signature, its parts (None when its size, index or signature is malformed;
    the audit path is read when the member is authenticated: `BatchMemo.prove`) and the member's leaf hash.
    The JSON object itself is not kept: a batch is screened whole before it is decided, and the fewer objects it
    holds meanwhile, the less the garbage collector has to walk."""

    envelope: Envelope
    payload: ev.Payload
    message: bytes
    batch: BatchMember | None = None
    leaf: bytes = b""


@dataclass(frozen=True)
class Unparsed:
    """A submission that failed structural validation; `event_id` when one could be read from it."""

    event_id: UUID | None
    reasons: tuple[ev.RejectionReason, ...]


def _loads(raw: bytes) -> tuple[Any, ev.RejectionReason | None]:
    try:
        return orjson.loads(raw), None
    except orjson.JSONDecodeError as error:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return None, reason(Code.INVALID_UTF8)
        if "depth limit" in str(error):
            return None, reason(Code.TOO_DEEP, f"> {MAX_DEPTH}")
        if "surrogate" in str(error):  # valid UTF-8 bytes, but a \\ud800-style escape of no character
            return None, reason(Code.INVALID_UTF8, "lone surrogate escape")
        return None, reason(Code.NOT_JSON, str(error)[:120])


def _has_problem(data: Any) -> bool:
    """Fast pass over orjson's types: a container nested too deeply, or a number with no canonical form?"""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        container, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        for value in container.values() if type(container) is dict else container:
            kind = type(value)
            if kind is dict or kind is list:
                stack.append((value, depth + 1))
            elif kind is float or (kind is int and not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER):
                return True
    return False


def _locate_problem(data: Any) -> ev.RejectionReason:
    """Slow pass, only after the fast one found something: the same checks, naming the path."""
    stack: list[tuple[Any, int, str]] = [(data, 1, "")]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, dict | list) and depth > MAX_DEPTH:
            return reason(Code.TOO_DEEP, f"> {MAX_DEPTH}", path=path[:_MAX_PATH] or None)
        if isinstance(value, dict):
            stack.extend((v, depth + 1, f"{path}.{k}" if path else k) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, depth + 1, f"{path}[{i}]") for i, v in enumerate(value))
        elif isinstance(value, float) or (
            isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER
        ):
            return reason(Code.NUMBER_NOT_CANONICAL, path=path[:_MAX_PATH])
    raise AssertionError("_has_problem and _locate_problem disagree")


def _loc(loc: Sequence[int | str], prefix: str = "") -> str:
    text = prefix + ".".join(str(part) for part in loc)
    return text[:_MAX_PATH]


def _schema_reasons(error: ValidationError, prefix: str = "") -> tuple[ev.RejectionReason, ...]:
    return tuple(
        reason(
            Code.SCHEMA_INVALID, f"{_loc(e['loc'], prefix)}: {e['msg'][:200]}", path=_loc(e["loc"], prefix)
        )
        for e in error.errors(include_url=False, include_input=False)[:MAX_SCHEMA_REASONS]
    )


def _event_id(data: dict[str, Any]) -> UUID | None:
    value = data.get("event_id")
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return UUID(value)
    except ValueError:
        return None


@cache
def _datetime_fields(cls: type[ev.Payload]) -> tuple[str, ...]:
    return tuple(name for name, f in cls.model_fields.items() if f.annotation in (datetime, datetime | None))


def _naive_datetimes(payload: ev.Payload) -> tuple[ev.RejectionReason, ...]:
    """Payload timestamps must carry an offset, as the envelope's do (they are compared with aware times)."""
    fields = _datetime_fields(type(payload))
    if not fields:
        return ()
    return tuple(
        reason(Code.SCHEMA_INVALID, f"payload.{name}: needs a UTC offset", path=f"payload.{name}")
        for name in fields
        if isinstance(value := getattr(payload, name), datetime) and value.utcoffset() is None
    )


def _structure(data: dict[str, Any]) -> Parsed | tuple[ev.RejectionReason, ...]:
    """`parse` past the JSON object: the parsed submission, or the reasons why not."""
    if _has_problem(data):
        return (_locate_problem(data),)
    if data.get("sequence") is not None or data.get("recorded_at") is not None:
        return tuple(reason(Code.SERVER_FIELD, path=f) for f in _SERVER_FIELDS if data.get(f) is not None)
    try:
        envelope = Envelope.model_validate(data)
    except ValidationError as error:
        return _schema_reasons(error)
    if envelope.type not in SUBMITTABLE:
        return (reason(Code.UNKNOWN_TYPE, envelope.type[:80], path="type"),)
    try:
        payload = parse_payload(envelope)
    except UnsupportedSchemaVersion as error:
        return (reason(Code.UNSUPPORTED_VERSION, str(error)[:200], path="schema_version"),)
    except UnknownEventType:
        return (reason(Code.UNKNOWN_TYPE, envelope.type[:80], path="type"),)
    except ValidationError as error:
        return _schema_reasons(error, "payload.")
    naive = _naive_datetimes(payload)
    if naive:
        return naive
    message = signing_bytes(data)
    signature = envelope.signature
    if signature is not None and signature.startswith(BATCH_PREFIX):
        return Parsed(envelope, payload, message, parse_batch_member(signature), leaf_hash(message))
    return Parsed(envelope, payload, message)


def parse(raw: bytes, *, max_bytes: int) -> Parsed | Unparsed:
    """Validate the structure of one submission: JSON object, envelope, known type and version, payload."""
    if len(raw) > max_bytes:
        return Unparsed(None, (reason(Code.OVERSIZE, f"{len(raw)} > {max_bytes} bytes"),))
    data, failure = _loads(raw)
    if failure is not None:
        return Unparsed(None, (failure,))
    if not isinstance(data, dict):
        return Unparsed(None, (reason(Code.NOT_OBJECT),))
    parsed = _structure(data)
    if isinstance(parsed, Parsed):
        return parsed
    return Unparsed(_event_id(data), parsed)
