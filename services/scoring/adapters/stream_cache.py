"""Employees' parsed event streams, kept between batches so that the projector need not read back and parse an
employee's whole history each time one new event of theirs arrives (measured with bench/: reading and parsing
the stored history was the largest cost of a batch after the fold itself).

The cache only ever answers with what the database holds: `ScoringTransaction.subjects_events` checks, per
employee, that the cached stream plus the events this transaction added has exactly as many events as
`scoring.events` holds for that employee, and reads the stream back otherwise. The table is append-only and
events are immutable, so equal counts mean equal streams, whatever other instances did meanwhile (a rebalance).
Bounded by a number of events, least recently used first out, so memory stays flat however long the log grows.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from contracts.envelope import Envelope


def stream_order(event: Envelope) -> tuple[int, int]:
    """The order `scoring.events` streams are read in: evidence sequence, then event id (as PostgreSQL sorts
    a uuid: by its 16 bytes, which is the order of its integer value)."""
    return (event.sequence or 0, event.event_id.int)


class StreamCache:
    """subject → its events in stream order, at most `max_events` events in all (LRU)."""

    def __init__(self, max_events: int) -> None:
        self._max = max_events
        self._streams: OrderedDict[str, tuple[Envelope, ...]] = OrderedDict()
        self._events = 0

    def get(self, subject: str) -> tuple[Envelope, ...] | None:
        """The cached stream of `subject`, if any (marks it recently used)."""
        stream = self._streams.get(subject)
        if stream is not None:
            self._streams.move_to_end(subject)
        return stream

    def put(self, subject: str, stream: Sequence[Envelope]) -> None:
        """Remember `subject`'s whole committed stream, evicting the least recently used beyond the bound."""
        old = self._streams.pop(subject, None)
        self._events -= len(old) if old is not None else 0
        if len(stream) > self._max:
            return
        self._streams[subject] = tuple(stream)
        self._events += len(stream)
        while self._events > self._max:
            _, evicted = self._streams.popitem(last=False)
            self._events -= len(evicted)

    @property
    def max_events(self) -> int:
        """The bound."""
        return self._max

    @property
    def events(self) -> int:
        """How many events the cache holds."""
        return self._events
