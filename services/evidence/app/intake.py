"""The intake use case: a batch of raw submissions in, one accepted or one rejected event out for each.

parse → decide (pure gate, services/evidence/domain) → one transaction (events, rejections, positions) → outbox.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

import orjson
import structlog

from chassis.kafka import Position
from contracts import events as ev
from contracts.canonical import sha256_hex
from contracts.envelope import PERIOD_PATTERN, Envelope
from services.evidence.adapters.store import BatchOutcome, RejectionRow, Tailed
from services.evidence.app.verify_ahead import VerifyAhead
from services.evidence.domain import (
    Accepted,
    Decision,
    Duplicate,
    IntakeState,
    Rejected,
    SeenEvent,
    decide_screened,
    evolve,
    screen,
)
from services.evidence.domain.parse import Unparsed
from services.evidence.domain.reasons import Code
from services.evidence.domain.state import STATE_TYPES

#: Rejection ids are derived from the refused bytes: the same bytes delivered twice are refused once.
REJECTION_NAMESPACE = uuid.UUID("6f1d3c52-8a4e-4b8e-9a59-0b7d51e0a7c1")

log = structlog.get_logger()


class Store(Protocol):
    """The port the intake needs from its store."""

    async def events_after(self, after: Mapping[int, int], limit: int = ...,
                           types: Collection[str] | None = ...) -> list[Tailed]: ...

    async def append_batch(
        self, accepted: Sequence[tuple[Envelope, bytes]], rejected: Sequence[RejectionRow],
        positions: Sequence[Position],
    ) -> BatchOutcome: ...

    async def sequences_of(self, event_ids: Sequence[UUID]) -> dict[UUID, int]: ...

    async def accepted_among(self, event_ids: Sequence[UUID]) -> dict[UUID, SeenEvent]: ...


class DataKeyDirectory(Protocol):
    """The port the intake needs from the persons' data keys (ADR 0010, adapters/pdp_keys.py)."""

    async def current_kids(self, nips: Iterable[str]) -> dict[str, frozenset[str]]: ...


@dataclass(frozen=True, slots=True)
class Answer:
    """What became of one submission, for a caller that waits for it (HTTP intake): `accepted` or `duplicate`
    (an event id accepted before: the first acceptance stands) with the stored event's sequence, or `rejected`
    with the reasons."""

    status: Literal["accepted", "duplicate", "rejected"]
    event_id: UUID | None
    sequence: int | None = None
    reasons: tuple[ev.RejectionReason, ...] = ()


class Intake:
    """Holds the gate's state, kept in step with the store, and runs batches through it."""

    def __init__(self, store: Store, state: IntakeState, clock: Callable[[], datetime], *,
                 data_keys: DataKeyDirectory, verify: VerifyAhead | None = None) -> None:
        self._store = store
        #: where singly signed submissions' signatures are checked ahead of the gate (None: by the gate itself)
        self._verify = verify
        self._data_keys = data_keys
        self._state = state
        self._clock = clock
        #: per store partition, the last position folded into the state (ADR 0013)
        self._seen_upto: dict[int, int] = {}
        # One Intake is the service's single writer; Kafka batches and HTTP requests run on the same event loop,
        # and the gate's state must never be decided by two of them at once (a revocation in one batch must
        # count for the next), so each batch holds this lock from catch-up to commit.
        self._lock = asyncio.Lock()
        #: refusals decided by this instance so far, by reason code (read by the service's metrics)
        self.rejected_by_code: Counter[str] = Counter()

    async def catch_up(self) -> None:
        """Fold every event accepted since we last looked (by any instance) into the gate's state: the bytes of
        only those whose type changes it (`STATE_TYPES`), the others counted as read."""
        while True:
            rows = await self._store.events_after(self._seen_upto, types=STATE_TYPES)
            if not rows:
                return
            state = self._state
            for row in rows:
                if row.value is not None:
                    state = evolve(state, Envelope.model_validate_json(row.value))
                self._seen_upto[row.part] = row.n
            self._state = state

    async def current_state(self) -> IntakeState:
        """The gate's state with every event accepted so far (by any instance) folded in: what a reader such as
        `GET /sources/{source_id}` should see right after a registration or revocation was accepted."""
        async with self._lock:
            await self.catch_up()
            return self._state

    async def handle(self, raws: Sequence[bytes], positions: Sequence[Position], received_from: str,
                     refused: Mapping[int, Unparsed] | None = None) -> BatchOutcome:
        """Decide a batch and store every decision with the consumer positions, in one transaction.

        `refused` holds, by index, submissions already refused before the gate (a CloudEvent that frames no
        envelope, adapters/kafka_framing.py): they are recorded as rejections with those reasons and their bytes.
        """
        async with self._lock:
            _, outcome = await self._decide_and_store(raws, positions, received_from, refused)
        return outcome

    async def answer(self, raws: Sequence[bytes], received_from: str | Sequence[str]) -> tuple[Answer, ...]:
        """Decide and store submissions that arrived with no consumer position (HTTP), exactly as `handle` does,
        and say what became of each, in order. `received_from` names where all came from, or each."""
        async with self._lock:
            decisions, outcome = await self._decide_and_store(raws, (), received_from)
        stored = {e.event_id: e.sequence for e in outcome.accepted if e.sequence is not None}
        earlier = [
            d.event_id if isinstance(d, Duplicate) else d.envelope.event_id
            for d in decisions
            if isinstance(d, Duplicate) or (isinstance(d, Accepted) and d.envelope.event_id not in stored)
        ]
        sequences = {**(await self._store.sequences_of(earlier) if earlier else {}), **stored}
        answers: list[Answer] = []
        first: set[UUID] = set()
        for d in decisions:
            if isinstance(d, Rejected):
                answers.append(Answer("rejected", d.event_id, None, d.reasons))
                continue
            event_id = d.event_id if isinstance(d, Duplicate) else d.envelope.event_id
            fresh = isinstance(d, Accepted) and event_id in stored and event_id not in first
            first.add(event_id)
            answers.append(Answer("accepted" if fresh else "duplicate", event_id, sequences.get(event_id)))
        return tuple(answers)

    async def _decide_and_store(
        self, raws: Sequence[bytes], positions: Sequence[Position], received_from: str | Sequence[str],
        refused: Mapping[int, Unparsed] | None = None,
    ) -> tuple[tuple[Decision, ...], BatchOutcome]:
        await self.catch_up()
        screened = screen(raws)
        if refused:
            screened = replace(screened, parsed=tuple(refused.get(i, p) for i, p in enumerate(screened.parsed)))
        # the signatures are checked in threads while the reads below wait on the database
        ahead = self._verify.start(screened.parsed, self._state) if self._verify is not None else None
        try:
            references = screened.references()
            known = await self._store.accepted_among(list(references)) if references else {}
            subjects = screened.pdp_subjects()
            sealed_to = await self._data_keys.current_kids(subjects) if subjects else {}
            verified = await VerifyAhead.verdicts(ahead)
        except BaseException:
            if ahead is not None:
                ahead.cancel()
            raise
        received_at = self._clock()
        one = received_from if isinstance(received_from, str) else ""
        decisions, after = decide_screened(screened, self._state, known, received_at=received_at, received_from=one,
                                           sealed_to=sealed_to, verified=verified)
        if not isinstance(received_from, str):  # one origin per submission (HTTP requests decided together)
            decisions = tuple(
                replace(d, received_from=origin) if isinstance(d, Rejected) else d
                for d, origin in zip(decisions, received_from, strict=True)
            )
        accepted = [(d.envelope, d.original) for d in decisions if isinstance(d, Accepted)]
        rejected = [
            rejection_row(d, received_at, d.received_from) for d in decisions if isinstance(d, Rejected)
        ]
        outcome = await self._store.append_batch(accepted, rejected, positions)
        for d in decisions:
            if isinstance(d, Rejected):
                log.info("submission.rejected", event_id=str(d.event_id), codes=[r.code for r in d.reasons])
                self.rejected_by_code.update(r.code for r in d.reasons)
            elif isinstance(d, Duplicate):
                log.info("submission.duplicate", event_id=str(d.event_id))
        # No catch-up here: the next batch (or `current_state`) begins with one, and a trailing one cost two round
        # trips per batch (the read, and the pool's release), a large share of a live batch of a few records.
        self._advance(after, outcome)
        return decisions, outcome

    def _advance(self, after: IntakeState, outcome: BatchOutcome) -> None:
        """Take the state the gate evolved while deciding when the store holds exactly that: every event accepted
        here was stored, in each partition right after the last one this instance had folded there (a
        partition's row lock orders its writers, so a span that starts there means no other writer came between).
        Events other instances stored meanwhile in other partitions are folded by the next `catch_up`:
        their order relative to this batch's is the partitions', which the gate's state does not depend on
        (ADR 0013). Otherwise `catch_up` re-reads the store, as it always may: this only spares reading back and
        re-parsing our own batch."""
        if outcome.spans and not outcome.duplicates and all(
            s.first == self._seen_upto.get(s.part, 0) + 1 for s in outcome.spans
        ):
            self._state = after
            self._seen_upto.update((s.part, s.last) for s in outcome.spans)


def rejection_row(decision: Rejected, received_at: datetime, received_from: str) -> RejectionRow:
    """The `submission.rejected` event for a refusal: reasons, and the original bytes, base64 — except that a
    submission refused for plaintext in a personal field (`pdp.not_sealed`) is kept with those fields' values
    replaced by their SHA-256 (`redacted:sha256:<hex>`): recording the refusal must not store the very personal
    data the refusal keeps out (ADR 0010). Its event id still derives from the bytes received."""
    subject, period = _best_effort_subject(decision.original, received_at)
    kept = decision.original
    if any(r.code == Code.PDP_NOT_SEALED for r in decision.reasons):
        kept = redacted(decision.original)
    payload = ev.SubmissionRejected(
        submission_event_id=decision.event_id,
        reasons=decision.reasons,
        original_b64=_b64(kept),
        received_from=received_from,
        received_at=received_at,
    )
    envelope = Envelope(
        event_id=uuid.uuid5(REJECTION_NAMESPACE, sha256_hex(decision.original)),
        type=ev.SubmissionRejected.TYPE,
        occurred_at=received_at,
        recorded_at=received_at,
        source="objektif.evidence",
        subject=subject,
        period=period,
        payload=payload.model_dump(mode="json"),
    )
    return RejectionRow(envelope, decision.event_id, tuple(r.code for r in decision.reasons))


def redacted(original: bytes) -> bytes:
    """The submission with each personal field's plaintext replaced by `redacted:sha256:<hex of its UTF-8>`."""
    from contracts import pdp

    try:
        doc = orjson.loads(original)
    except orjson.JSONDecodeError:  # refused before the gate read a field: nothing personal was read from it
        return original
    payload = doc.get("payload") if isinstance(doc, dict) else None
    if isinstance(payload, dict):
        for _path, value, put in list(pdp.personal_values(str(doc.get("type", "")), payload)):
            if isinstance(value, str) and not pdp.is_sealed(value):
                put("redacted:sha256:" + sha256_hex(value.encode()))
    return orjson.dumps(doc)


def _best_effort_subject(original: bytes, received_at: datetime) -> tuple[str, str]:
    """Key the rejection by the submission's subject and period when they can be read, so that it reaches the
    same partition as the employee's other events; otherwise by "unknown" and the year it arrived."""
    import re

    subject, period = "unknown", str(received_at.year)
    try:
        doc = orjson.loads(original) if len(original) < 1_000_000 else None
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict):
        s, p = doc.get("subject"), doc.get("period")
        if isinstance(s, str) and 0 < len(s) <= 64:
            subject = s
        if isinstance(p, str) and re.match(PERIOD_PATTERN, p):
            period = p
    return subject, period


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()
