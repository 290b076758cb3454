"""The persons' data keys (ADR 0010, contracts/pdp.py): one X25519 key pair per NIP, its private half wrapped by
the operator's key-encryption key (AES-256-GCM, `OBJEKTIF_EVIDENCE_PDP_KEK`, never stored beside the data).

- `data_key(nip)`: the person's current public key, made on first request (what a page or a departmental system
  seals personal fields to before signing).
- `current_kids(nips)`: the keys the gate accepts a sealed value under, per NIP.
- `open(values)`: the plaintexts of sealed values, `contracts.pdp.ERASED` where the key was destroyed.
- `destroy_in(conn, nips)`: in the transaction that stores a `personal_data.erased` event, the person's keys lose
  their private half (the row stays: its id, public key and destruction time are what an export reports).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts import pdp

_WRAP_AAD = b"objektif-pdp-wrap|"


class KekError(ValueError):
    """The key-encryption key is missing or malformed."""


def kek_from_text(text: str) -> bytes:
    """A 32-byte KEK from its standard or URL-safe base64 text."""
    try:
        raw = base64.b64decode(text.strip() + "=" * (-len(text.strip()) % 4), altchars=b"-_")
    except ValueError as exc:
        raise KekError("the PDP key-encryption key is not base64") from exc
    if len(raw) != 32:
        raise KekError(f"the PDP key-encryption key must be 32 bytes (AES-256), not {len(raw)}")
    return raw


@dataclass(frozen=True, slots=True)
class DataKey:
    """A person's data key as the outside sees it."""

    nip: str
    kid: str
    public_key: bytes
    destroyed: bool

    def to_json(self) -> dict[str, object]:
        return {"nip": self.nip, "kid": self.kid, "public_key": base64.b64encode(self.public_key).decode(),
                "algorithm": "X25519-HKDF-SHA256-AES-256-GCM", "format": "pdp1", "destroyed": self.destroyed}


class DataKeys:
    """Reads and writes `evidence.pdp_keys`."""

    def __init__(self, pool: asyncpg.Pool, kek: bytes) -> None:
        self._pool = pool
        self._kek = AESGCM(kek)

    def _wrap(self, kid: str, private: X25519PrivateKey) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._kek.encrypt(nonce, private.private_bytes_raw(), _WRAP_AAD + kid.encode())

    def _unwrap(self, kid: str, wrapped: bytes) -> X25519PrivateKey:
        try:
            raw = self._kek.decrypt(wrapped[:12], wrapped[12:], _WRAP_AAD + kid.encode())
        except InvalidTag as exc:
            raise KekError(f"data key {kid} does not unwrap: another key-encryption key?") from exc
        return X25519PrivateKey.from_private_bytes(raw)

    async def data_key(self, nip: str) -> DataKey:
        """The person's current data key, made now if he or she has none (or only destroyed ones)."""
        async with self._pool.acquire() as conn:
            row = await _current(conn, nip)
            if row is None:
                private = X25519PrivateKey.generate()
                public = pdp.raw_public(private)
                kid = pdp.kid_of(public)
                await conn.execute(
                    """INSERT INTO evidence.pdp_keys (kid, nip, public_key, wrapped_private)
                       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
                    kid, nip, public, self._wrap(kid, private),
                )
                row = await _current(conn, nip)
        assert row is not None
        return DataKey(nip, row["kid"], bytes(row["public_key"]), False)

    async def keys_of(self, nip: str) -> list[DataKey]:
        """Every data key the person has had, oldest first, destroyed ones included."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT kid, public_key, destroyed_at FROM evidence.pdp_keys WHERE nip = $1 ORDER BY created_at, kid",
                nip,
            )
        return [DataKey(nip, r["kid"], bytes(r["public_key"]), r["destroyed_at"] is not None) for r in rows]

    async def current_kids(self, nips: Iterable[str]) -> dict[str, frozenset[str]]:
        """NIP → the ids of the data keys a value may be sealed to now (not destroyed)."""
        wanted = sorted(set(nips))
        if not wanted:
            return {}
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT nip, kid FROM evidence.pdp_keys WHERE nip = ANY($1::text[]) AND destroyed_at IS NULL", wanted
            )
        found: dict[str, set[str]] = {}
        for r in rows:
            found.setdefault(r["nip"], set()).add(r["kid"])
        return {nip: frozenset(kids) for nip, kids in found.items()}

    async def open(self, values: Sequence[str]) -> list[str | None]:
        """Each sealed value's plaintext; `pdp.ERASED` where its key was destroyed; None where it is not a sealed
        value or does not open (unknown key, a changed byte). Plain strings come back unchanged."""
        kids = {s.kid for v in values if (s := pdp.parse(v)) is not None}
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT kid, wrapped_private FROM evidence.pdp_keys WHERE kid = ANY($1::text[])", sorted(kids)
            )
        private = {r["kid"]: None if (w := r["wrapped_private"]) is None else self._unwrap(r["kid"], bytes(w))
                   for r in rows}
        out: list[str | None] = []
        for value in values:
            sealed = pdp.parse(value)
            if sealed is None:
                out.append(None if value.startswith(pdp.PREFIX) else value)
            elif sealed.kid not in private:
                out.append(None)
            elif (key := private[sealed.kid]) is None:
                out.append(pdp.ERASED)
            else:
                try:
                    out.append(pdp.open_sealed(value, key))
                except pdp.SealError:
                    out.append(None)
        return out


async def destroy_in(conn: asyncpg.Connection, nips: Sequence[str]) -> list[str]:
    """Destroy the private halves of these persons' data keys, in the caller's transaction; the ids destroyed."""
    if not nips:
        return []
    rows = await conn.fetch(
        """UPDATE evidence.pdp_keys SET wrapped_private = NULL, destroyed_at = now()
           WHERE nip = ANY($1::text[]) AND destroyed_at IS NULL RETURNING kid""",
        list(nips),
    )
    return [r["kid"] for r in rows]


async def _current(conn: asyncpg.Connection, nip: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT kid, public_key FROM evidence.pdp_keys WHERE nip = $1 AND destroyed_at IS NULL", nip
    )
