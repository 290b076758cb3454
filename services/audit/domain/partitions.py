"""The ledger in partitions (ADR 0013, "no serial point"): one RFC 6962 tree per partition, and one signed
checkpoint over all of them.

Each partition's leaves form a log of their own, with its own checkpoints (origin `partition_origin`): a batch
locks only its partitions' heads, so instances that own different Kafka partitions append in parallel. The
checkpoint over every partition commits to each one's size and root as the leaves of a small RFC 6962 tree,
leaf ``p`` being ``u16 p || u64 size || root``; its note (origin `partitions_origin`) has that tree's size (the
number of partitions) and root. An event's inclusion is then two RFC 6962 proofs that the same probes verify:
the leaf in its partition's tree, and the partition's entry in the tree over the partitions (REGULATION.md
§2.1 *akuntabel*; §4: every result reproducible from the record as it stood).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from services.audit.domain.errors import ProofError
from services.audit.domain.merkle import MemoryTree, leaf_hash, root_from_leaf_hashes, verify_inclusion
from services.audit.domain.tree import HASH_SIZE


def partition_origin(origin: str, part: int) -> str:
    """The origin line of partition ``part``'s checkpoints: the log's own for partition 0 (the tree written
    before ADR 0013 continues as partition 0, so its checkpoints stay its history), ``<origin>/p<part>`` for
    the others."""
    return origin if part == 0 else f"{origin}/p{part}"


def partitions_origin(origin: str) -> str:
    """The origin line of the checkpoints over every partition."""
    return f"{origin}/partitions"


def entry(part: int, size: int, root: bytes) -> bytes:
    """The bytes of partition ``part``'s leaf in the tree over the partitions: ``u16 part || u64 size ||
    root`` (big-endian)."""
    if len(root) != HASH_SIZE:
        raise ProofError(f"a partition's root must be {HASH_SIZE} bytes")
    return struct.pack(">HQ", part, size) + root


def partitions_root(sizes: Sequence[int], roots: Sequence[bytes]) -> bytes:
    """The root of the tree over the partitions whose sizes and roots are given, by partition."""
    return root_from_leaf_hashes([leaf_hash(entry(p, s, r)) for p, (s, r) in enumerate(zip(sizes, roots,
                                                                                            strict=True))])


def partition_proof(part: int, sizes: Sequence[int], roots: Sequence[bytes]) -> list[bytes]:
    """The inclusion proof of partition ``part``'s entry in the tree over the partitions."""
    tree = MemoryTree(leaf_hash(entry(p, s, r)) for p, (s, r) in enumerate(zip(sizes, roots, strict=True)))
    return tree.inclusion_proof(part)


def verify_partition(
    part: int, size: int, root: bytes, count: int, proof: Sequence[bytes], partitions_root_: bytes
) -> None:
    """Check that partition ``part`` at ``size`` leaves with ``root`` is entry ``part`` of the tree over
    ``count`` partitions whose root is ``partitions_root_``; raises `ProofError` otherwise."""
    verify_inclusion(part, count, leaf_hash(entry(part, size, root)), proof, partitions_root_)
