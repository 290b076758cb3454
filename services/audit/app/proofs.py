"""Receipts and proofs for third parties (issue 9): an event's inclusion under the latest signed checkpoint,
and the consistency of two tree sizes. Each proof is checked here with the pure verifier before it is handed
out, so a damaged node store is reported instead of producing a proof that fails on the recipient's side.

A receipt lets a submitter, an appraised employee or an appeal reviewer show that an event is part of the
record as signed, without trusting the database (REGULATION.md §2.1 *transparan*, *akuntabel*; §2.4
keberatan).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from services.audit.adapters import queries
from services.audit.app.errors import LeafNotFound, NoCheckpoint, NotCheckpointed, StoredTreeDamaged
from services.audit.app.stored_tree import stored_consistency_proof, stored_inclusion_proof, stored_root
from services.audit.domain.errors import ProofError
from services.audit.domain.merkle import verify_consistency, verify_inclusion
from services.audit.domain.tlog_proof import tlog_proof


@dataclass(frozen=True, slots=True)
class Receipt:
    """A checkpoint and the inclusion proof of one event's leaf in the tree it signs."""

    event_id: UUID
    leaf_index: int
    leaf_hash: bytes
    tree_size: int
    root: bytes
    proof: tuple[bytes, ...]
    checkpoint_note: str

    def to_json(self) -> dict[str, object]:
        """JSON-ready form, hashes in lower-case hex."""
        return {
            "event_id": str(self.event_id),
            "leaf_index": self.leaf_index,
            "leaf_hash": self.leaf_hash.hex(),
            "tree_size": self.tree_size,
            "root": self.root.hex(),
            "proof": [h.hex() for h in self.proof],
            "checkpoint": self.checkpoint_note,
        }

    def to_tlog_proof(self) -> str:
        """The receipt as a c2sp.org/tlog-proof@v1 file: index, inclusion proof, the signed checkpoint. The
        event's bytes are not in it: whoever checks it hashes the event he or she holds."""
        return tlog_proof(self.leaf_index, self.proof, self.checkpoint_note)


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """Proof that the tree of ``size1`` leaves is a prefix of the tree of ``size2``, with both roots."""

    size1: int
    size2: int
    root1: bytes
    root2: bytes
    proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, object]:
        """JSON-ready form, hashes in lower-case hex."""
        return {
            "size1": self.size1,
            "size2": self.size2,
            "root1": self.root1.hex(),
            "root2": self.root2.hex(),
            "proof": [h.hex() for h in self.proof],
        }


async def receipt(conn: asyncpg.Connection, event_id: UUID) -> Receipt:
    """The receipt of one event: the latest checkpoint and the leaf's inclusion proof under it.

    Raises `LeafNotFound`, `NoCheckpoint`, or `NotCheckpointed` when the leaf is newer than the latest
    checkpoint."""
    leaf = await queries.leaf_by_event(conn, event_id)
    if leaf is None:
        raise LeafNotFound(f"no leaf holds event {event_id}")
    checkpoint = await queries.latest_checkpoint(conn)
    if checkpoint is None:
        raise NoCheckpoint("no checkpoint was issued yet")
    if leaf.idx >= checkpoint.size:
        raise NotCheckpointed(f"leaf {leaf.idx} is newer than the latest checkpoint (size {checkpoint.size})")
    proof = await stored_inclusion_proof(conn, leaf.idx, checkpoint.size)
    try:
        verify_inclusion(leaf.idx, checkpoint.size, leaf.leaf_hash, proof, checkpoint.root)
    except ProofError as exc:
        raise StoredTreeDamaged(
            f"the stored nodes do not prove leaf {leaf.idx} under the checkpoint: {exc}"
        ) from exc
    return Receipt(
        event_id, leaf.idx, leaf.leaf_hash, checkpoint.size, checkpoint.root, tuple(proof), checkpoint.note
    )


async def consistency(conn: asyncpg.Connection, size1: int, size2: int) -> ConsistencyProof:
    """The consistency proof between two sizes of the current tree, with the roots it connects."""
    head = await queries.head(conn)
    if not 0 <= size1 <= size2 <= head.size:
        raise ProofError(f"sizes must satisfy 0 <= {size1} <= {size2} <= {head.size} (the tree size)")
    root1, root2 = await stored_root(conn, size1), await stored_root(conn, size2)
    proof = await stored_consistency_proof(conn, size1, size2)
    if 0 < size1 < size2:
        try:
            verify_consistency(size1, size2, root1, root2, proof)
        except ProofError as exc:
            raise StoredTreeDamaged(f"the stored nodes do not prove {size1} → {size2}: {exc}") from exc
    return ConsistencyProof(size1, size2, root1, root2, tuple(proof))
