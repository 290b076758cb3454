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

from services.audit.adapters import checkpoint_rows, queries
from services.audit.adapters.checkpoint_rows import StoredCheckpoint, StoredPartitions
from services.audit.app.errors import LeafNotFound, NoCheckpoint, NotCheckpointed, StoredTreeDamaged
from services.audit.app.stored_tree import stored_consistency_proof, stored_inclusion_proof, stored_root
from services.audit.domain.errors import ProofError
from services.audit.domain.merkle import verify_consistency, verify_inclusion
from services.audit.domain.partitions import partition_proof, verify_partition
from services.audit.domain.tlog_proof import tlog_proof


@dataclass(frozen=True, slots=True)
class PartitionStep:
    """The second step of a receipt (ADR 0013): the partition's tree head as entry ``part`` of the tree over
    every partition, which the checkpoint over every partition signs."""

    part: int
    count: int
    root: bytes
    proof: tuple[bytes, ...]
    note: str

    def to_json(self) -> dict[str, object]:
        """JSON-ready form, hashes in lower-case hex."""
        return {"index": self.part, "size": self.count, "root": self.root.hex(),
                "proof": [h.hex() for h in self.proof], "checkpoint": self.note}


@dataclass(frozen=True, slots=True)
class Receipt:
    """A partition's checkpoint and the inclusion proof of one event's leaf in the tree it signs, then that
    tree's head inside the checkpoint over every partition."""

    event_id: UUID
    leaf_index: int
    leaf_hash: bytes
    tree_size: int
    root: bytes
    proof: tuple[bytes, ...]
    checkpoint_note: str
    partition: int = 0
    partitions: PartitionStep | None = None

    def to_json(self) -> dict[str, object]:
        """JSON-ready form, hashes in lower-case hex: ``leaf_index``, ``tree_size``, ``root``, ``proof`` and
        ``checkpoint`` are of the partition's tree (one RFC 6962 inclusion proof), ``partitions`` the step from
        that tree's head to the checkpoint over every partition."""
        return {
            "event_id": str(self.event_id),
            "partition": self.partition,
            "leaf_index": self.leaf_index,
            "leaf_hash": self.leaf_hash.hex(),
            "tree_size": self.tree_size,
            "root": self.root.hex(),
            "proof": [h.hex() for h in self.proof],
            "checkpoint": self.checkpoint_note,
            "partitions": None if self.partitions is None else self.partitions.to_json(),
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


@dataclass(frozen=True, slots=True)
class Covered:
    """The latest checkpoint over every partition, and the partitions' own checkpoints it rests on: what
    proofs handed out together (a dossier, a person's export) are under."""

    over_all: StoredPartitions
    notes: dict[int, StoredCheckpoint]

    def to_json(self) -> dict[str, object]:
        """``{size (leaves), root (hex), note, count, partitions: [{part, size, root, note}]}``."""
        c = self.over_all
        return {"size": sum(c.sizes), "root": c.root.hex(), "note": c.note, "count": len(c.sizes),
                "partitions": [{"part": p, "size": n.size, "root": n.root.hex(), "note": n.note}
                               for p, n in sorted(self.notes.items())]}


async def latest_covered(conn: asyncpg.Connection) -> Covered | None:
    """The latest checkpoint over every partition with its partitions' checkpoints; None before the first."""
    over_all = await checkpoint_rows.latest_partitions(conn)
    if over_all is None:
        return None
    notes = await checkpoint_rows.checkpoints_at(conn, over_all.sizes)
    for part, size in enumerate(over_all.sizes):
        if size and (part not in notes or notes[part].root != over_all.roots[part]):
            raise StoredTreeDamaged(f"partition {part}'s checkpoint at size {size} is missing or differs")
    return Covered(over_all, notes)


async def leaf_proofs(
    conn: asyncpg.Connection, leaf: queries.Leaf, covered: Covered | None
) -> tuple[list[bytes], list[bytes]] | None:
    """The leaf's inclusion proof in its partition's tree under ``covered``, and the partition's entry's in the
    tree over every partition; None when the leaf is not under it."""
    if covered is None or leaf.pos >= covered.over_all.sizes[leaf.part]:
        return None
    c = covered.over_all
    return (await stored_inclusion_proof(conn, leaf.part, leaf.pos, c.sizes[leaf.part]),
            partition_proof(leaf.part, c.sizes, c.roots))


async def receipt(conn: asyncpg.Connection, event_id: UUID) -> Receipt:
    """The receipt of one event: the leaf's inclusion proof under its partition's checkpoint as of the latest
    checkpoint over every partition, and the partition's entry in that one.

    Raises `LeafNotFound`, `NoCheckpoint`, or `NotCheckpointed` when the leaf is newer than the latest
    checkpoint."""
    leaf = await queries.leaf_by_event(conn, event_id)
    if leaf is None:
        raise LeafNotFound(f"no leaf holds event {event_id}")
    covered = await latest_covered(conn)
    if covered is None:
        raise NoCheckpoint("no checkpoint was issued yet")
    over_all, size = covered.over_all, covered.over_all.sizes[leaf.part]
    proofs = await leaf_proofs(conn, leaf, covered)
    if proofs is None:
        raise NotCheckpointed(
            f"leaf {leaf.pos} of partition {leaf.part} is newer than the latest checkpoint (size {size})")
    proof, step = proofs
    checkpoint = covered.notes[leaf.part]
    try:
        verify_inclusion(leaf.pos, size, leaf.leaf_hash, proof, checkpoint.root)
        verify_partition(leaf.part, size, checkpoint.root, len(over_all.sizes), step, over_all.root)
    except ProofError as exc:
        raise StoredTreeDamaged(
            f"the stored nodes do not prove leaf {leaf.pos} of partition {leaf.part} under the checkpoint: {exc}"
        ) from exc
    return Receipt(
        event_id, leaf.pos, leaf.leaf_hash, size, checkpoint.root, tuple(proof), checkpoint.note, leaf.part,
        PartitionStep(leaf.part, len(over_all.sizes), over_all.root, tuple(step), over_all.note),
    )


async def consistency(conn: asyncpg.Connection, size1: int, size2: int, part: int = 0) -> ConsistencyProof:
    """The consistency proof between two sizes of partition ``part``'s current tree, with the roots it
    connects."""
    head = await queries.head(conn, part)
    if not 0 <= size1 <= size2 <= head.size:
        raise ProofError(
            f"sizes must satisfy 0 <= {size1} <= {size2} <= {head.size} (partition {part}'s tree size)")
    root1, root2 = await stored_root(conn, part, size1), await stored_root(conn, part, size2)
    proof = await stored_consistency_proof(conn, part, size1, size2)
    if 0 < size1 < size2:
        try:
            verify_consistency(size1, size2, root1, root2, proof)
        except ProofError as exc:
            raise StoredTreeDamaged(f"the stored nodes do not prove {size1} → {size2}: {exc}") from exc
    return ConsistencyProof(size1, size2, root1, root2, tuple(proof))
