"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures: format, parse, and verify.

A signed note is text ending in a newline, a blank line, then one or more signature lines
``— <key name> base64(key ID || signature)``. The audit service wraps its checkpoints in one so that any
auditor's tool for the format (Go's sumdb/note, transparency-dev/formats) can check the tree head
(REGULATION.md §2.1 *transparan*, *akuntabel*). Signing needs a private key and lives in `checkpoint`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.audit.domain.errors import NoteError

ED25519 = 0x01
"""The signature type identifier byte of Ed25519 in the signed-note spec."""

EM_DASH = "\u2014"
MAX_SIGNATURES = 100
"""The spec asks verifiers to accept at least 16 signatures; Go's reference accepts up to 100."""

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_HEX_KEY_ID = re.compile(r"[0-9a-f]{8}")


def b64encode(data: bytes) -> str:
    """Standard base64 (RFC 4648 §4), with padding, as the spec uses throughout."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, what: str) -> bytes:
    """Decode standard base64 strictly: only the alphabet, correct padding, canonical encoding."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise NoteError(f"{what} is not valid base64") from exc
    if b64encode(data) != text:
        raise NoteError(f"{what} is not canonically base64-encoded")
    return data


def check_key_name(name: str) -> None:
    """Key names are non-empty and contain no Unicode space, no ``+`` and no control character."""
    if not name or "+" in name or any(c.isspace() for c in name) or _CONTROL.search(name):
        raise NoteError(f"invalid key name {name!r}")


def key_id(name: str, signature_type: int, public_key: bytes) -> bytes:
    """``SHA-256(key name || 0x0A || signature type || public key)[:4]``, as the spec recommends."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([signature_type]) + public_key).digest()[:4]


def check_text(text: str) -> None:
    """Note text is non-empty UTF-8 ending in a newline, with no control character other than newline."""
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if _CONTROL.search(text):
        raise NoteError("note text contains a control character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NoteError("note text is not valid UTF-8") from exc


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the signer's key name, its 4-byte key ID, and the raw signature."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        """The signature line, newline included: ``— name base64(key_id || signature)``."""
        return f"{EM_DASH} {self.name} {b64encode(self.key_id + self.signature)}\n"


@dataclass(frozen=True)
class Note:
    """A parsed note: its text (final newline included) and its signatures, in order."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def format(self) -> str:
        """The note as transmitted: text, blank line, signature lines."""
        check_text(self.text)
        if not self.signatures:
            raise NoteError("a signed note needs at least one signature")
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def parse_note(note: str | bytes) -> Note:
    """Split a signed note into text and signature lines; checks the format only, not the signatures."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("note is not valid UTF-8") from exc
    if _CONTROL.search(note):
        raise NoteError("note contains a control character")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("signature block must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"more than {MAX_SIGNATURES} signatures")
    return Note(text, tuple(_parse_signature_line(line) for line in lines))


def _parse_signature_line(line: str) -> NoteSignature:
    prefix = EM_DASH + " "
    if not line.startswith(prefix):
        raise NoteError(f"malformed signature line {line!r}")
    parts = line[len(prefix) :].split(" ")
    if len(parts) != 2:
        raise NoteError(f"malformed signature line {line!r}")
    name, encoded = parts
    check_key_name(name)
    blob = b64decode(encoded, "signature")
    if len(blob) < 5:
        raise NoteError("signature too short")
    return NoteSignature(name, blob[:4], blob[4:])


@dataclass(frozen=True)
class Ed25519Verifier:
    """A trusted Ed25519 note key: its name and 32-byte public key."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != 32:
            raise NoteError("an Ed25519 public key has 32 bytes")

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID: ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``."""
        return key_id(self.name, ED25519, self.public_key)

    def vkey(self) -> str:
        """The verifier key string ``name+hex(key ID)+base64(0x01 || public key)``."""
        return f"{self.name}+{self.key_id.hex()}+{b64encode(bytes([ED25519]) + self.public_key)}"

    @classmethod
    def from_vkey(cls, vkey: str) -> Ed25519Verifier:
        """Parse a verifier key; its key ID must match its name and key, and its type must be Ed25519."""
        parts = vkey.split("+", 2)
        if len(parts) != 3 or not _HEX_KEY_ID.fullmatch(parts[1]):
            raise NoteError("malformed verifier key")
        name, hex_id, encoded = parts
        material = b64decode(encoded, "verifier key")
        if not material or material[0] != ED25519:
            raise NoteError("verifier key is not an Ed25519 key")
        verifier = cls(name, material[1:])
        if verifier.key_id.hex() != hex_id:
            raise NoteError("verifier key ID does not match its name and key")
        return verifier

    def verifies(self, text: str, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature over the note text."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text.encode("utf-8"))
        except InvalidSignature:
            return False
        return True


def open_note(note: str | bytes, verifier: Ed25519Verifier) -> str:
    """Return the text of a note that the trusted key signed; raise `NoteError` otherwise.

    As the spec requires: signatures by other keys (a different name or a different key ID) are ignored; a
    signature by the trusted key that fails to verify rejects the whole note; at least one must verify.
    """
    parsed = parse_note(note)
    verified = 0
    for signature in parsed.signatures:
        if signature.name != verifier.name or signature.key_id != verifier.key_id:
            continue
        if not verifier.verifies(parsed.text, signature.signature):
            raise NoteError(f"the signature by {verifier.name} does not verify")
        verified += 1
    if not verified:
        raise NoteError(f"the note carries no signature by {verifier.name}+{verifier.key_id.hex()}")
    return parsed.text
