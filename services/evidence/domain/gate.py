"""The gate: every submission ends as exactly one Accepted, Rejected or Duplicate (issue 6, ARCHITECTURE.md).

Pure: the clock (`received_at`) and the transport (`received_from`) arrive as arguments, the state as a value.
The order of checks is cheapest first: structure (parse), duplicate, subject consistency, signature (the
costly step), supersession, authorisation.

Which event ids were accepted before is not part of the state (it would grow with the log): a batch is first
screened (`screen`), its caller looks up the ids it names (`Screened.references`, one query to the store's
unique index) and hands them to `decide_screened` as `known`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from contracts import events as ev
from contracts.envelope import Envelope
from services.evidence.domain.authenticate import BatchMemo, SingleCheck, authenticate
from services.evidence.domain.authorise import authorise, supersession
from services.evidence.domain.parse import Parsed, Unparsed, parse
from services.evidence.domain.sealing import NO_KEYS, SealedTo, check_sealed, needs_keys
from services.evidence.domain.stamp import recorded
from services.evidence.domain.state import IntakeState, SeenEvent, evolve_parsed

#: Default request size limit (also the HTTP intake's). Every event is a leaf of the audit ledger, which is served
#: as c2sp.org/tlog-tiles whose entry bundles prefix each entry with a uint16 length: at most 65,535 bytes. 32 KiB
#: keeps the largest event under it: an accepted event is the submission plus two members, and a rejection carries
#: at most these bytes in base64 (4/3 of them) beside at most `parse.MAX_SCHEMA_REASONS` reasons
#: (tests/unit/evidence/test_gate_sizes.py). A realisation, a rating or an objection is well under 4 KiB.
MAX_BYTES = 32 * 1024


@dataclass(frozen=True)
class Accepted:
    """An authentic, authorised, valid submission; `recorded_at` is set, `sequence` is left to the store.

    `original` is the exact bytes received: keep them, since the signature covers the submitted JSON, which
    the envelope re-serialised need not reproduce byte for byte (docs/signing.md). `payload` is the typed
    payload, upcast to the current version (the envelope keeps the payload as submitted).
    """

    envelope: Envelope
    original: bytes
    payload: ev.Payload


@dataclass(frozen=True)
class Rejected:
    """A refused submission, with every reason found at the failing stage and the exact bytes received.

    For an oversize submission `original` is its first `max_bytes` bytes (the reason states the full size), so
    a rejection event never carries more than intake would have accepted.
    """

    event_id: UUID | None
    reasons: tuple[ev.RejectionReason, ...]
    original: bytes
    received_at: datetime
    received_from: str

    def to_payload(self) -> ev.SubmissionRejected:
        """The `submission.rejected` payload for `objektif.rejections.v1`."""
        return ev.SubmissionRejected(
            submission_event_id=self.event_id,
            reasons=self.reasons,
            original_b64=base64.b64encode(self.original).decode("ascii"),
            received_from=self.received_from,
            received_at=self.received_at,
        )


@dataclass(frozen=True)
class Duplicate:
    """An event id already accepted: answered idempotently, neither accepted again nor rejected."""

    event_id: UUID


Decision = Accepted | Rejected | Duplicate

#: Accepted events by id, as far as the checks need them (the store's answer for the ids a batch names).
Known = Mapping[UUID, SeenEvent]
_NONE_KNOWN: Known = {}


@dataclass(frozen=True)
class Screened:
    """A batch parsed, before any decision: what `decide_screened` needs, and which ids it will ask about."""

    raws: tuple[bytes, ...]
    parsed: tuple[Parsed | Unparsed, ...]
    max_bytes: int

    def references(self) -> set[UUID]:
        """The accepted event ids the decisions may depend on: each submission's own (a duplicate) and the one
        it supersedes. Unparsed submissions name none: they are refused before either check."""
        ids: set[UUID] = set()
        for p in self.parsed:
            if isinstance(p, Parsed):
                ids.add(p.envelope.event_id)
                if p.envelope.supersedes is not None:
                    ids.add(p.envelope.supersedes)
        return ids

    def pdp_subjects(self) -> set[str]:
        """The NIPs whose current data keys the decisions need: subjects of submissions with a personal field."""
        return {n for p in self.parsed if isinstance(p, Parsed) and (n := needs_keys(p.envelope)) is not None}


def screen(raws: Sequence[bytes], *, max_bytes: int = MAX_BYTES) -> Screened:
    """Parse every submission of a batch (structure only: nothing here depends on the state)."""
    return Screened(tuple(raws), tuple(parse(raw, max_bytes=max_bytes) for raw in raws), max_bytes)


def _require_aware(received_at: datetime) -> None:
    if received_at.utcoffset() is None:
        raise ValueError("received_at must carry a UTC offset")


def _decide(
    raw: bytes,
    parsed: Parsed | Unparsed,
    state: IntakeState,
    known: Known,
    received_at: datetime,
    received_from: str,
    max_bytes: int,
    memo: BatchMemo,
    sealed_to: SealedTo,
) -> Decision:
    if isinstance(parsed, Unparsed):
        if len(raw) > max_bytes:
            return Rejected(None, parsed.reasons, raw[:max_bytes], received_at, received_from)
        return Rejected(parsed.event_id, parsed.reasons, raw, received_at, received_from)
    envelope = parsed.envelope
    if envelope.event_id in known:
        return Duplicate(envelope.event_id)
    reasons = (
        check_sealed(envelope, sealed_to)
        or authenticate(parsed, state, received_at, memo)
        or supersession(envelope, known)
        or authorise(envelope, parsed.payload, state, received_at)
    )
    if reasons:
        return Rejected(envelope.event_id, reasons, raw, received_at, received_from)
    return Accepted(recorded(envelope, received_at), raw, parsed.payload)


def decide(
    raw: bytes,
    state: IntakeState,
    *,
    received_at: datetime,
    received_from: str,
    max_bytes: int = MAX_BYTES,
    known: Known = _NONE_KNOWN,
    sealed_to: SealedTo = NO_KEYS,
) -> Decision:
    """Accept, reject or recognise as duplicate one submission's raw bytes. Never raises on any `raw`.

    `received_at` must carry a UTC offset (it is compared with key validity and objection deadlines). `known`
    holds the accepted events among the ids the submission names (see `Screened.references`), or more;
    `sealed_to` the current data keys of the NIPs `Screened.pdp_subjects` names (ADR 0010).
    """
    _require_aware(received_at)
    parsed = parse(raw, max_bytes=max_bytes)
    return _decide(raw, parsed, state, known, received_at, received_from, max_bytes, BatchMemo(), sealed_to)


def decide_screened(
    screened: Screened, state: IntakeState, known: Known, *, received_at: datetime, received_from: str,
    sealed_to: SealedTo = NO_KEYS, verified: Mapping[SingleCheck, bool] | None = None,
) -> tuple[tuple[Decision, ...], IntakeState]:
    """Decide each screened submission in order, evolving the state after each acceptance; also return the final
    state. `known` holds the accepted events among `screened.references()` (or more); `verified`, verdicts of
    singly signed submissions' checks made ahead (`authenticate.single_checks`, `verify_checks`): the same
    decisions, fewer verifications here.

    An event earlier in the batch counts for later ones (a registration, an assignment, a key revocation, its
    event id for a duplicate, the event a correction supersedes), and a signed batch's Ed25519 signature is
    verified once however many of its members arrive here.
    """
    _require_aware(received_at)
    memo = BatchMemo.over([(p.batch, p.leaf) for p in screened.parsed if isinstance(p, Parsed) and p.batch])
    if verified:
        memo.singles = verified
    earlier = dict(known)
    decisions: list[Decision] = []
    for raw, parsed in zip(screened.raws, screened.parsed, strict=True):
        decision = _decide(raw, parsed, state, earlier, received_at, received_from, screened.max_bytes, memo,
                           sealed_to)
        if isinstance(decision, Accepted):
            state = evolve_parsed(state, decision.envelope, decision.payload)
            earlier[decision.envelope.event_id] = SeenEvent.of(decision.envelope)
        decisions.append(decision)
    return tuple(decisions), state


def decide_batch_and_evolve(
    raws: Sequence[bytes],
    state: IntakeState,
    *,
    received_at: datetime,
    received_from: str,
    max_bytes: int = MAX_BYTES,
    known: Known = _NONE_KNOWN,
    sealed_to: SealedTo = NO_KEYS,
) -> tuple[tuple[Decision, ...], IntakeState]:
    """`screen` then `decide_screened`, for a caller that holds `known` and `sealed_to` already (or needs none)."""
    _require_aware(received_at)
    return decide_screened(
        screen(raws, max_bytes=max_bytes), state, known, received_at=received_at, received_from=received_from,
        sealed_to=sealed_to,
    )


def decide_batch(
    raws: Sequence[bytes],
    state: IntakeState,
    *,
    received_at: datetime,
    received_from: str,
    max_bytes: int = MAX_BYTES,
    known: Known = _NONE_KNOWN,
    sealed_to: SealedTo = NO_KEYS,
) -> tuple[Decision, ...]:
    """Decide each submission in order, as `decide_batch_and_evolve`, returning only the decisions."""
    decisions, _ = decide_batch_and_evolve(
        raws, state, received_at=received_at, received_from=received_from, max_bytes=max_bytes, known=known,
        sealed_to=sealed_to,
    )
    return decisions
