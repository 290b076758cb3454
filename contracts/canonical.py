"""Canonical JSON bytes and hashes, the same in every service, the CLI and third-party verifiers.

Canonical form: UTF-8 JSON with keys sorted, no insignificant whitespace, no NaN, non-ASCII kept as UTF-8
(RFC 8785-like for the values Objektif uses: strings, integers, booleans, null, and decimals written as strings).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, tuple | frozenset | set):
        return list(value)
    raise TypeError(f"not JSON-serialisable in canonical form: {type(value).__name__}")


def canonical_bytes(value: Any) -> bytes:
    """The canonical JSON encoding of `value` (sorted keys, compact, UTF-8)."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_SORT_KEYS)


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def basis_hash(event_ids: Iterable[UUID | str]) -> str:
    """The hash a result carries over the ordered ids of the events it used: SHA-256 of the ids joined by \\n."""
    return sha256_hex("\n".join(str(e) for e in event_ids).encode())
