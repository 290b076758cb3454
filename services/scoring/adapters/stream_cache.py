"""Employees' parsed event streams, kept between batches so that the projector need not read back and parse an
employee's whole history each time one new event of theirs arrives (measured with bench/: reading and parsing
the stored history was the largest cost of a batch after the fold itself). An employee whose fold the
projector keeps (`services.scoring.app.fold_cache`) needs no stream at all; these tiers serve the others: the
fold not kept, or routing again (a unit-level event, an assignment, a new period).

The cache only ever answers with what the database holds: `ScoringTransaction.subjects_events` checks, per
employee, that the cached stream plus the events this transaction added has exactly as many events as
`scoring.events` holds for that employee (its row in `scoring.streams`, kept by the transactions that insert
them), and reads the stream back otherwise. The table is append-only and
events are immutable, so equal counts mean equal streams, whatever other instances did meanwhile (a rebalance).
Bounded by a number of events, least recently used first out, so memory stays flat however long the log grows.

Behind the parsed streams, a second tier keeps streams as the JSON bytes of their events (about 1 kB an event
against ≈ 2.5 kB parsed, measured with tracemalloc), bounded by bytes: an employee whose parsed stream gave way
is parsed again from memory (`Envelope.model_validate_json`, ≈ 5 µs an event) instead of being read back from
PostgreSQL (≈ 15 µs of the server's CPU and 15 of ours an event, measured with bench.stages at 100k events).
The same count check guards it: the projector uses a tier's stream only when it has as many events as the
table holds.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from contracts.envelope import Envelope


def stream_order(event: Envelope) -> tuple[int, int]:
    """The order `scoring.events` streams are read in: evidence sequence, then event id (as PostgreSQL sorts
    a uuid: by its 16 bytes, which is the order of its integer value)."""
    return (event.sequence or 0, event.event_id.int)


@dataclass(frozen=True, slots=True)
class RawStream:
    """A stream as the JSON bytes of its events, in stream order, with the order key of its last event."""

    values: tuple[bytes, ...]
    last: tuple[int, int]
    size: int

    @classmethod
    def of(cls, values: Sequence[bytes], last: tuple[int, int]) -> RawStream:
        return cls(tuple(values), last, sum(len(v) for v in values))

    def extended(self, values: Sequence[bytes], last: tuple[int, int]) -> RawStream:
        """This stream followed by `values` (all after it in stream order), the last of them at `last`."""
        return RawStream((*self.values, *values), last, self.size + sum(len(v) for v in values))


class StreamCache:
    """subject → its events in stream order, at most `max_events` parsed events in all (LRU), and behind them
    subject → its events as JSON bytes, at most `max_raw_bytes` in all (LRU)."""

    def __init__(self, max_events: int, max_raw_bytes: int = 0) -> None:
        self._max = max_events
        self._streams: OrderedDict[str, tuple[Envelope, ...]] = OrderedDict()
        self._events = 0
        self._max_raw = max_raw_bytes
        self._raw: OrderedDict[str, RawStream] = OrderedDict()
        self._raw_bytes = 0
        #: streams served so far, by where from: "parsed", "raw" (parsed again from bytes), "database"; and
        #: "folded": employees the projector appraised from its folds, their streams not needed
        self.served: dict[str, int] = {"folded": 0, "parsed": 0, "raw": 0, "database": 0}

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

    def get_raw(self, subject: str) -> RawStream | None:
        """The stream of `subject` as JSON bytes, if kept (marks it recently used)."""
        raw = self._raw.get(subject)
        if raw is not None:
            self._raw.move_to_end(subject)
        return raw

    def put_raw(self, subject: str, raw: RawStream) -> None:
        """Remember `subject`'s whole committed stream as JSON bytes, evicting the least recently used beyond
        the bound."""
        old = self._raw.pop(subject, None)
        self._raw_bytes -= old.size if old is not None else 0
        if raw.size > self._max_raw:
            return
        self._raw[subject] = raw
        self._raw_bytes += raw.size
        while self._raw_bytes > self._max_raw:
            _, evicted = self._raw.popitem(last=False)
            self._raw_bytes -= evicted.size

    @property
    def max_raw_bytes(self) -> int:
        """The bound of the JSON tier."""
        return self._max_raw

    @property
    def raw_bytes(self) -> int:
        """How many bytes of JSON the second tier holds."""
        return self._raw_bytes

    @property
    def max_events(self) -> int:
        """The bound."""
        return self._max

    @property
    def events(self) -> int:
        """How many events the cache holds."""
        return self._events
