"""The rows of the ledger's checkpoints (issue 9; ADR 0013): each partition's signed checkpoints, the signed
checkpoints over every partition, and the keys that signed them. Every statement takes parameters; nothing here
decides anything: `services.audit.app.checkpoints` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A signed checkpoint of one partition's tree as stored: its size, root, the whole signed note and when
    it was issued."""

    size: int
    root: bytes
    note: str
    issued_at: datetime
    part: int = 0


@dataclass(frozen=True, slots=True)
class StoredPartitions:
    """A signed checkpoint over every partition (ADR 0013): the sizes and roots it commits to, by partition."""

    n: int
    sizes: tuple[int, ...]
    roots: tuple[bytes, ...]
    root: bytes
    note: str
    issued_at: datetime


def _checkpoint(row: asyncpg.Record) -> StoredCheckpoint:
    return StoredCheckpoint(row["size"], bytes(row["root"]), row["note"], row["issued_at"], row["part"])


def _partitions(row: asyncpg.Record) -> StoredPartitions:
    return StoredPartitions(row["n"], tuple(row["sizes"]), tuple(bytes(r) for r in row["roots"]),
                            bytes(row["root"]), row["note"], row["issued_at"])


_CHECKPOINT = "SELECT checkpoints.part, checkpoints.size, root, note, issued_at FROM audit.checkpoints"
_PARTITIONS = "SELECT n, sizes, roots, root, note, issued_at FROM audit.partition_checkpoints"


async def checkpoints(conn: asyncpg.Connection) -> list[StoredCheckpoint]:
    """Every stored checkpoint of a partition's tree, by partition, smallest tree first."""
    return [_checkpoint(r) for r in await conn.fetch(f"{_CHECKPOINT} ORDER BY part, size")]


async def latest_checkpoint(conn: asyncpg.Connection, part: int = 0) -> StoredCheckpoint | None:
    """The checkpoint over partition ``part``'s largest tree, if any was issued."""
    row = await conn.fetchrow(f"{_CHECKPOINT} WHERE part = $1 ORDER BY size DESC LIMIT 1", part)
    return None if row is None else _checkpoint(row)


async def checkpoint_at(conn: asyncpg.Connection, part: int, size: int) -> StoredCheckpoint | None:
    """The checkpoint of partition ``part``'s tree at ``size`` leaves, if one was issued."""
    row = await conn.fetchrow(f"{_CHECKPOINT} WHERE part = $1 AND size = $2", part, size)
    return None if row is None else _checkpoint(row)


async def checkpoints_at(conn: asyncpg.Connection, sizes: Sequence[int]) -> dict[int, StoredCheckpoint]:
    """Each partition's checkpoint at ``sizes[part]`` leaves, where one was issued (none for an empty tree)."""
    rows = await conn.fetch(
        f"""{_CHECKPOINT} JOIN unnest($1::bigint[]) WITH ORDINALITY AS w(size, k)
            ON checkpoints.part = w.k - 1 AND checkpoints.size = w.size""",
        list(sizes),
    )
    return {r["part"]: _checkpoint(r) for r in rows}


async def insert_checkpoint(conn: asyncpg.Connection, checkpoint: StoredCheckpoint) -> None:
    """Store a newly signed checkpoint of a partition's tree."""
    await conn.execute(
        "INSERT INTO audit.checkpoints (part, size, root, note, issued_at) VALUES ($1, $2, $3, $4, $5)",
        checkpoint.part,
        checkpoint.size,
        checkpoint.root,
        checkpoint.note,
        checkpoint.issued_at,
    )


async def all_partitions(conn: asyncpg.Connection) -> list[StoredPartitions]:
    """Every checkpoint over all partitions, oldest first."""
    return [_partitions(r) for r in await conn.fetch(f"{_PARTITIONS} ORDER BY n")]


async def latest_partitions(conn: asyncpg.Connection) -> StoredPartitions | None:
    """The latest checkpoint over all partitions, if any was issued."""
    row = await conn.fetchrow(f"{_PARTITIONS} ORDER BY n DESC LIMIT 1")
    return None if row is None else _partitions(row)


async def partitions_as_of(conn: asyncpg.Connection, when: datetime) -> StoredPartitions | None:
    """The latest checkpoint over all partitions issued at or before ``when``."""
    row = await conn.fetchrow(f"{_PARTITIONS} WHERE issued_at <= $1 ORDER BY n DESC LIMIT 1", when)
    return None if row is None else _partitions(row)


async def insert_partitions(conn: asyncpg.Connection, issued: StoredPartitions) -> None:
    """Store a newly signed checkpoint over all partitions."""
    await conn.execute(
        """INSERT INTO audit.partition_checkpoints (n, sizes, roots, root, note, issued_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        issued.n, list(issued.sizes), list(issued.roots), issued.root, issued.note, issued.issued_at,
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
