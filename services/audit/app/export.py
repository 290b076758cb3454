"""Export of the whole ledger for third parties (issue 9): one JSON line per leaf with its index and the exact
bytes it commits to, so that anyone can recompute the root with any RFC 6962 implementation and compare it
with a signed checkpoint (REGULATION.md §2.1 *transparan*).

Line format (UTF-8, one object per line, partition by partition, each in tree order; ADR 0013)::

{"index": <idx>, "partition": 0, "position": 0, "event_id": "…", "topic": "objektif.evidence.v1", "type": "…",
"leaf_hash": "<hex SHA-256(0x00 || body)>", "body": "<base64 of the exact bytes>"}

A partition's lines, in order, give its tree's root; those roots give the root of the checkpoint over every
partition (`services.audit.domain.partitions`).

``body`` is null for a leaf whose bytes were lawfully erased (UU PDP): its ``leaf_hash`` still enters the
tree.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import orjson

from services.audit.adapters import queries
from services.audit.adapters.queries import Leaf
from services.audit.domain.merkle import Frontier
from services.audit.domain.partitions import partitions_root

BATCH = 5000


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """How many leaves were written (how many without bytes), and the root of their stored leaf hashes."""

    leaves: int
    erased: int
    root: bytes


def export_line(leaf: Leaf) -> bytes:
    """One leaf as a JSON line (newline included)."""
    body = None if leaf.body is None else base64.b64encode(leaf.body).decode("ascii")
    return (
        orjson.dumps(
            {
                "index": leaf.idx,
                "partition": leaf.part,
                "position": leaf.pos,
                "event_id": str(leaf.event_id),
                "topic": leaf.topic,
                "type": leaf.type,
                "leaf_hash": leaf.leaf_hash.hex(),
                "body": body,
            }
        )
        + b"\n"
    )


async def export_leaves(
    conn: asyncpg.Connection,
    write: Callable[[bytes], object],
    *,
    batch: int = BATCH,
    progress: Callable[[int], None] = lambda _n: None,
) -> ExportSummary:
    """Write every leaf up to its partition's tree head, partition by partition in tree order, through
    ``write``; ``progress(n)`` per batch. The root is that of the tree over the partitions' roots (ADR 0013)."""
    # One read-only snapshot: leaves appended meanwhile by the running service are not half-exported.
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        heads = await queries.heads(conn)
        written, erased, roots = 0, 0, []
        for head in heads:
            frontier = Frontier()
            for begin in range(0, head.size, batch):
                rows = await queries.leaves(conn, head.part, begin, min(begin + batch, head.size))
                for leaf in rows:
                    write(export_line(leaf))
                    erased += leaf.body is None
                frontier, _ = frontier.extend([leaf.leaf_hash for leaf in rows])
                written += len(rows)
                progress(len(rows))
            roots.append(frontier.root())
        return ExportSummary(written, erased, partitions_root([h.size for h in heads], roots))
