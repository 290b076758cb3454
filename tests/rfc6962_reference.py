"""RFC 6962 / RFC 9162 written from the RFCs' definitions and nothing of Objektif's, for the tests that check our
trees against an independent implementation: the Merkle Tree Hash (§2.1.1) and ADR 0013's tree over the
partitions, whose leaf ``p`` is ``u16 p || u64 size || root`` (big-endian)."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping

EMPTY = hashlib.sha256(b"").digest()


def reference_leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def reference_root(leaf_hashes: list[bytes]) -> bytes:
    """The Merkle Tree Hash of the leaf hashes, from its recursive definition (split at the largest power of two
    smaller than n)."""
    if not leaf_hashes:
        return EMPTY
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = 1 << ((len(leaf_hashes) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + reference_root(leaf_hashes[:k]) + reference_root(leaf_hashes[k:])).digest()


def reference_entry(part: int, size: int, root: bytes) -> bytes:
    """Partition ``part``'s leaf bytes in the tree over every partition."""
    return struct.pack(">HQ", part, size) + root


def reference_partitions_root(heads: Mapping[int, tuple[int, bytes]], count: int) -> bytes:
    """The root over ``count`` partitions; ``heads`` maps a partition to its size and root (absent: empty)."""
    return reference_root([reference_leaf_hash(reference_entry(p, *heads.get(p, (0, EMPTY)))) for p in range(count)])
