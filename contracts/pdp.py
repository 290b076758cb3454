"""Personal data sealed to the person's data key (UU 27/2022 PDP; ADR 0010, docs/pdp.md).

A personal field's value travels, is signed, stored, published and ledgered as

    pdp1:<kid>:<base64url(ephemeral X25519 public key (32) ‖ nonce (12) ‖ AES-256-GCM ciphertext and tag)>

sealed to the *subject's* data key (one X25519 key pair per NIP, kept by the evidence service): ECIES with
HKDF-SHA256 over the X25519 shared secret (salt: the ephemeral and the recipient public keys; info: `objektif-pdp1`),
and the key id as associated data. A value is bound to its person, not to one event: the results the scoring service
publishes copy a Pejabat Penilai's justification, and a reader must open the copy where it is shown (a value moved
into another event about the same person is shown only where that person's data is). Only the subject's private
key opens it; destroying that key (`personal_data.erased`) makes every
value sealed to it unreadable, while the signature, the stored bytes and the ledger's leaf hashes, which commit to
the ciphertext, stay as they were.

Scoring reads none of these fields (it reads whether a justification is present, never its words), so a score
replays bit-exact whether or not a key still exists. Departmental systems and the browser seal before signing;
the gate refuses plaintext in a personal field (`pdp_not_sealed`) and a value sealed to a key that is not the
subject's current one (`pdp_unknown_key`).

Shared by producers (CLI, pages through the same format in WebCrypto, departmental systems) and the evidence
service; no state, no clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PREFIX = "pdp1:"
INFO = b"objektif-pdp1"
#: What a reader shows in place of a value whose key was destroyed.
ERASED = "dihapus (UU PDP)"
#: A sealed value of a 2,000-character text (up to 8,000 bytes of UTF-8) is at most about 10,800 characters.
SEALED_MAX = 12_000
PLAIN_MAX = 2_000
_SEALED = re.compile(r"^pdp1:([0-9a-f]{16}):([A-Za-z0-9_-]{80,})$")
_EPHEMERAL, _NONCE, _TAG = 32, 12, 16

#: The personal fields of each event type (dotted paths into the payload; `[]` a list's items). Each is the
#: *subject's* personal data: the appraised employee's. Tested against the contracts (tests/unit/contracts/
#: test_pdp_fields.py): a new free-text field cannot be added to a payload without a decision here.
PERSONAL_FIELDS: Mapping[str, tuple[str, ...]] = {
    "employee.assigned": ("name",),
    "behaviour.rated": ("feedback",),
    "rating.pejabat_penilai": ("justification",),
    "feedback.given": ("text",),
    "objection.filed": ("reasons",),
    "objection.explanation.requested": ("question",),
    "objection.explanation.given": ("explanation",),
    "objection.decided": ("reasons",),
    "realisation.recorded": ("note",),
}
#: Free-text fields that are not personal data of the subject, with the reason (the same test reads this).
NOT_PERSONAL: Mapping[str, str] = {
    "org.unit.registered.name": "a unit's name",
    "org.position.registered.title": "a position's title",
    "employee.assigned.jabatan": "the position's title",
    "skp.planned.ekspektasi": "the unit's expectation, set for the position",
    "source.registered.name": "a source's display name",
    "source.key.revoked.reason": "why a key was revoked (the operator's words)",
    "pp46.activity.recorded.name": "an activity of the plan",
    "pp46.tugas_tambahan.recorded.description": "a task's description (history before 2022)",
    "pp46.kreativitas.recorded.description": "a creation's description (history before 2022)",
    "pp30.innovation.recorded.title": "an innovation's title (history before 2022)",
    "score.computed.result": "the result: it copies a justification as it was signed (sealed), nothing in the clear",
    "personal_data.erased.reason": "the administrator's reason for an erasure (the order, not the person's data)",
}


class SealError(ValueError):
    """A value that is not a well-formed sealed value, or that does not open with the key given."""


@dataclass(frozen=True, slots=True)
class Sealed:
    """A parsed `pdp1:` value."""

    kid: str
    ephemeral: bytes
    nonce: bytes
    ciphertext: bytes


def kid_of(public_key: bytes) -> str:
    """A data key's id: the first 16 hex digits of SHA-256 over the raw 32-byte X25519 public key."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def raw_public(key: X25519PrivateKey | X25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, X25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def is_sealed(value: object) -> bool:
    """Whether `value` is a well-formed sealed value (it says nothing of whether it opens)."""
    return isinstance(value, str) and parse(value) is not None


def parse(value: str) -> Sealed | None:
    """The parts of a sealed value, or None when `value` is not one."""
    match = _SEALED.match(value)
    if match is None:
        return None
    try:
        blob = base64.urlsafe_b64decode(match.group(2) + "=" * (-len(match.group(2)) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(blob) < _EPHEMERAL + _NONCE + _TAG:
        return None
    return Sealed(match.group(1), blob[:_EPHEMERAL], blob[_EPHEMERAL:_EPHEMERAL + _NONCE], blob[_EPHEMERAL + _NONCE:])


def associated_data(kid: str) -> bytes:
    """What a sealed value is bound to: its data key (and so its person)."""
    return b"objektif-pdp1|" + kid.encode()


def _key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient, info=INFO).derive(shared)


def seal(plaintext: str, recipient: bytes, *, ephemeral: X25519PrivateKey | None = None,
         nonce: bytes | None = None) -> str:
    """Seal `plaintext` to the raw X25519 public key `recipient` (random ephemeral key and nonce unless given, for
    test vectors)."""
    eph = ephemeral or X25519PrivateKey.generate()
    eph_public = raw_public(eph)
    key = _key(eph.exchange(X25519PublicKey.from_public_bytes(recipient)), eph_public, recipient)
    iv = nonce or os.urandom(_NONCE)
    ciphertext = AESGCM(key).encrypt(iv, plaintext.encode("utf-8"), associated_data(kid_of(recipient)))
    blob = base64.urlsafe_b64encode(eph_public + iv + ciphertext).rstrip(b"=").decode()
    return f"{PREFIX}{kid_of(recipient)}:{blob}"


def open_sealed(value: str, private_key: X25519PrivateKey) -> str:
    """The plaintext of a sealed value, opened with the data key's private half; SealError when it does not open
    (another key, a changed byte)."""
    sealed = parse(value)
    if sealed is None:
        raise SealError("not a sealed value (pdp1:<kid>:<base64url>)")
    recipient = raw_public(private_key)
    if sealed.kid != kid_of(recipient):
        raise SealError(f"sealed to data key {sealed.kid}, not {kid_of(recipient)}")
    shared = private_key.exchange(X25519PublicKey.from_public_bytes(sealed.ephemeral))
    try:
        plain = AESGCM(_key(shared, sealed.ephemeral, recipient)).decrypt(
            sealed.nonce, sealed.ciphertext, associated_data(sealed.kid))
    except InvalidTag as exc:
        raise SealError("does not open: a changed byte, or not sealed by this format") from exc
    return plain.decode("utf-8")


def _walk(node: Any, parts: list[str], path: str) -> Iterator[tuple[str, Any, Callable[[Any], None]]]:
    head, rest = parts[0], parts[1:]
    if isinstance(node, dict) and head in node:
        if not rest:
            def put(value: Any, node: dict[str, Any] = node, key: str = head) -> None:
                node[key] = value
            yield path + head, node[head], put
        else:
            yield from _walk(node[head], rest, f"{path}{head}.")


def personal_values(event_type: str, payload: dict[str, Any]) -> Iterator[tuple[str, Any, Callable[[Any], None]]]:
    """(path, value, setter) for every personal field present and not null in `payload`."""
    for field in PERSONAL_FIELDS.get(event_type, ()):
        for path, value, put in _walk(payload, field.split("."), ""):
            if value is not None:
                yield path, value, put


def envelope_values(envelope: dict[str, Any]) -> list[tuple[str, Any]]:
    """(path, value) of every personal field present and not null in an envelope's payload."""
    payload = envelope.get("payload")
    if not isinstance(payload, dict):
        return []
    return [(path, value) for path, value, _put in personal_values(str(envelope.get("type")), payload)]


def seal_payload(envelope: dict[str, Any], recipient: bytes) -> dict[str, Any]:
    """A copy of an unsigned submission with each personal field in plaintext sealed to `recipient` (the subject's
    data key); values sealed already are kept. Seal, then sign: the signature commits to the ciphertext."""
    import copy

    out = copy.deepcopy(envelope)
    payload = out.get("payload")
    if not isinstance(payload, dict):
        return out
    for _path, value, put in list(personal_values(str(out.get("type", "")), payload)):
        if isinstance(value, str) and not is_sealed(value):
            put(seal(value, recipient))
    return out


def subject_nip(envelope: Mapping[str, Any]) -> str | None:
    """Whose personal data an event's personal fields are: the envelope's subject (the appraised employee's NIP)."""
    subject = envelope.get("subject")
    return subject if isinstance(subject, str) and re.fullmatch(r"\d{18}", subject) else None


def private_from_raw(raw: bytes) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(raw)


__all__ = [
    "ERASED",
    "NOT_PERSONAL",
    "PERSONAL_FIELDS",
    "PLAIN_MAX",
    "PREFIX",
    "SEALED_MAX",
    "SealError",
    "Sealed",
    "associated_data",
    "is_sealed",
    "kid_of",
    "open_sealed",
    "parse",
    "personal_values",
    "private_from_raw",
    "raw_public",
    "seal",
    "seal_payload",
    "subject_nip",
]
