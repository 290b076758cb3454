"""The canonical signing form of a submission, single and batch signatures, and key ids (docs/signing.md).

Shared by departmental systems, the `objektif` CLI, the evidence gate and any third-party verifier, so it
holds no state and reads no clock. In short:

- **Signing bytes** of a submission: `contracts.canonical.canonical_bytes` of the submitted JSON object with
  the top-level members `signature`, `sequence` and `recorded_at` removed. The last two are assigned by the
  evidence service, so an accepted event verifies with the same bytes as the submission it came from.
- **Single signature**: `signature` is the standard base64 of the raw 64-byte Ed25519 signature over the
  signing bytes (RFC 8032, pure Ed25519).
- **Batch signature**: the signing bytes of the N submissions are the leaves of an RFC 6962 Merkle tree; the
  source signs `objektif-batch-v1 <N> <root hex>` once, and each submission carries
  `batch:<N>:<index>:<signature b64>:<audit path b64>`, so it stays individually verifiable: one leaf hash and
  about log2(N) node hashes each, and one Ed25519 verification per batch for a verifier that remembers it.
- **Key id**: the first 16 hex digits of SHA-256 over the raw 32-byte public key.

Numbers in a signed envelope must be integers within ±(2**53 - 1) (I-JSON, RFC 7493): binary floating point
has no single textual form across languages, and Objektif writes decimals as strings anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contracts.canonical import canonical_bytes
from contracts.merkle import inclusion_paths, leaf_hash, node_hash, root_from_inclusion, tree_levels

#: Top-level members left out of the signing bytes (`sequence`, `recorded_at` are set by the evidence
#: service).
UNSIGNED_MEMBERS: frozenset[str] = frozenset({"signature", "sequence", "recorded_at"})

#: The largest integer magnitude a signed envelope may hold (I-JSON: exact in every language's doubles).
MAX_SAFE_INTEGER = 2**53 - 1

BATCH_PREFIX = "batch:"
_BATCH_MESSAGE_TAG = "objektif-batch-v1"


class UnsignableEnvelope(ValueError):
    """The envelope holds a value with no single canonical form (a float, a too-large integer)."""


@dataclass(frozen=True)
class BatchSignature:
    """A batch signature as one member carries it: its place in the batch and the path to the signed root."""

    size: int
    index: int
    signature: bytes
    path: tuple[bytes, ...]


# --- bytes and hashes ---------------------------------------------------------------------------------------


def signing_bytes(envelope: Mapping[str, Any]) -> bytes:
    """What a source signs: canonical JSON of the envelope less `signature`, `sequence`, `recorded_at`."""
    return canonical_bytes({k: v for k, v in envelope.items() if k not in UNSIGNED_MEMBERS})


def key_id(public_key: bytes) -> str:
    """A source key's id: the first 16 lower-case hex digits of SHA-256 over the raw 32-byte public key."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def public_key_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key of a private key."""
    return private_key.public_key().public_bytes_raw()


def b64(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 §4), the encoding of every key and signature here."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes | None:
    """Strict standard base64 decoding; None when `text` is not canonical base64."""
    if not text.isascii():
        return None
    try:
        data = binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error:
        return None
    # compared as bytes, not re-encoded to str: the gate decodes every signature of every submission this way
    return data if binascii.b2a_base64(data, newline=False) == text.encode("ascii") else None


def batch_message(size: int, root: bytes) -> bytes:
    """What a source signs for a batch: ASCII `objektif-batch-v1 <size> <root as lower-case hex>`."""
    return f"{_BATCH_MESSAGE_TAG} {size} {root.hex()}".encode("ascii")


# --- batch signature strings --------------------------------------------------------------------------------


def format_batch_signature(batch: BatchSignature) -> str:
    """`batch:<size>:<index>:<signature b64>:<path hashes concatenated, b64>` (empty path for size 1)."""
    return f"{BATCH_PREFIX}{batch.size}:{batch.index}:{b64(batch.signature)}:{b64(b''.join(batch.path))}"


def parse_batch_signature(text: str) -> BatchSignature | None:
    """The parts of a batch signature string; None when it is malformed in any way."""
    parts = text.split(":")
    if len(parts) != 5 or parts[0] + ":" != BATCH_PREFIX:
        return None
    size_s, index_s, sig_s, path_s = parts[1:]
    if not (size_s.isdigit() and index_s.isdigit() and size_s.isascii() and index_s.isascii()):
        return None
    if len(size_s) > 9 or len(index_s) > 9 or size_s != str(int(size_s)) or index_s != str(int(index_s)):
        return None
    signature, path = unb64(sig_s), unb64(path_s)
    if signature is None or len(signature) != 64 or path is None or len(path) % 32 or len(path) > 64 * 32:
        return None
    size, index = int(size_s), int(index_s)
    if not 0 <= index < size:
        return None
    return BatchSignature(size, index, signature, tuple(path[i : i + 32] for i in range(0, len(path), 32)))


# --- signing (departmental systems, the CLI, tests and the demo) --------------------------------------------


def _check_signable(value: Any, path: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise UnsignableEnvelope(f"{path}: integer beyond ±(2**53 - 1); write it as a string")
        return
    if isinstance(value, float):
        raise UnsignableEnvelope(f"{path}: binary floating point number; write decimals as strings")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_signable(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_signable(v, f"{path}[{i}]")


def normalised(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """The envelope as plain JSON values (UUID, Decimal, datetime become strings), without unsigned members.

    Raises UnsignableEnvelope for floats or integers beyond ±(2**53 - 1).
    """
    plain: dict[str, Any] = orjson.loads(canonical_bytes(dict(envelope)))
    for member in UNSIGNED_MEMBERS:
        plain.pop(member, None)
    _check_signable(plain, "")
    return plain


def sign_envelope(envelope: Mapping[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """A copy of `envelope` as plain JSON values, signed singly: `signature` = base64 Ed25519 over its signing
    bytes.

    Raises UnsignableEnvelope for floats or integers beyond ±(2**53 - 1).
    """
    plain = normalised(envelope)
    plain["signature"] = b64(private_key.sign(signing_bytes(plain)))
    return plain


def sign_batch(
    envelopes: Sequence[Mapping[str, Any]], private_key: Ed25519PrivateKey
) -> list[dict[str, Any]]:
    """Copies of `envelopes` signed as one batch, in this order: one Ed25519 signature over their Merkle root.

    Each returned envelope carries its own `batch:` signature with its audit path (docs/signing.md).
    """
    plains = [normalised(e) for e in envelopes]
    leaves = [leaf_hash(signing_bytes(p)) for p in plains]
    signature = private_key.sign(batch_message(len(leaves), tree_levels(leaves)[-1][0]))
    for index, (plain, path) in enumerate(zip(plains, inclusion_paths(leaves), strict=True)):
        batch = BatchSignature(len(leaves), index, signature, path)
        plain["signature"] = format_batch_signature(batch)
    return plains


# --- verification (the gate and third parties) --------------------------------------------------------------


def verify_single(data: bytes, signature: str, public_key: Ed25519PublicKey) -> bool:
    """Whether `signature` (base64 of 64 bytes) is `public_key`'s Ed25519 signature over `data`."""
    raw = unb64(signature)
    if raw is None or len(raw) != 64:
        return False
    try:
        public_key.verify(raw, data)
    except InvalidSignature:
        return False
    return True


def batch_root(data: bytes, batch: BatchSignature) -> bytes | None:
    """The Merkle root that a member with signing bytes `data` claims through its audit path, or None."""
    return root_from_inclusion(leaf_hash(data), batch.index, batch.size, batch.path)


def verify_batch_root(root: bytes, batch: BatchSignature, public_key: Ed25519PublicKey) -> bool:
    """Whether `batch.signature` is `public_key`'s signature over the batch message for `root`."""
    try:
        public_key.verify(batch.signature, batch_message(batch.size, root))
    except InvalidSignature:
        return False
    return True


def verify_envelope(envelope: Mapping[str, Any], public_key: Ed25519PublicKey) -> bool:
    """Whether a submitted or accepted envelope (its JSON object) carries a valid single or batch signature.

    For third parties (the audit service, an auditor's script); the gate uses the parts to share batch work.
    """
    signature = envelope.get("signature")
    if not isinstance(signature, str):
        return False
    data = signing_bytes(envelope)
    if not signature.startswith(BATCH_PREFIX):
        return verify_single(data, signature, public_key)
    batch = parse_batch_signature(signature)
    if batch is None:
        return False
    root = batch_root(data, batch)
    return root is not None and verify_batch_root(root, batch, public_key)


#: The public names, including the Merkle helpers re-exported from `contracts.merkle` for existing callers.
__all__ = [
    "BATCH_PREFIX",
    "MAX_SAFE_INTEGER",
    "UNSIGNED_MEMBERS",
    "BatchSignature",
    "UnsignableEnvelope",
    "b64",
    "batch_message",
    "batch_root",
    "format_batch_signature",
    "key_id",
    "leaf_hash",
    "node_hash",
    "normalised",
    "parse_batch_signature",
    "public_key_bytes",
    "sign_batch",
    "sign_envelope",
    "signing_bytes",
    "unb64",
    "verify_batch_root",
    "verify_envelope",
    "verify_single",
]
