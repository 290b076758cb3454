"""The projection use case: a batch of accepted evidence in, re-scored appraisals and score events out.

parse → drop what was seen (event_id) → store → for each touched employee: when what the last batch kept of
the employee (`FoldCache`) is the whole stored history (the store's count of the employee's events) and the new
events only extend his or her streams, fold just those onto it (`incremental.appraise_extension`: the history is
not read); otherwise read the history and appraise it again (`incremental.appraise_employee_folded`, reusing the
folds that still hold) → one transaction with the consumer's positions.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from pydantic import TypeAdapter, ValidationError

from chassis.kafka import Position
from contracts import events as ev
from contracts.canonical import canonical_bytes
from contracts.envelope import Envelope
from services.scoring.adapters.store import Poison, ScoringStore, StoredAppraisal
from services.scoring.app.fold_cache import FoldCache
from services.scoring.domain import Appraisal, Policy
from services.scoring.domain.context import context_for
from services.scoring.domain.incremental import Kept, appraise_employee_folded, appraise_extension

#: Score event ids derive from (NIP, period, basis hash): the same basis always announces the same event.
SCORE_NAMESPACE = uuid.UUID("b0c7f0e2-57a1-4d4c-9d0c-2f3f1c9e6a11")
SOURCE = "objektif.scoring"
#: Employees whose streams are read in one round trip: few enough that a batch touching thousands of employees
#: never holds all their histories in memory at once, many enough that the round trips stop mattering.
SUBJECTS_PER_READ = 200

log = structlog.get_logger()


#: Envelope timestamps in JSON as pydantic writes them (UTC as "Z"): the score event's occurred_at.
_TIMESTAMP: TypeAdapter[datetime] = TypeAdapter(datetime)


#: Stands for the payload while the envelope is dumped (`announce`); no other member can hold a NUL: ids, the NIP,
#: the period, a timestamp and constants.
_PAYLOAD = "\x00payload\x00"
_PAYLOAD_JSON = canonical_bytes(_PAYLOAD)


def score_event(result: Mapping[str, Any], occurred_at: datetime, correlation_id: str) -> tuple[uuid.UUID, bytes]:
    """The `score.computed` event announcing an appraisal (`result`: its `to_json()`), as its id and the exact
    bytes published and ledgered; deterministic (no clock: `occurred_at` is the latest time of the events of its
    stream, in stream order the first of equal instants; `correlation_id` the id of the stream's last event), so
    a replay produces the identical event.

    Written as canonical JSON directly: the bytes `Envelope(payload=ScoreComputed(...))` dumps with
    `exclude_none` (a test compares both over the demo data), without validating again what the scoring core
    built, which cost more than the appraisal itself."""
    event_id, announcement, _result_at = announce(result, occurred_at, correlation_id)
    return event_id, announcement


def announce(
    result: Mapping[str, Any], occurred_at: datetime, correlation_id: str
) -> tuple[uuid.UUID, bytes, tuple[int, int]]:
    """`score_event`, and where in its bytes the result's own canonical JSON lies (the read model's row takes
    that slice): the result is serialised once, and the event's bytes are built around it (canonical JSON sorts
    nested members too, so the result's bytes inside the event are exactly its own)."""
    event_id = uuid.uuid5(SCORE_NAMESPACE, f"{result['nip']}|{result['period']}|{result['basis_hash']}")
    policy = result["policy"]
    result_json = canonical_bytes(result)
    payload = b"".join((
        b'{"basis_event_ids":', canonical_bytes(result["basis_event_ids"]),
        b',"basis_hash":', canonical_bytes(result["basis_hash"]),
        b',"policy":', canonical_bytes(policy["id"] if isinstance(policy, dict) else str(policy)),
        b',"result":', result_json, b"}",
    ))
    envelope = {
        "event_id": str(event_id),
        "type": ev.ScoreComputed.TYPE,
        "schema_version": 1,
        "occurred_at": _TIMESTAMP.dump_python(occurred_at, mode="json"),
        "source": SOURCE,
        "subject": result["nip"],
        "period": result["period"],
        "payload": _PAYLOAD,
        "correlation_id": correlation_id,
    }
    head = canonical_bytes(envelope)
    if head.count(_PAYLOAD_JSON) != 1:  # cannot happen (see _PAYLOAD); refuse rather than announce wrong bytes
        raise ValueError(f"a score event's members hold the payload's stand-in: {head!r}")
    end = head.index(_PAYLOAD_JSON) + len(payload) - 1  # the result ends where the payload's closing brace begins
    return event_id, head.replace(_PAYLOAD_JSON, payload), (end - len(result_json), end)


@dataclass(frozen=True, slots=True)
class Announced:
    """What a stream's appraisal was announced as: kept so that an unchanged appraisal is not written again and
    a stream that only grew is announced from what it was plus what it gained. `occurred_at` is the latest
    time of the stream's events, `last_event_id` the id of its last (the score event's correlation id)."""

    appraisal: Appraisal
    occurred_at: datetime
    last_event_id: str
    stored: StoredAppraisal


#: Streams appraised: ((nip, period), its events (all, or only those gained since what was announced), appraisal).
Appraised = tuple[tuple[tuple[str, str], tuple[Envelope, ...], Appraisal], ...]


#: What appraising one employee leaves for the fold cache once the batch commits: NIP, what to keep of the
#: appraisal, and what each of his or her streams is announced as.
_ToKeep = tuple[str, Kept, dict[tuple[str, str], Announced]]


class Projector:
    """Folds batches of evidence into the read model."""

    def __init__(
        self,
        store: ScoringStore,
        policies: Mapping[str, Policy],
        folds: FoldCache[Announced] | None = None,
    ) -> None:
        self._store = store
        self._policies = policies
        self._folds = folds if folds is not None else FoldCache()

    async def handle(self, records: Sequence[object], positions: Sequence[Position]) -> int:
        """Project one batch of ConsumerRecords; returns how many appraisals changed."""
        self._folds.begin_batch()
        events, poison, raws = [], [], {}
        for r in records:
            try:
                event = Envelope.model_validate_json(r.value or b"")  # type: ignore[attr-defined]
                events.append(event)
                raws[event.event_id] = r.value  # type: ignore[attr-defined]
            except ValidationError as exc:
                poison.append(Poison(r.topic, r.partition, r.offset, str(exc)[:2000], r.value or b""))  # type: ignore[attr-defined]
        async with self._store.transaction() as tx:
            fresh = await tx.unseen(events)
            await tx.add_events(fresh, raws)
            touched = await tx.employees_touched_by(fresh)
            context = await tx.context_events()
            keep: list[_ToKeep] = []  # for the fold cache, once committed
            ordered = sorted(touched)
            for start in range(0, len(ordered), SUBJECTS_PER_READ):
                group = ordered[start : start + SUBJECTS_PER_READ]
                counts = await tx.stream_counts(group)
                unread: dict[str, tuple[Kept | None, Mapping[tuple[str, str], Announced]]] = {}
                folded = []
                for nip in group:
                    kept, announced = self._folds.get(nip)
                    extended = self._extended(nip, kept, announced, tx.added(nip), counts.get(nip, 0), context)
                    if extended is None:
                        unread[nip] = kept, announced
                    else:
                        keep.append(extended)
                        folded.append(nip)
                tx.served_folded(folded, counts)
                if unread:
                    streams = await tx.subjects_events(list(unread), counts)
                    keep.extend(self._appraise_employee(nip, *unread[nip], streams[nip], context) for nip in unread)
            changed = await tx.save(a.stored for _nip, _kept, now in keep for a in now.values())
            await tx.poison(poison)
            await tx.positions(positions)
        for nip, kept, now in keep:  # what a rolled-back batch appraised is never kept
            self._folds.put(nip, kept, now)
        if poison:
            log.error("evidence.poison", count=len(poison), first=poison[0].reason[:200])
        return changed

    def _extended(
        self, nip: str, kept: Kept | None, announced: Mapping[tuple[str, str], Announced],
        new: Sequence[Envelope], count: int, context: Sequence[Envelope],
    ) -> _ToKeep | None:
        """The employee's appraisals from what was kept and his or her `new` events alone, when what was kept
        is the whole stored history (`count` events with the new ones), routed with this very `context`, and
        the new events only extend its streams; else None (the history must be read)."""
        if kept is None or kept.context is not context or kept.own + len(new) != count:
            return None
        if any(key not in announced for key in kept.folded):
            return None
        extension = appraise_extension(kept, new, self._policies)
        if extension is None:
            return None
        appraised, kept = extension
        return self._announce(nip, appraised, kept, announced, gained=True)

    def _appraise_employee(
        self, nip: str, kept: Kept | None, announced: Mapping[tuple[str, str], Announced],
        own: Sequence[Envelope], context: Sequence[Envelope],
    ) -> _ToKeep:
        """Every appraisal of one employee, routed exactly as `score_stream` routes a whole log (so the read
        model always equals a replay), redoing only the folds the events new since the employee's last batch
        change (`FoldCache`): an appraisal that is the very one announced last time keeps its row and score
        event."""
        appraised, kept = appraise_employee_folded(
            [*own, *context_for(own, context)] if context else own, nip, self._policies, kept, context=context
        )
        return self._announce(nip, appraised, kept, announced, gained=False)

    def _announce(
        self, nip: str, appraised: Appraised, kept: Kept, announced: Mapping[tuple[str, str], Announced], *,
        gained: bool,
    ) -> _ToKeep:
        """Each stream's announcement (its row and score event: a new one where the appraisal changed), to be
        kept with `kept` for the next batch once the batch commits. The events of `appraised` are each
        stream's whole stream, or (`gained`) only those it gained since what was announced."""
        now: dict[tuple[str, str], Announced] = {}
        for key, events, appraisal in appraised:
            before = announced.get(key)
            if before is not None and before.appraisal is appraisal:
                now[key] = before
                continue
            # the latest time and sequence of the stream's events, and its last event: of those given and, when
            # they are only what it gained, of what it had
            had = before if gained else None
            occurred_at = max([*((had.occurred_at,) if had else ()), *(e.occurred_at for e in events)])
            upto = max([had.stored.upto_sequence if had else 0, *(e.sequence or 0 for e in events)])
            last = str(events[-1].event_id) if events else had.last_event_id  # type: ignore[union-attr]
            result = appraisal.to_json()
            event_id, announcement, result_at = announce(result, occurred_at, last)
            now[key] = Announced(appraisal, occurred_at, last, StoredAppraisal(
                nip=nip, period=key[1], unit_id=result.get("unit_id"), result_at=result_at,
                basis_hash=result["basis_hash"], score_event_id=event_id, score_bytes=announcement,
                upto_sequence=upto,
            ))
        return nip, kept, now
