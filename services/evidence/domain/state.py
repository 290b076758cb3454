"""What the gate knows, learnt only from accepted events: sources and keys, the organisation, plans, results.

`evolve` is the only way the state changes. Maps are persistent (rpds hash tries), so each accepted event
costs O(log n) however long the history, and every earlier state stays valid and unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rpds import HashTrieMap

from contracts import events as ev
from contracts.envelope import Envelope
from contracts.registry import parse_payload
from contracts.signing import key_id, unb64

#: How far up a unit tree the gate looks (a guard against a cycle in the recorded parents).
MAX_UNIT_DEPTH = 32


class KeyStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"  # replaced by a rotation
    REVOKED = "revoked"  # withdrawn: lost or compromised


@dataclass(frozen=True)
class SourceKey:
    """One public key of a source; usable from `since` until `until` (exclusive), then `ended_as`."""

    key_id: str
    public_key: Ed25519PublicKey
    since: datetime | None
    until: datetime | None = None
    ended_as: KeyStatus = KeyStatus.ACTIVE

    def status_at(self, when: datetime) -> KeyStatus:
        """Whether the key may sign a submission received at `when`."""
        if self.until is not None and when >= self.until:
            return self.ended_as
        return KeyStatus.ACTIVE

    def ended(self, when: datetime, status: KeyStatus) -> SourceKey:
        """This key, no longer usable from `when` (an earlier end stands)."""
        if self.until is not None and self.until <= when:
            return self
        return replace(self, until=when, ended_as=status)


@dataclass(frozen=True)
class Source:
    """A registered submitter and its scope (REGULATION.md §1.2 data sources, §1.4 raters, §2.4 objectors)."""

    source_id: str
    kind: ev.SourceKind
    keys: tuple[SourceKey, ...]
    units: frozenset[str] = frozenset()
    indicators: frozenset[str] = frozenset()
    nip: str | None = None


@dataclass(frozen=True)
class Assignment:
    """From `effective_from`, the employee works in `unit_id` and is rated by `pejabat_penilai_nip` (§2.3)."""

    event_id: UUID
    effective_from: datetime
    unit_id: str
    pejabat_penilai_nip: str | None


@dataclass(frozen=True)
class Delivery:
    """A result delivered to the employee (§2.4): when it happened in the world (`occurred_at`, the submitting
    system's claim) and when the gate recorded it (`recorded_at`, the gate's clock)."""

    event_id: UUID
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True)
class ExplanationRequest:
    """The Atasan's request for explanations on an objection (§2.4), and whom it asks."""

    objection_event_id: UUID
    asked: frozenset[str]


@dataclass(frozen=True, slots=True)
class SeenEvent:
    """An accepted event, as far as the duplicate and supersession checks need to know it. Not part of the
    state: the evidence store answers for the ids a batch names (its unique index), so memory stays flat as the
    log grows."""

    source: str
    type: str
    subject: str
    period: str

    @classmethod
    def of(cls, envelope: Envelope) -> SeenEvent:
        """What the checks need of an accepted envelope."""
        return cls(envelope.source, envelope.type, envelope.subject, envelope.period)


@dataclass(frozen=True)
class IntakeState:
    """Everything `decide` consults. Built by `initial_state` and `evolve` only.

    - `admin_keys`: the configured administrator keys (they sign source registrations, rotations,
      revocations).
    - `sources`: source id → registered source with its keys and scope.
    - `units`: unit id → parent unit id (None for the root).
    - `assignments`: NIP → assignments in order of `effective_from` (who is in which unit, rated by whom).
    - `plans`: (NIP, period) → the IKI ids of the employee's current SKP (§1.2).
    - `deliveries`: (NIP, period) → the latest delivery of a result (§2.4 deadline).
    - `objections`: objection event id → (NIP, period).
    - `objection_of`: (NIP, period) → the objection filed against the delivered result (one each, §2.4).
    - `decided`: objection event id → the event id of its decision (final, §2.4).
    - `explanation_requests`: request event id → the objection and whom it asks (§2.4).

    Which event ids were accepted is not kept here: the gate is told, per batch, about the ids it names
    (`gate.decide_screened`).
    """

    admin_keys: tuple[SourceKey, ...]
    sources: HashTrieMap[str, Source]
    units: HashTrieMap[str, str | None]
    assignments: HashTrieMap[str, tuple[Assignment, ...]]
    plans: HashTrieMap[tuple[str, str], frozenset[str]]
    deliveries: HashTrieMap[tuple[str, str], Delivery]
    objections: HashTrieMap[UUID, tuple[str, str]]
    objection_of: HashTrieMap[tuple[str, str], UUID]
    decided: HashTrieMap[UUID, UUID]
    explanation_requests: HashTrieMap[UUID, ExplanationRequest]

    # --- queries --------------------------------------------------------------------------------------------

    def assignment_at(self, nip: str, when: datetime) -> Assignment | None:
        """The employee's assignment in force at `when`, if any."""
        current = None
        for assignment in self.assignments.get(nip, ()):
            if assignment.effective_from > when:
                break
            current = assignment
        return current

    def pejabat_penilai_at(self, nip: str, when: datetime) -> str | None:
        """The employee's Pejabat Penilai Kinerja at `when` (§2.3)."""
        assignment = self.assignment_at(nip, when)
        return assignment.pejabat_penilai_nip if assignment else None

    def unit_covered(self, scope: frozenset[str], unit_id: str | None) -> bool:
        """Whether `unit_id` or one of its ancestors is in `scope` (a unit scope covers its whole subtree)."""
        for _ in range(MAX_UNIT_DEPTH):
            if unit_id is None:
                return False
            if unit_id in scope:
                return True
            unit_id = self.units.get(unit_id)
        return False


def admin_key(public_key: bytes) -> SourceKey:
    """A configured administrator key, valid from the beginning."""
    return SourceKey(key_id(public_key), Ed25519PublicKey.from_public_bytes(public_key), since=None)


def initial_state(admin_public_keys: tuple[bytes, ...] | list[bytes]) -> IntakeState:
    """The state before any event: only the configured administrator keys (raw 32-byte public keys)."""
    return IntakeState(
        admin_keys=tuple(admin_key(k) for k in admin_public_keys),
        sources=HashTrieMap(),
        units=HashTrieMap(),
        assignments=HashTrieMap(),
        plans=HashTrieMap(),
        deliveries=HashTrieMap(),
        objections=HashTrieMap(),
        objection_of=HashTrieMap(),
        decided=HashTrieMap(),
        explanation_requests=HashTrieMap(),
    )


def _new_key(b64_key: str, since: datetime) -> SourceKey:
    raw = unb64(b64_key)
    if raw is None or len(raw) != 32:
        raise ValueError("public key must be base64 of 32 bytes")
    return SourceKey(key_id(raw), Ed25519PublicKey.from_public_bytes(raw), since=since)


def _retire_all(keys: tuple[SourceKey, ...], when: datetime) -> tuple[SourceKey, ...]:
    return tuple(k.ended(when, KeyStatus.RETIRED) for k in keys)


#: The payloads that change the gate's state (`_learn`'s cases; a test holds the two together). Every other accepted
#: event leaves the state as it was, so a reader catching up with the store (`Intake.catch_up`) need not read it.
STATE_PAYLOADS: tuple[type[ev.Payload], ...] = (
    ev.SourceRegistered, ev.SourceKeyRotated, ev.SourceKeyRevoked, ev.UnitRegistered, ev.EmployeeAssigned,
    ev.SkpPlanned, ev.ResultDelivered, ev.ObjectionFiled, ev.ObjectionExplanationRequested, ev.ObjectionDecidedV2,
)
#: Their event types (an older schema version of one has the same type: it is upcast on reading).
STATE_TYPES: frozenset[str] = frozenset(p.TYPE for p in STATE_PAYLOADS)


def _learn(state: IntakeState, envelope: Envelope, payload: Any, when: datetime) -> IntakeState:
    """The state change one accepted payload brings (state-relevant types only)."""
    match payload:
        case ev.SourceRegistered():
            old = state.sources.get(payload.source_id)
            kept = _retire_all(old.keys, when) if old else ()
            fresh = _new_key(payload.public_key, when)
            source = Source(
                source_id=payload.source_id,
                kind=payload.kind,
                keys=(*(k for k in kept if k.key_id != fresh.key_id), fresh),
                units=frozenset(payload.units),
                indicators=frozenset(payload.indicators),
                nip=payload.nip,
            )
            return replace(state, sources=state.sources.insert(source.source_id, source))
        case ev.SourceKeyRotated():
            src = state.sources.get(payload.source_id)
            if src is None:
                return state
            fresh = _new_key(payload.public_key, when)
            keys = (*(k for k in _retire_all(src.keys, when) if k.key_id != fresh.key_id), fresh)
            return replace(state, sources=state.sources.insert(src.source_id, replace(src, keys=keys)))
        case ev.SourceKeyRevoked():
            src = state.sources.get(payload.source_id)
            if src is None:
                return state
            keys = tuple(
                k.ended(when, KeyStatus.REVOKED) if k.key_id == payload.key_id else k for k in src.keys
            )
            return replace(state, sources=state.sources.insert(src.source_id, replace(src, keys=keys)))
        case ev.UnitRegistered():
            return replace(state, units=state.units.insert(payload.unit_id, payload.parent_unit_id))
        case ev.EmployeeAssigned():
            new = Assignment(
                envelope.event_id, payload.effective_from, payload.unit_id, payload.pejabat_penilai_nip
            )
            history = tuple(
                a for a in state.assignments.get(payload.nip, ()) if a.event_id != envelope.supersedes
            )
            ordered = tuple(sorted((*history, new), key=lambda a: a.effective_from))
            return replace(state, assignments=state.assignments.insert(payload.nip, ordered))
        case ev.SkpPlanned():
            ikis = frozenset(iki.iki_id for rhk in payload.rhk for iki in rhk.iki)
            return replace(state, plans=state.plans.insert((envelope.subject, envelope.period), ikis))
        case ev.ResultDelivered():
            key = (envelope.subject, envelope.period)
            delivery = Delivery(envelope.event_id, envelope.occurred_at, when)
            return replace(state, deliveries=state.deliveries.insert(key, delivery))
        case ev.ObjectionFiled():
            entry = (envelope.subject, envelope.period)
            first = state.objection_of if entry in state.objection_of else state.objection_of.insert(
                entry, envelope.event_id
            )
            return replace(
                state, objections=state.objections.insert(envelope.event_id, entry), objection_of=first
            )
        case ev.ObjectionExplanationRequested():
            request = ExplanationRequest(payload.objection_event_id, frozenset(payload.from_nips))
            requests = state.explanation_requests.insert(envelope.event_id, request)
            return replace(state, explanation_requests=requests)
        case ev.ObjectionDecidedV2():
            if payload.objection_event_id in state.decided:
                return state
            decided = state.decided.insert(payload.objection_event_id, envelope.event_id)
            return replace(state, decided=decided)
        case _:
            return state


def evolve(state: IntakeState, accepted: Envelope) -> IntakeState:
    """The state after `accepted` (an event the gate accepted, or one replayed from the evidence store).

    Key validity starts and ends at the event's `recorded_at` (the gate's clock, never the submitter's); an
    event replayed without it falls back to `occurred_at`. Raises pydantic's ValidationError for an event that
    does not parse: accepted events always do, so that is a broken store or contract, not something to skip.
    """
    return evolve_parsed(state, accepted, parse_payload(accepted))


def evolve_parsed(state: IntakeState, accepted: Envelope, payload: ev.Payload) -> IntakeState:
    """`evolve` for a caller holding the typed payload already (`Accepted.payload`): no second validation."""
    return _learn(state, accepted, payload, accepted.recorded_at or accepted.occurred_at)
