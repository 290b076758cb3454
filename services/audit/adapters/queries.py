"""Reads of the audit ledger for the auditor's use cases (issue 9): leaves, nodes and the partitions' tree heads
(ADR 0013); the checkpoints' rows are in `checkpoint_rows`. Every statement takes parameters; nothing here decides
anything.

A partition's leaves are read by position range through its unique index, so that a long verification or export
streams in batches instead of holding the ledger in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple
from uuid import UUID

import asyncpg

from contracts import topics

NodeId = tuple[int, int]

_LEAF_COLUMNS = (
    """l.idx, l.event_id, l.topic, l.type, l.subject, l.period, l.leaf_hash, l.chain_hash, d.body, l.part, l.pos"""
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
    part: int = 0
    pos: int = 0


@dataclass(frozen=True, slots=True)
class Head:
    """A partition's tree head, as the ledger maintains it after its last append."""

    size: int
    root: bytes
    chain_hash: bytes
    part: int = 0


class Horizon(NamedTuple):
    """How far a read goes: leaves up to ``until`` (an idx, inclusive) and/or, by partition, the first
    ``sizes[part]`` leaves (a checkpoint over every partition); None: no bound."""

    until: int | None = None
    sizes: tuple[int, ...] | None = None

    def covers(self, leaf: Leaf) -> bool:
        """Whether the leaf lies within the horizon."""
        return (self.until is None or leaf.idx <= self.until) and (
            self.sizes is None or leaf.pos < self.sizes[leaf.part])


#: The SQL of `Horizon.covers` over leaves ``l``, its until and sizes as the parameters $2 and $3 (NULL: no bound).
_WITHIN = ("($2::bigint IS NULL OR l.idx <= $2) "
           "AND ($3::bigint[] IS NULL OR l.pos < ($3::bigint[])[l.part + 1])")


#: No bound: every leaf.
EVERYTHING = Horizon()


def _leaf(row: asyncpg.Record) -> Leaf:
    return Leaf._make(row)  # bytea arrives as bytes


async def heads(conn: asyncpg.Connection) -> list[Head]:
    """Every partition's tree head, by partition (size 0 and the empty root where nothing was ledgered)."""
    rows = await conn.fetch("SELECT part, size, root, chain_hash FROM audit.heads ORDER BY part")
    if not rows:
        raise LookupError("audit.heads has no row: the audit schema was not applied")
    return [Head(r["size"], bytes(r["root"]), bytes(r["chain_hash"]), r["part"]) for r in rows]


async def head(conn: asyncpg.Connection, part: int = 0) -> Head:
    """One partition's tree head."""
    row = await conn.fetchrow("SELECT part, size, root, chain_hash FROM audit.heads WHERE part = $1", part)
    if row is None:
        raise LookupError(f"audit.heads has no partition {part}: the audit schema was not applied")
    return Head(row["size"], bytes(row["root"]), bytes(row["chain_hash"]), row["part"])


async def ledger_size(conn: asyncpg.Connection) -> int:
    """How many leaves the partitions' trees hold together."""
    return int(await conn.fetchval("SELECT coalesce(sum(size), 0) FROM audit.heads"))


async def leaf_count(conn: asyncpg.Connection, part: int) -> int:
    """How many leaf rows partition ``part`` stores (its tree size unless rows went missing)."""
    return int(await conn.fetchval("SELECT count(*) FROM audit.leaves WHERE part = $1", part))


async def leaves(conn: asyncpg.Connection, part: int, begin: int, end: int) -> list[Leaf]:
    """Partition ``part``'s leaves with ``begin <= pos < end``, in tree order, with their bytes where still
    held."""
    rows = await conn.fetch(
        f"SELECT {_LEAF_COLUMNS} FROM {_LEAF_FROM} "  # noqa: S608
        "WHERE l.part = $1 AND l.pos >= $2 AND l.pos < $3 ORDER BY l.pos",
        part,
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


async def leaves_of_person(conn: asyncpg.Connection, nip: str, sizes: Sequence[int]) -> list[Leaf]:
    """The leaves within ``sizes`` (by partition) whose subject is ``nip`` or whose bytes contain ``nip:<nip>`` (a
    prefilter for the events the person wrote: the caller checks the envelope's ``source``), in ledger order.
    The second half reads every held body once: a person's export is rare, and no index names a leaf's source."""
    rows = await conn.fetch(
        f"SELECT {_LEAF_COLUMNS} FROM {_LEAF_FROM} "  # noqa: S608
        "WHERE l.pos < ($3::bigint[])[l.part + 1] AND (l.subject = $1 OR position($2::bytea IN d.body) > 0) "
        "ORDER BY l.idx",
        nip,
        f"nip:{nip}".encode(),
        list(sizes),
    )
    return [_leaf(r) for r in rows]


async def topic_leaves(conn: asyncpg.Connection, topic: str, horizon: Horizon = EVERYTHING) -> list[Leaf]:
    """Every leaf of one topic within ``horizon``, in ledger order."""
    rows = await conn.fetch(
        f"SELECT {_LEAF_COLUMNS} FROM {_LEAF_FROM} WHERE l.topic = $1 AND {_WITHIN} ORDER BY l.idx",  # noqa: S608
        topic,
        horizon.until,
        None if horizon.sizes is None else list(horizon.sizes),
    )
    return [_leaf(r) for r in rows]


async def evidence_leaves(conn: asyncpg.Connection, horizon: Horizon = EVERYTHING) -> list[asyncpg.Record]:
    """The accepted events' leaves within ``horizon``, in ledger order, without the
    records ledgered as invalid: ``idx, event_id, type, subject, body`` (body None where erased). Only what a
    replay reads, as records: a rebuild reads every one of them."""
    return await conn.fetch(
        f"""SELECT l.idx, l.event_id, l.type, l.subject, d.body
            FROM audit.leaves l LEFT JOIN audit.leaf_data d ON d.idx = l.idx
            WHERE l.topic = $1 AND l.type <> 'invalid' AND {_WITHIN} ORDER BY l.idx""",  # noqa: S608
        topics.EVIDENCE,
        horizon.until,
        None if horizon.sizes is None else list(horizon.sizes),
    )


async def nodes(conn: asyncpg.Connection, part: int, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
    """Partition ``part``'s stored perfect-subtree hashes among ``ids`` (absent ones are simply missing from the
    answer)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await conn.fetch(
        """SELECT n.level, n.idx, n.hash FROM audit.nodes n
           JOIN unnest($1::int[], $2::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx
           WHERE n.part = $3""",
        [level for level, _ in wanted],
        [idx for _, idx in wanted],
        part,
    )
    return {(r["level"], r["idx"]): bytes(r["hash"]) for r in rows}


async def nodes_completed(conn: asyncpg.Connection, part: int, begin: int, end: int) -> dict[NodeId, bytes]:
    """Partition ``part``'s stored perfect subtrees that appending leaves ``begin`` to ``end - 1`` completes: node
    ``(level, i)`` completes with leaf ``((i + 1) << level) - 1``, so at each level those with
    ``begin >> level <= i < end >> level``. One range of the primary key per level, rather than naming each."""
    rows = await conn.fetch(
        """SELECT n.level, n.idx, n.hash FROM generate_series(0, $3::int) AS g(level)
           JOIN audit.nodes n ON n.part = $4 AND n.level = g.level AND n.idx >= ($1::bigint >> g.level)
                              AND n.idx < ($2::bigint >> g.level)""",
        begin,
        end,
        end.bit_length(),
        part,
    )
    return {(r[0], r[1]): r[2] for r in rows}


async def node_run(conn: asyncpg.Connection, part: int, level: int, begin: int, end: int) -> list[bytes]:
    """Partition ``part``'s stored nodes of one level with ``begin <= idx < end``, in index order, as far as
    they exist (one range of the primary key: a tile of the tiled log)."""
    rows = await conn.fetch(
        "SELECT hash FROM audit.nodes WHERE part = $4 AND level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx",
        level, begin, end, part,
    )
    return [bytes(r[0]) for r in rows]


async def leaf_bodies(conn: asyncpg.Connection, part: int, begin: int, end: int) -> list[bytes | None]:
    """The bytes of partition ``part``'s leaves with ``begin <= pos < end`` that exist, in tree order; None
    where a lawful erasure removed them (an entry bundle of the tiled log)."""
    rows = await conn.fetch(
        """SELECT d.body FROM audit.leaves l LEFT JOIN audit.leaf_data d ON d.idx = l.idx
           WHERE l.part = $3 AND l.pos >= $1 AND l.pos < $2 ORDER BY l.pos""",
        begin,
        end,
        part,
    )
    return [None if r[0] is None else bytes(r[0]) for r in rows]
