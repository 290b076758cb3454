"""Export of the whole ledger for third parties (issue 9): one JSON line per leaf with its index and the exact
bytes it commits to, so that anyone can recompute the root with any RFC 6962 implementation and compare it
with a signed checkpoint (REGULATION.md §2.1 *transparan*).

Line format (UTF-8, one object per line, in index order)::

{"index": 0, "event_id": "…", "topic": "objektif.evidence.v1", "type": "…",
"leaf_hash": "<hex SHA-256(0x00 || body)>", "body": "<base64 of the exact bytes>"}

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
    """Write every leaf up to the tree head, in index order, through ``write``; ``progress(n)`` per batch."""
    # One read-only snapshot: leaves appended meanwhile by the running service are not half-exported.
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        size = (await queries.head(conn)).size
        frontier, written, erased = Frontier(), 0, 0
        for begin in range(0, size, batch):
            rows = await queries.leaves(conn, begin, min(begin + batch, size))
            for leaf in rows:
                write(export_line(leaf))
                erased += leaf.body is None
            frontier, _ = frontier.extend([leaf.leaf_hash for leaf in rows])
            written += len(rows)
            progress(len(rows))
        return ExportSummary(written, erased, frontier.root())
