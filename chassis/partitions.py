"""Tables split into partitions, each gap-free (ADR 0013, "no serial point"), shared by the evidence store and
the score outbox.

Every row belongs to one of `PARTITIONS` partitions, chosen from its key (the subject: a NIP, a unit, a source)
with the murmur2 hash Kafka's default partitioner uses, so a partition of a table maps onto one partition of any
topic whose partition count divides `PARTITIONS` (1, 2, 3, 4, 6 or 12): the instances that own different topic
partitions write different table partitions, and each batch locks only the counter rows of its own partitions.

Within a partition, (part, n) is gap-free: `n` counts 1, 2, 3 … under the partition's row lock, so rows become
visible in `n` order and a reader tailing a partition by `n` never skips one committed late (ADR 0005's argument,
per partition). Each row also gets a `seq`, unique across partitions because every partition's values leave the
same remainder modulo `STRIDE`, and increasing within a partition; given the batch's time (the evidence store's
`sequence`), `seq` also follows that clock across partitions.

A partitioned counter table has the columns (stream text, part smallint, n bigint, seq bigint), one row per
stream and partition, created by the service's schema.sql.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import asyncpg

from chassis.kafka import partition_of as kafka_partition_of

#: How many partitions a partitioned table has: fixed for its lifetime (schema.sql creates the counter rows, and
#: this must equal the count there), a multiple of every topic partition count that should map without contention.
PARTITIONS = 12

#: Values of `seq` in partition p are p modulo STRIDE; STRIDE bounds PARTITIONS.
STRIDE = 64

assert PARTITIONS <= STRIDE
_ALL = range(PARTITIONS)


@lru_cache(maxsize=65_536)
def partition_of(key: str) -> int:
    """The partition of a key: Kafka's default partitioner's choice among `PARTITIONS` partitions."""
    return kafka_partition_of(key.encode(), _ALL)


def next_sequences(last: int, part: int, count: int, now_ms: int = 0) -> list[int]:
    """The `seq` of `count` rows appended to partition `part`, whose last `seq` was `last` (0 when none):
    increasing, past `last`, and, given `now_ms` (milliseconds since the epoch, the batch's time), not before
    `now_ms * STRIDE + part`, so that across partitions they follow the clock. A value set before ADR 0013 (a
    small gap-free number) is below the clock's."""
    first = max(last + STRIDE, now_ms * STRIDE + part)
    first += (part - first) % STRIDE  # the partition's residue (a legacy `last` may have another one)
    return [first + i * STRIDE for i in range(count)]


@dataclass(frozen=True, slots=True)
class Span:
    """The positions a batch took in one partition: n = first … last."""

    part: int
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class Placed:
    """Where one appended row goes: its partition, its gap-free `n` there, its `seq`."""

    part: int
    n: int
    seq: int


@dataclass(frozen=True, slots=True)
class PartitionedCounter:
    """The counter rows of one stream in a partitioned counter table (`table`, e.g. `evidence.partitions`)."""

    table: str
    stream: str

    async def lock(self, conn: asyncpg.Connection, keys: Sequence[str]) -> dict[int, tuple[int, int]]:
        """Lock the rows of the partitions of `keys` for the rest of the transaction, in partition order (two
        batches that share partitions queue on the first, never deadlock); returns each one's last (n, seq)."""
        parts = sorted({partition_of(k) for k in keys})
        rows = await conn.fetch(
            f"SELECT part, n, seq FROM {self.table} WHERE stream = $1 AND part = ANY($2::smallint[])"  # noqa: S608
            " ORDER BY part FOR UPDATE",
            self.stream, parts,
        )
        heads = {r["part"]: (r["n"], r["seq"]) for r in rows}
        if len(heads) != len(parts):
            missing = sorted(set(parts) - heads.keys())
            raise LookupError(f"partitions {missing} of {self.stream!r} missing in {self.table}")
        return heads

    async def place(
        self, conn: asyncpg.Connection, heads: dict[int, tuple[int, int]], rows: Sequence[tuple[str, int]],
    ) -> list[Placed]:
        """Where each row to append goes, given its key and its batch's time in milliseconds (0: no clock), in
        order; the partitions' rows (locked by `lock`) are moved past them."""
        by_part: dict[int, list[int]] = {}
        for i, (key, _) in enumerate(rows):
            by_part.setdefault(partition_of(key), []).append(i)
        placed: list[Placed] = [Placed(0, 0, 0)] * len(rows)
        moved = []
        for part, indices in by_part.items():
            n, last = heads[part]
            now_ms = max(rows[i][1] for i in indices)
            for k, (i, seq) in enumerate(zip(indices, next_sequences(last, part, len(indices), now_ms), strict=True)):
                placed[i] = Placed(part, n + 1 + k, seq)
            moved.append(placed[indices[-1]])
        await conn.execute(
            f"""UPDATE {self.table} AS p SET n = m.n, seq = m.seq
                FROM unnest($2::smallint[], $3::bigint[], $4::bigint[]) AS m (part, n, seq)
                WHERE p.stream = $1 AND p.part = m.part""",  # noqa: S608
            self.stream, [m.part for m in moved], [m.n for m in moved], [m.seq for m in moved],
        )
        return placed


def spans_of(placed: Sequence[Placed]) -> tuple[Span, ...]:
    """Where `place` put a batch, by partition: the first and last `n` in each."""
    firsts: dict[int, int] = {}
    lasts: dict[int, int] = {}
    for p in placed:
        firsts.setdefault(p.part, p.n)
        lasts[p.part] = p.n
    return tuple(Span(part, firsts[part], lasts[part]) for part in sorted(firsts))
