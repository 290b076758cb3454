"""A scoring transaction's reads of employees' streams and of the unit-level events routed into them: the base
of `ScoringTransaction` (store.py, which adds the writes). A stream comes from the cache (`stream_cache`) when,
with the events the transaction added, it has as many events as the table holds, else from the database in one
round trip; the streams read are staged for the cache, which takes them once the transaction commits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from uuid import UUID

import asyncpg

from contracts.envelope import NIP_PATTERN, Envelope
from services.scoring.adapters.stream_cache import RawStream, StreamCache, stream_order
from services.scoring.domain.stream import CONTEXT_TYPES

#: `ScoringTransaction._added_raw` of a subject one of whose added events came without its bytes.
UNKNOWN_BYTES: list[tuple[tuple[int, int], bytes]] = []


def _merged(cached: Sequence[Envelope], added: Sequence[Envelope]) -> list[Envelope]:
    """A cached stream (in stream order) with the events a transaction added, in stream order: appended when
    they all come after it (new evidence usually does), else sorted in."""
    if not added:
        return list(cached)
    added = sorted(added, key=stream_order)
    if not cached or stream_order(cached[-1]) < stream_order(added[0]):
        return [*cached, *added]
    return sorted([*cached, *added], key=stream_order)


class ContextEvents:
    """The unit-level events that route into employees' streams, parsed once (they are few: per unit and
    period), and the list of them last served: the same list object for as long as the table lists the same
    events, so that what was routed with it can tell (`incremental.Kept.context`) that nothing changed."""

    def __init__(self) -> None:
        self._parsed: dict[UUID, Envelope] = {}
        self._ids: list[UUID] = []
        self._served: list[Envelope] = []

    def served(self, ids: list[UUID]) -> list[Envelope]:
        """The events of `ids` (all parsed already), as the last list served when the ids are the same."""
        if ids != self._ids:
            self._ids, self._served = ids, [self._parsed[i] for i in ids]
        return self._served

    def missing(self, ids: Iterable[UUID]) -> list[UUID]:
        return [i for i in ids if i not in self._parsed]

    def parsed(self, event_id: UUID, event: Envelope) -> None:
        self._parsed[event_id] = event


class StreamReads:
    """The reads of employees' streams and of the context events within a `ScoringTransaction`, and the state
    they keep: what the transaction added (`ScoringTransaction.add_events` records it) and the streams it read,
    staged for the cache until it commits (`ScoringTransaction.__aexit__`)."""

    conn: asyncpg.Connection  # the transaction's connection (`ScoringTransaction.__aenter__`)

    def __init__(self, cache: StreamCache, context: ContextEvents) -> None:
        self._cache = cache
        self._context = context
        self._added: dict[str, list[Envelope]] = {}  # events this transaction inserted, by subject
        #: their JSON bytes, by subject, in stream order; a subject is absent when one of them came without
        self._added_raw: dict[str, list[tuple[tuple[int, int], bytes]]] = {}
        self._read: dict[str, tuple[Envelope, ...]] = {}  # streams this transaction read: cached once committed
        self._read_raw: dict[str, RawStream] = {}  # and as JSON bytes, where known
        self._staged = 0
        self._staged_raw = 0
        self._counts: dict[str, int] = {}  # subject -> its events in the table, as this transaction's upsert left it

    def _raw_with_added(self, subject: str, raw: RawStream | None, count: int) -> RawStream | None:
        """The kept JSON stream of `subject` followed by what this transaction added, when that is the whole
        stream (`count` events) in stream order; else None."""
        added = self._added_raw.get(subject, [])
        if raw is None or added is UNKNOWN_BYTES or len(raw.values) + len(added) != count:
            return None
        if not added:
            return raw
        added = sorted(added)
        if added[0][0] <= raw.last:
            return None
        return raw.extended([v for _k, v in added], added[-1][0])

    async def subject_events(self, subject: str) -> list[Envelope]:
        """Every stored event of one subject (all periods), in evidence-sequence order."""
        rows = await self.conn.fetch(
            "SELECT body FROM scoring.events WHERE subject = $1 ORDER BY sequence, event_id", subject
        )
        return [Envelope.model_validate(r["body"]) for r in rows]

    async def stream_counts(self, subjects: Sequence[str]) -> dict[str, int]:
        """How many events the table holds of each subject (`scoring.streams`, this transaction's included); a
        subject with none is absent."""
        counts = {s: self._counts[s] for s in subjects if s in self._counts}  # what add_events upserted
        if unknown := [s for s in subjects if s not in self._counts]:
            counts.update(
                (r["subject"], r["events"])
                for r in await self.conn.fetch(
                    "SELECT subject, events FROM scoring.streams WHERE subject = ANY($1::text[])", unknown
                )
            )
        return counts

    def added(self, subject: str) -> list[Envelope]:
        """The events of `subject` this transaction stored, in stream order."""
        return sorted(self._added.get(subject, []), key=stream_order)

    def served_folded(self, subjects: Sequence[str], counts: Mapping[str, int]) -> None:
        """`subjects` were appraised from what the projector kept, without their streams: count them, and keep
        their cached streams up to date with the events this transaction added where they still are the whole
        stream (`counts` events), so that they serve whoever must be read again later (a unit-level event
        re-routes everyone in its period; a fold gives way)."""
        self._cache.served["folded"] += len(subjects)
        for s in subjects:
            count, cached, added = counts.get(s, 0), self._cache.get(s), self._added.get(s, [])
            stream = _merged(cached, added) if cached is not None and len(cached) + len(added) == count else None
            self._stage(s, stream, self._raw_with_added(s, self._cache.get_raw(s), count))

    def _stage(self, subject: str, stream: Sequence[Envelope] | None, raw: RawStream | None) -> None:
        """Stage a stream, parsed and as JSON bytes, for the cache once committed, up to the cache's bounds (so
        a batch's working set stays bounded too)."""
        if stream is not None and self._staged + len(stream) <= self._cache.max_events:
            self._read[subject] = tuple(stream)
            self._staged += len(stream)
        if raw is not None and self._staged_raw + raw.size <= self._cache.max_raw_bytes:
            self._read_raw[subject] = raw
            self._staged_raw += raw.size

    async def subjects_events(
        self, subjects: Sequence[str], counts: Mapping[str, int] | None = None
    ) -> dict[str, list[Envelope]]:
        """`subject_events` of several subjects: subject → its events in sequence order. A stream cached by an
        earlier batch is used when, with the events this transaction added, it has as many events as the table
        holds for that subject (`counts`, read when not given: `stream_counts`, see `stream_cache`); the others
        are read in one round trip."""
        if counts is None:
            counts = await self.stream_counts(subjects)
        streams: dict[str, list[Envelope]] = {}
        raws: dict[str, RawStream] = {}
        missing, hits = [], 0
        for s in subjects:
            cached, added, count = self._cache.get(s), self._added.get(s, []), counts.get(s, 0)
            kept_raw = self._cache.get_raw(s)
            if cached is not None and len(cached) + len(added) == count:
                streams[s] = _merged(cached, added)
                hits += 1
                if (raw := self._raw_with_added(s, kept_raw, count)) is not None:
                    raws[s] = raw
            elif (raw := self._raw_with_added(s, kept_raw, count)) is not None:
                # parsed again from memory; the events this transaction added (all after them) are used as they are
                kept = kept_raw.values if kept_raw is not None else ()
                streams[s] = [*(Envelope.model_validate_json(v) for v in kept), *sorted(added, key=stream_order)]
                raws[s] = raw
            else:
                missing.append(s)
        if missing:
            read: dict[str, list[bytes]] = {}
            for s in missing:
                streams[s], read[s] = [], []
            rows = await self.conn.fetch(
                "SELECT subject, body::text AS body FROM scoring.events WHERE subject = ANY($1::text[])"
                " ORDER BY subject, sequence, event_id",
                missing,
            )
            for r in rows:
                streams[r["subject"]].append(Envelope.model_validate_json(r["body"]))
                read[r["subject"]].append(r["body"].encode())
            for s in missing:
                if streams[s]:
                    raws[s] = RawStream.of(read[s], stream_order(streams[s][-1]))
        self._cache.served["database"] += len(missing)
        self._cache.served["raw"] += len(subjects) - len(missing) - hits
        self._cache.served["parsed"] += hits
        for s in subjects:
            self._stage(s, streams[s], raws.get(s))
        return streams

    async def context_events(self) -> list[Envelope]:
        """The unit-level events that route into employees' streams (`services.scoring.domain.stream.route`):
        policy adoptions for "*" or a unit, positions (who leads a unit), and units' predicates (§1.3: a leader
        takes the unit's performance). They are few: one per unit and period, not per employee. The same list
        object as the last batch's while they are the same events (`ContextEvents`): do not change it."""
        ids = [
            r["event_id"]
            for r in await self.conn.fetch(
                "SELECT event_id FROM scoring.events WHERE type = ANY($1::text[]) AND subject !~ $2 ORDER BY sequence",
                list(CONTEXT_TYPES), NIP_PATTERN,
            )
        ]
        if missing := self._context.missing(ids):  # parsed once, not on every batch
            for r in await self.conn.fetch(
                "SELECT event_id, body FROM scoring.events WHERE event_id = ANY($1::uuid[])", missing
            ):
                self._context.parsed(r["event_id"], Envelope.model_validate(r["body"]))
        return self._context.served(ids)
