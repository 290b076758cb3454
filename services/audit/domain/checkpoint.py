"""Checkpoints (c2sp.org/tlog-checkpoint): the ledger's signed tree heads, as C2SP signed notes with Ed25519.

A checkpoint commits the audit service to the tree of its first ``size`` leaves. Given one, an auditor or an
appeal reviewer checks inclusion and consistency proofs without trusting the database (REGULATION.md §2.1
*akuntabel*; §2.4: a keberatan is judged on the record as it stood; §4: any past result is reproducible).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit.domain.errors import CheckpointError, NoteError, ProofError
from services.audit.domain.note import (
    ED25519,
    Ed25519Verifier,
    Note,
    NoteSignature,
    b64decode,
    b64encode,
    check_key_name,
    check_text,
    key_id,
    open_note,
)
from services.audit.domain.proofs import verify_consistency
from services.audit.domain.tree import EMPTY_ROOT, HASH_SIZE

__all__ = ["Checkpoint", "CheckpointError", "NoteSigner", "check_successor", "open_checkpoint"]

_SIZE = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile(r"[\x00-\x1f]")
_MAX_SIZE = 2**64 - 1


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's ``origin``, the tree ``size`` and its RFC 6962 ``root``.

    ``extensions`` are the optional extra lines of the spec; the ledger writes none (the spec advises
    against them) but reads them so that a checkpoint from another log still parses.
    """

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for line in (self.origin, *self.extensions):
            if not line or _CONTROL.search(line):
                raise CheckpointError(f"checkpoint line {line!r} is empty or holds a control character")
        if type(self.size) is not int or not 0 <= self.size <= _MAX_SIZE:
            raise CheckpointError(f"invalid tree size {self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise CheckpointError(f"the root must be {HASH_SIZE} bytes")

    def text(self) -> str:
        """The note text: ``origin\\nsize\\nbase64(root)\\n``, then any extension lines."""
        lines = (self.origin, str(self.size), b64encode(self.root), *self.extensions)
        return "".join(line + "\n" for line in lines)

    def body(self) -> bytes:
        """The exact bytes that are signed: the note text in UTF-8."""
        return self.text().encode("utf-8")

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse a checkpoint's note text; raises `CheckpointError` unless the spec allows it."""
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("a checkpoint has at least three lines: origin, size, root")
        origin, size, root, *extensions = lines
        if not _SIZE.fullmatch(size):
            raise CheckpointError(f"tree size {size!r} is not a decimal without leading zeros")
        try:
            root_bytes = b64decode(root, "root hash")
        except NoteError as exc:
            raise CheckpointError(str(exc)) from exc
        return cls(origin, int(size), root_bytes, tuple(extensions))


class NoteSigner:
    """Signs checkpoints as C2SP signed notes with one Ed25519 key under one key name.

    The key arrives as bytes from the composition root (which reads it from a secret); nothing here
    generates keys, since the domain draws no random numbers.
    """

    def __init__(self, private_key: Ed25519PrivateKey, name: str) -> None:
        """Wrap an Ed25519 private key; prefer `from_private_bytes` or `from_skey`."""
        check_key_name(name)
        self._private_key = private_key
        self._verifier = Ed25519Verifier(name, private_key.public_key().public_bytes_raw())

    @classmethod
    def from_private_bytes(cls, seed: bytes, name: str) -> NoteSigner:
        """A signer from a 32-byte Ed25519 private key (the RFC 8032 seed) and a key name."""
        if len(seed) != 32:
            raise CheckpointError("an Ed25519 private key has 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(seed), name)

    @classmethod
    def from_skey(cls, skey: str) -> NoteSigner:
        """A signer from a Go sumdb/note private key ``PRIVATE+KEY+name+hex(id)+base64(0x01||seed)``."""
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise CheckpointError("malformed signer key")
        _, _, name, hex_id, encoded = parts
        material = b64decode(encoded, "signer key")
        if not material or material[0] != ED25519:
            raise CheckpointError("signer key is not an Ed25519 key")
        signer = cls.from_private_bytes(material[1:], name)
        if signer.key_id.hex() != hex_id:
            raise CheckpointError("signer key ID does not match its name and key")
        return signer

    @property
    def name(self) -> str:
        """The key name written in signature lines (by convention the log's origin)."""
        return self._verifier.name

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return self._verifier.public_key

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID: ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``."""
        return key_id(self.name, ED25519, self.public_key)

    def verifier(self) -> Ed25519Verifier:
        """The matching verifier, for `open_checkpoint`."""
        return self._verifier

    def verifier_key(self) -> str:
        """The vkey string to hand to auditors: ``name+hex(key ID)+base64(0x01 || public key)``."""
        return self._verifier.vkey()

    def sign_text(self, text: str) -> str:
        """Sign any note text; returns the full signed note (text, blank line, one signature line)."""
        check_text(text)
        signature = self._private_key.sign(text.encode("utf-8"))
        return Note(text, (NoteSignature(self.name, self.key_id, signature),)).format()

    def sign(self, checkpoint: Checkpoint) -> str:
        """Sign a checkpoint; returns the full signed note text."""
        return self.sign_text(checkpoint.text())

    def derived_secret(self, label: bytes) -> bytes:
        """``HMAC-SHA256(seed, label)``: a secret for another purpose (the auditors' token for the tiled log's
        entry bundles) that whoever holds this key can recompute and that reveals nothing of the key."""
        return hmac.digest(self._private_key.private_bytes_raw(), label, "sha256")


def open_checkpoint(note: str | bytes, verifier_key: str, *, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint under the trusted verifier key and parse it.

    Raises `CheckpointError` (or its subclass `NoteError`) if the key is malformed, the note is not signed by
    that key, the body is not a checkpoint, or ``origin`` is given and differs from the checkpoint's.
    """
    text = open_note(note, Ed25519Verifier.from_vkey(verifier_key))
    checkpoint = Checkpoint.from_text(text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint


def check_successor(previous: Checkpoint, candidate: Checkpoint, proof: Sequence[bytes]) -> None:
    """Check that ``candidate`` only extends ``previous``, before it is signed (c2sp.org/tlog-checkpoint).

    Raises `CheckpointError` if the origins differ, `ProofError` if the consistency proof fails. From an
    empty previous tree nothing needs proving beyond its root being the empty root.
    """
    if candidate.origin != previous.origin:
        raise CheckpointError(f"origin changed from {previous.origin!r} to {candidate.origin!r}")
    if previous.size == 0 and candidate.size > 0:
        # verify_consistency refuses this case (a proof from the empty tree proves nothing), so check here.
        if proof or previous.root != EMPTY_ROOT:
            raise ProofError("from an empty tree the proof must be empty and the root the empty root")
        return
    verify_consistency(previous.size, candidate.size, previous.root, candidate.root, proof)
