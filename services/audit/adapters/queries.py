"""Reads of the audit ledger for the auditor's use cases (issue 9), and the two writes they make: checkpoints
and the keys that sign them. Every statement takes parameters; nothing here decides anything.

The leaves are read by index range through the primary key, so that a long verification or export streams in
batches instead of holding the ledger in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import asyncpg

from contracts import topics

NodeId = tuple[int, int]

_LEAF_COLUMNS = (
    """l.idx, l.event_id, l.topic, l.type, l.subject, l.period, l.leaf_hash, l.chain_hash, d.body"""
)
_LEAF_FROM = "audit.leaves l LEFT JOIN audit.leaf_data d ON d.idx = l.idx"


class Leaf(NamedTuple):
    """One ledger leaf; ``body`` is None once its bytes were lawfully erased (UU PDP), the hash stays.

    A named tuple in the order of `_LEAF_COLUMNS`, made straight from the row: a verification makes one per
    leaf."""

    idx: int
    event_id: UUID
    topic: str
    type: str
    subject: str
    period: str
    leaf_hash: bytes
    chain_hash: bytes
    body: bytes | None


@dataclass(frozen=True, slots=True)
class Head:
    """The tree head the ledger maintains after its last append."""

    size: int
    root: bytes
    chain_hash: bytes


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A signed checkpoint as stored: its size, root, the whole signed note and when it was issued."""

    size: int
    root: bytes
    note: str
    issued_at: datetime


def _leaf(row: asyncpg.Record) -> Leaf:
    return Leaf._make(row)  # bytea arrives as bytes


def _checkpoint(row: asyncpg.Record) -> StoredCheckpoint:
    return StoredCheckpoint(row["size"], bytes(row["root"]), row["note"], row["issued_at"])


async def head(conn: asyncpg.Connection) -> Head:
    """The current tree head (size 0 and the empty root on a fresh ledger)."""
    row = await conn.fetchrow("SELECT size, root, chain_hash FROM audit.head WHERE id = 1")
    if row is None:
        raise LookupError("audit.head has no row: the audit schema was not applied")
    return Head(row["size"], bytes(row["root"]), bytes(row["chain_hash"]))


async def leaf_count(conn: asyncpg.Connection) -> int:
    """How many leaf rows are stored (the tree size unless rows went missing)."""
    return int(await conn.fetchval("SELECT count(*) FROM audit.leaves"))


async def leaves(conn: asyncpg.Connection, begin: int, end: int) -> list[Leaf]:
    """The leaves with ``begin <= idx < end``, in index order, with their bytes where still held."""
    rows = await conn.fetch(
        f"SELECT {_LEAF_COLUMNS} FROM {_LEAF_FROM} WHERE l.idx >= $1 AND l.idx < $2 ORDER BY l.idx",  # noqa: S608
        begin,
        end,
    )
    return [_leaf(r) for r in rows]


async def leaf_by_event(conn: asyncpg.Connection, event_id: UUID) -> Leaf | None:
    """The leaf of one event, by its id."""
    row = await conn.fetchrow(f"SELECT {_LEAF_COLUMNS} FROM {_LEAF_FROM} WHERE l.event_id = $1", event_id)  # noqa: S608
    return None if row is None else _leaf(row)


async def leaves_of(
    conn: asyncpg.Connection,
    subject: str,
    period: str,
    topic_names: Sequence[str] = (topics.EVIDENCE, topics.REJECTIONS, topics.SCORES),
) -> list[Leaf]:
    """Every leaf about one subject and period on the given topics, in ledger order."""
    rows = await conn.fetch(
        f"SELECT {_LEAF_COLUMNS} FROM {_LEAF_FROM} "  # noqa: S608
        "WHERE l.subject = $1 AND l.period = $2 AND l.topic = ANY($3::text[]) ORDER BY l.idx",
        subject,
        period,
        list(topic_names),
    )
    return [_leaf(r) for r in rows]


async def leaves_of_person(conn: asyncpg.Connection, nip: str, size: int) -> list[Leaf]:
    """The leaves with ``idx < size`` whose subject is ``nip`` or whose bytes contain ``nip:<nip>`` (a
    prefilter for the events the person wrote: the caller checks the envelope's ``source``), in ledger order.
    The second half reads every held body once: a person's export is rare, and no index names a leaf's source."""
    rows = await conn.fetch(
        f"SELECT {_LEAF_COLUMNS} FROM {_LEAF_FROM} "  # noqa: S608
        "WHERE l.idx < $3 AND (l.subject = $1 OR position($2::bytea IN d.body) > 0) ORDER BY l.idx",
        nip,
        f"nip:{nip}".encode(),
        size,
    )
    return [_leaf(r) for r in rows]


async def topic_leaves(conn: asyncpg.Connection, topic: str, until: int | None = None) -> list[Leaf]:
    """Every leaf of one topic (up to index ``until`` inclusive when given), in ledger order."""
    rows = await conn.fetch(
        f"SELECT {_LEAF_COLUMNS} FROM {_LEAF_FROM} "  # noqa: S608
        "WHERE l.topic = $1 AND ($2::bigint IS NULL OR l.idx <= $2) ORDER BY l.idx",
        topic,
        until,
    )
    return [_leaf(r) for r in rows]


async def evidence_leaves(conn: asyncpg.Connection, until: int | None = None) -> list[asyncpg.Record]:
    """The accepted events' leaves (up to index ``until`` inclusive when given), in ledger order, without the
    records ledgered as invalid: ``idx, event_id, type, subject, body`` (body None where erased). Only what a
    replay reads, as records: a rebuild reads every one of them."""
    return await conn.fetch(
        """SELECT l.idx, l.event_id, l.type, l.subject, d.body
           FROM audit.leaves l LEFT JOIN audit.leaf_data d ON d.idx = l.idx
           WHERE l.topic = $1 AND l.type <> 'invalid' AND ($2::bigint IS NULL OR l.idx <= $2) ORDER BY l.idx""",
        topics.EVIDENCE,
        until,
    )


async def nodes(conn: asyncpg.Connection, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
    """The stored perfect-subtree hashes among ``ids`` (absent ones are simply missing from the answer)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await conn.fetch(
        """SELECT n.level, n.idx, n.hash FROM audit.nodes n
           JOIN unnest($1::int[], $2::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx""",
        [level for level, _ in wanted],
        [idx for _, idx in wanted],
    )
    return {(r["level"], r["idx"]): bytes(r["hash"]) for r in rows}


async def nodes_completed(conn: asyncpg.Connection, begin: int, end: int) -> dict[NodeId, bytes]:
    """The stored perfect subtrees that appending leaves ``begin`` to ``end - 1`` completes: node
    ``(level, i)`` completes with leaf ``((i + 1) << level) - 1``, so at each level those with
    ``begin >> level <= i < end >> level``. One range of the primary key per level, rather than naming each."""
    rows = await conn.fetch(
        """SELECT n.level, n.idx, n.hash FROM generate_series(0, $3::int) AS g(level)
           JOIN audit.nodes n ON n.level = g.level AND n.idx >= ($1::bigint >> g.level)
                              AND n.idx < ($2::bigint >> g.level)""",
        begin,
        end,
        end.bit_length(),
    )
    return {(r[0], r[1]): r[2] for r in rows}


async def checkpoints(conn: asyncpg.Connection) -> list[StoredCheckpoint]:
    """Every stored checkpoint, smallest tree first."""
    rows = await conn.fetch("SELECT size, root, note, issued_at FROM audit.checkpoints ORDER BY size")
    return [_checkpoint(r) for r in rows]


async def latest_checkpoint(conn: asyncpg.Connection) -> StoredCheckpoint | None:
    """The checkpoint over the largest tree, if any was issued."""
    row = await conn.fetchrow(
        "SELECT size, root, note, issued_at FROM audit.checkpoints ORDER BY size DESC LIMIT 1"
    )
    return None if row is None else _checkpoint(row)


async def checkpoint_as_of(conn: asyncpg.Connection, when: datetime) -> StoredCheckpoint | None:
    """The largest checkpoint issued at or before ``when``."""
    row = await conn.fetchrow(
        """SELECT size, root, note, issued_at FROM audit.checkpoints WHERE issued_at <= $1
           ORDER BY size DESC LIMIT 1""",
        when,
    )
    return None if row is None else _checkpoint(row)


async def insert_checkpoint(conn: asyncpg.Connection, checkpoint: StoredCheckpoint) -> None:
    """Store a newly signed checkpoint."""
    await conn.execute(
        "INSERT INTO audit.checkpoints (size, root, note, issued_at) VALUES ($1, $2, $3, $4)",
        checkpoint.size,
        checkpoint.root,
        checkpoint.note,
        checkpoint.issued_at,
    )


async def checkpoint_keys(conn: asyncpg.Connection) -> list[str]:
    """The verifier keys (C2SP vkeys) recorded as having signed checkpoints, oldest first."""
    rows = await conn.fetch("SELECT vkey FROM audit.checkpoint_keys ORDER BY registered_at, vkey")
    return [r["vkey"] for r in rows]


async def register_checkpoint_key(conn: asyncpg.Connection, vkey: str, name: str, at: datetime) -> None:
    """Record a checkpoint verifier key once (a second registration of the same key changes nothing)."""
    await conn.execute(
        """INSERT INTO audit.checkpoint_keys (vkey, name, registered_at) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING""",
        vkey,
        name,
        at,
    )


async def take_checkpoint_lock(conn: asyncpg.Connection) -> None:
    """Serialise checkpoint issuers (the service's periodic task and the CLI) until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('objektif.audit.checkpoints'))")


async def node_run(conn: asyncpg.Connection, level: int, begin: int, end: int) -> list[bytes]:
    """The stored nodes of one level with ``begin <= idx < end``, in index order, as far as they exist (one
    range of the primary key: a tile of the tiled log)."""
    rows = await conn.fetch(
        "SELECT hash FROM audit.nodes WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx", level, begin, end
    )
    return [bytes(r[0]) for r in rows]


async def leaf_bodies(conn: asyncpg.Connection, begin: int, end: int) -> list[bytes | None]:
    """The bytes of the leaves with ``begin <= idx < end`` that exist, in index order; None where a lawful
    erasure removed them (an entry bundle of the tiled log)."""
    rows = await conn.fetch(
        """SELECT d.body FROM audit.leaves l LEFT JOIN audit.leaf_data d ON d.idx = l.idx
           WHERE l.idx >= $1 AND l.idx < $2 ORDER BY l.idx""",
        begin,
        end,
    )
    return [None if r[0] is None else bytes(r[0]) for r in rows]
