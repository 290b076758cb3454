"""The evidence store's partitions (ADR 0013, "no serial point"), and appending to them.

Every accepted event and every rejection belongs to one of `PARTITIONS` partitions, chosen from its key (the
subject: a NIP, a unit, a source) with the murmur2 hash Kafka's default partitioner uses, so a partition of the
store maps onto one partition of any topic whose partition count divides `PARTITIONS` (1, 2, 3, 4, 6 or 12): the
instances that own different topic partitions write different store partitions, and each batch locks only the
counter rows of its own partitions.

Within a partition, (part, n) is gap-free: `n` counts 1, 2, 3 … under the partition's row lock, so rows become
visible in `n` order and a reader tailing a partition by `n` never skips one committed late. `sequence` (the
envelope's, `pos` in the tables) orders events across partitions: `next_sequences` keeps it increasing within a
partition and, across partitions, in the order of the evidence service's clock at commit, to the millisecond; it
is unique because every partition's sequences leave the same remainder modulo `STRIDE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import asyncpg

from chassis.kafka import partition_of as kafka_partition_of

#: How many partitions the store has: fixed for a store's lifetime (schema.sql creates their rows, and this must
#: equal the count there), a multiple of every topic partition count that should map without contention.
PARTITIONS = 12

#: Sequences of partition p are p modulo STRIDE; STRIDE bounds PARTITIONS.
STRIDE = 64

assert PARTITIONS <= STRIDE
_ALL = range(PARTITIONS)


@lru_cache(maxsize=65_536)
def partition_of(key: str) -> int:
    """The store partition of a key: Kafka's default partitioner's choice among `PARTITIONS` partitions."""
    return kafka_partition_of(key.encode(), _ALL)


def next_sequences(last: int, part: int, count: int, now_ms: int) -> list[int]:
    """The sequences of `count` rows appended to partition `part`, whose last sequence was `last` (0 when
    none), committed at `now_ms` (milliseconds since the epoch, the batch's `recorded_at`): increasing, past
    `last`, and not before `now_ms * STRIDE + part`, so the order of sequences across partitions follows the
    clock. A sequence set before ADR 0013 (a small gap-free number) is always below the clock's."""
    first = max(last + STRIDE, now_ms * STRIDE + part)
    first += (part - first) % STRIDE  # the partition's residue (a legacy `last` may have another one)
    return [first + i * STRIDE for i in range(count)]


@dataclass(frozen=True, slots=True)
class Span:
    """The positions a batch took in one store partition: n = first … last."""

    part: int
    first: int
    last: int


async def lock(conn: asyncpg.Connection, stream: str, parts: set[int]) -> dict[int, tuple[int, int]]:
    """Lock the rows of `stream`'s partitions `parts` for the rest of the transaction, in partition order (two
    batches that share partitions queue on the first, never deadlock); returns each one's last (n, seq)."""
    rows = await conn.fetch(
        "SELECT part, n, seq FROM evidence.partitions WHERE stream = $1 AND part = ANY($2::smallint[])"
        " ORDER BY part FOR UPDATE",
        stream, sorted(parts),
    )
    heads = {r["part"]: (r["n"], r["seq"]) for r in rows}
    if len(heads) != len(parts):
        raise LookupError(f"partitions {sorted(parts - heads.keys())} of {stream!r} missing in evidence.partitions")
    return heads


async def place(
    conn: asyncpg.Connection, stream: str, heads: dict[int, tuple[int, int]],
    rows: Sequence[tuple[str, datetime | None]],
) -> list[tuple[int, int, int]]:
    """(part, n, seq) for each row to append, given its key and `recorded_at`, in order, and the partitions'
    rows moved past them (they were locked by `lock`)."""
    by_part: dict[int, list[int]] = {}
    for i, (key, _) in enumerate(rows):
        by_part.setdefault(partition_of(key), []).append(i)
    placed: list[tuple[int, int, int]] = [(0, 0, 0)] * len(rows)
    moved = []
    for part, indices in by_part.items():
        n, last = heads[part]
        now_ms = max(_ms(rows[i][1]) for i in indices)
        for k, (i, seq) in enumerate(zip(indices, next_sequences(last, part, len(indices), now_ms), strict=True)):
            placed[i] = (part, n + 1 + k, seq)
        moved.append((part, n + len(indices), placed[indices[-1]][2]))
    await conn.execute(
        """UPDATE evidence.partitions AS p SET n = m.n, seq = m.seq
           FROM unnest($2::smallint[], $3::bigint[], $4::bigint[]) AS m (part, n, seq)
           WHERE p.stream = $1 AND p.part = m.part""",
        stream, [m[0] for m in moved], [m[1] for m in moved], [m[2] for m in moved],
    )
    return placed


def _ms(when: datetime | None) -> int:
    if when is None:
        raise ValueError("an event is stored with the time it was recorded at")
    return int(when.timestamp() * 1000)


def spans_of(placed: Sequence[tuple[int, int, int]]) -> list[Span]:
    """Where `place` put a batch, by partition: the first and last `n` in each."""
    firsts: dict[int, int] = {}
    lasts: dict[int, int] = {}
    for part, n, _ in placed:
        firsts.setdefault(part, n)
        lasts[part] = n
    return [Span(part, firsts[part], lasts[part]) for part in sorted(firsts)]
