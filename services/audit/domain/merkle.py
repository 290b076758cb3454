"""The audit ledger's Merkle tree: the public face of the tree and proof modules, and an in-memory store.

Callers import from here. Hashing, the root and the frontier live in `tree`, proofs in `proofs`; their
docstrings name the RFC 9162 sections they implement and why the ledger needs them (REGULATION.md §2.1, §4).
"""

from __future__ import annotations

from collections.abc import Iterable

from services.audit.domain.errors import ProofError
from services.audit.domain.proofs import (
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from services.audit.domain.tree import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompletedNode,
    Frontier,
    GetNode,
    NodeId,
    fold_right,
    leaf_hash,
    leaf_hashes,
    node_hash,
    range_nodes,
    root_at,
    root_from_leaf_hashes,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompletedNode",
    "Frontier",
    "GetNode",
    "MemoryTree",
    "NodeId",
    "ProofError",
    "consistency_proof",
    "fold_right",
    "inclusion_proof",
    "leaf_hash",
    "leaf_hashes",
    "node_hash",
    "range_nodes",
    "root_at",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]


class MemoryTree:
    """A growing tree in memory: a frontier plus every completed perfect subtree, keyed ``(level, index)``.

    It stores exactly what `Frontier.append` reports as completed, which is what a database-backed store keeps
    too, so it doubles as the reference fake for the audit service's node store. Mutable by design (it is a
    store); nothing in it reads a clock or does I/O.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        """Start empty, then append ``leaf_hashes`` in order."""
        self._frontier = Frontier()
        self._nodes: dict[NodeId, bytes] = {}
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._frontier.size

    @property
    def frontier(self) -> Frontier:
        """The current compact range ``[0, size)``."""
        return self._frontier

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash; returns its index."""
        self._frontier, completed = self._frontier.append(leaf_hash)
        for level, index, value in completed:
            self._nodes[(level, index)] = value
        return self._frontier.size - 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append several leaf hashes in order."""
        for value in leaf_hashes:
            self.append(value)

    def get_node(self, level: int, index: int) -> bytes:
        """The hash of the perfect subtree ``(level, index)``; `KeyError` if it is not complete yet."""
        return self._nodes[(level, index)]

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of the first ``size`` leaves (default: all of them)."""
        if size is None:
            return self._frontier.root()
        self._check_size(size)
        return root_at(size, self.get_node)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The inclusion proof of leaf ``index`` in the tree of the first ``size`` leaves (default: all)."""
        size = self.size if size is None else size
        self._check_size(size)
        return inclusion_proof(index, size, self.get_node)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """The consistency proof from the first ``size1`` leaves to the first ``size2`` (default: all)."""
        size2 = self.size if size2 is None else size2
        self._check_size(size2)
        return consistency_proof(size1, size2, self.get_node)

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ProofError(f"size {size} is outside a tree of {self.size} leaves")
