"""The fold over one stream of accepted events: `reduce(evolve, events, State())` (STYLE.md, "Shape").

`evolve` records facts and nothing else; what they add up to is computed afterwards from the state
(`services.scoring.domain.appraisal`). Nothing is edited in place (REGULATION.md §4): a correction names the
event it supersedes, and the superseded fact leaves the state. An event seen before (same `event_id`) changes
nothing, so redelivery is harmless. An event type this fold does not know is an error, never a skip.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from functools import reduce
from typing import Any, Generic, TypeVar

from contracts import events as ev
from contracts.envelope import Envelope
from contracts.registry import parse_payload

P = TypeVar("P", bound=ev.Payload)


class UnhandledEventType(TypeError):
    """An event type the scoring fold has no case for: a new contract needs a decision here, not a skip."""


@dataclass(frozen=True, slots=True)
class Fact(Generic[P]):
    """An accepted event as the fold keeps it: its id, its place in the fold, and its typed payload."""

    event_id: str
    position: int
    subject: str
    period: str
    occurred_at: datetime
    payload: P


@dataclass(frozen=True, slots=True)
class State:
    """Everything a stream has said, by kind of fact, in fold order; only live (not superseded) facts."""

    seen: frozenset[str] = frozenset()
    superseded: frozenset[str] = frozenset()
    applied: int = 0
    assignments: tuple[Fact[ev.EmployeeAssigned], ...] = ()
    policies: tuple[Fact[ev.PolicyAdopted], ...] = ()
    plans: tuple[Fact[ev.SkpPlanned], ...] = ()
    realisations: tuple[Fact[ev.RealisationRecorded], ...] = ()
    behaviour: tuple[Fact[ev.BehaviourRated], ...] = ()
    pejabat_penilai: tuple[Fact[ev.PejabatPenilaiRated], ...] = ()
    feedback: tuple[Fact[Any], ...] = ()
    org_predicates: tuple[Fact[ev.OrgPredicateSet], ...] = ()
    positions: tuple[Fact[ev.PositionRegistered], ...] = ()
    closures: tuple[Fact[ev.PeriodClosed], ...] = ()
    deliveries: tuple[Fact[ev.ResultDelivered], ...] = ()
    objections: tuple[Fact[ev.ObjectionFiled], ...] = ()
    decisions: tuple[Fact[ev.ObjectionDecidedV2], ...] = ()
    pp46_activities: tuple[Fact[ev.Pp46ActivityRecorded], ...] = ()
    pp46_tambahan: tuple[Fact[ev.Pp46TugasTambahanRecorded], ...] = ()
    pp46_kreativitas: tuple[Fact[ev.Pp46KreativitasRecorded], ...] = ()
    pp46_behaviour: tuple[Fact[ev.Pp46BehaviourScored], ...] = ()
    pp30_skp: tuple[Fact[ev.Pp30SkpValued], ...] = ()
    pp30_behaviour: tuple[Fact[ev.Pp30BehaviourValued], ...] = ()
    pp30_innovation: tuple[Fact[ev.Pp30InnovationRecorded], ...] = ()
    explanations: tuple[Fact[Any], ...] = ()  # keberatan (§2.4): explanations requested and given

    def live(self) -> tuple[Fact[Any], ...]:
        """Every live fact, in fold order."""
        facts = [f for name in FACT_SLOTS for f in getattr(self, name)]
        return tuple(sorted(facts, key=lambda f: f.position))


_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(State))

#: The fields of `State` that hold facts.
FACT_SLOTS: tuple[str, ...] = tuple(
    f.name for f in fields(State) if f.name not in ("seen", "superseded", "applied")
)


def _slot(payload: ev.Payload) -> str | None:
    """Which slot a payload's fact goes to; `None` for events that have no bearing on a score."""
    match payload:
        case ev.EmployeeAssigned():
            return "assignments"
        case ev.PolicyAdopted():
            return "policies"
        case ev.SkpPlanned():
            return "plans"
        case ev.RealisationRecorded():
            return "realisations"
        case ev.BehaviourRated():
            return "behaviour"
        case ev.PejabatPenilaiRated():
            return "pejabat_penilai"
        case ev.FeedbackGiven() | ev.FeedbackGivenV2():
            return "feedback"
        case ev.OrgPredicateSet():
            return "org_predicates"
        case ev.PositionRegistered():
            return "positions"
        case ev.PeriodClosed():
            return "closures"
        case ev.ResultDelivered():
            return "deliveries"
        case ev.ObjectionFiled():
            return "objections"
        case ev.ObjectionDecidedV2():
            return "decisions"
        case ev.ObjectionExplanationRequested() | ev.ObjectionExplanationGiven():
            return "explanations"
        case ev.Pp46ActivityRecorded():
            return "pp46_activities"
        case ev.Pp46TugasTambahanRecorded():
            return "pp46_tambahan"
        case ev.Pp46KreativitasRecorded():
            return "pp46_kreativitas"
        case ev.Pp46BehaviourScored():
            return "pp46_behaviour"
        case ev.Pp30SkpValued():
            return "pp30_skp"
        case ev.Pp30BehaviourValued():
            return "pp30_behaviour"
        case ev.Pp30InnovationRecorded():
            return "pp30_innovation"
        # structure, keys and derived events: facts of other services, no bearing on a score
        case (
            ev.UnitRegistered()
            | ev.SourceRegistered()
            | ev.SourceKeyRotated()
            | ev.SourceKeyRevoked()
            | ev.ScoreComputed()
            | ev.SubmissionRejected()
        ):
            return None
        case _:
            raise UnhandledEventType(
                f"the scoring fold has no case for {type(payload).__name__} ({getattr(payload, 'TYPE', '?')})"
            )


def _without(state: State, event_id: str) -> dict[str, Any]:
    """The slots that change when the fact `event_id` is superseded, without it."""
    changes: dict[str, Any] = {}
    for name in FACT_SLOTS:
        facts = getattr(state, name)
        if any(f.event_id == event_id for f in facts):
            changes[name] = tuple(f for f in facts if f.event_id != event_id)
    return changes


def evolve(state: State, envelope: Envelope) -> State:
    """The state after one accepted event: duplicates (by `event_id`) change nothing; a superseding event
    removes the fact it names; a fact already superseded by an earlier correction is not added."""
    event_id = str(envelope.event_id)
    if event_id in state.seen:
        return state
    payload = parse_payload(envelope)
    slot = _slot(payload)
    changes: dict[str, Any] = {"seen": state.seen | {event_id}, "applied": state.applied + 1}
    superseded = state.superseded
    if envelope.supersedes is not None:
        retired = str(envelope.supersedes)
        superseded = superseded | {retired}
        changes["superseded"] = superseded
        changes.update(_without(state, retired))
    if slot is not None and event_id not in superseded:
        fact = Fact(
            event_id, state.applied + 1, envelope.subject, envelope.period, envelope.occurred_at, payload
        )
        changes[slot] = (*changes.get(slot, getattr(state, slot)), fact)
    return _updated(state, changes)


def _updated(state: State, changes: dict[str, Any]) -> State:
    """`dataclasses.replace` without its per-call overhead (the fold's hot path): a new frozen State."""
    new = object.__new__(State)
    for name in _FIELDS:
        object.__setattr__(new, name, changes[name] if name in changes else getattr(state, name))
    return new


def fold(events: Iterable[Envelope], state: State | None = None) -> State:
    """Fold `events` (in evidence-sequence order) onto `state` (default: the empty state)."""
    return reduce(evolve, events, state if state is not None else State())
