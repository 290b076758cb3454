"""The fold over one stream of accepted events: `reduce(evolve, events, State())` in meaning (STYLE.md, "Shape"),
computed with one working copy frozen once at the end, so a fold costs O(1) amortised per event.

`evolve` records facts and nothing else; what they add up to is computed afterwards from the state
(`services.scoring.domain.appraisal`). Nothing is edited in place (REGULATION.md §4): a correction names the
event it supersedes, and the superseded fact leaves the state. An event seen before (same `event_id`) changes
nothing, so redelivery is harmless. An event type this fold does not know is an error, never a skip.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
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
        # structure, keys, erasures (UU PDP: a score never reads personal text) and derived events: facts of other
        # services, no bearing on a score
        case (
            ev.UnitRegistered()
            | ev.SourceRegistered()
            | ev.SourceKeyRotated()
            | ev.SourceKeyRevoked()
            | ev.PersonalDataErased()
            | ev.ScoreComputed()
            | ev.SubmissionRejected()
        ):
            return None
        case _:
            raise UnhandledEventType(
                f"the scoring fold has no case for {type(payload).__name__} ({getattr(payload, 'TYPE', '?')})"
            )


class _Builder:
    """The fold's working copy of a `State`: mutable lists and sets, so each event costs O(1) amortised
    (a superseding event costs O(size of the slot it retires from)), frozen into a `State` once at the end.
    Never escapes `fold`: the State it produces is equal, field by field, to the State the event-by-event
    `evolve` of the frozen shape would produce."""

    __slots__ = ("applied", "new", "slots", "state", "superseded", "where")

    def __init__(self, state: State) -> None:
        self.state = state
        self.new: set[str] = set()  # ids first seen by this fold (the starting State's are not copied)
        self.superseded: set[str] = set(state.superseded)
        self.applied = state.applied
        self.slots: dict[str, list[Fact[Any]]] = {}  # only the slots that changed, thawed on first change
        self.where: dict[str, str] | None = None  # live fact id -> slot, built on the first supersession

    def _thawed(self, name: str) -> list[Fact[Any]]:
        facts = self.slots.get(name)
        if facts is None:
            facts = self.slots[name] = list(getattr(self.state, name))
        return facts

    def add(self, envelope: Envelope) -> None:
        """Record one accepted event, exactly as `evolve` defines it."""
        event_id = str(envelope.event_id)
        if event_id in self.new or event_id in self.state.seen:
            return
        payload = parse_payload(envelope)
        slot = _slot_of(payload)
        self.new.add(event_id)
        self.applied += 1
        if envelope.supersedes is not None:
            retired = str(envelope.supersedes)
            self.superseded.add(retired)
            self._retire(retired)
        if slot is not None and event_id not in self.superseded:
            fact = Fact(event_id, self.applied, envelope.subject, envelope.period, envelope.occurred_at, payload)
            self._thawed(slot).append(fact)
            if self.where is not None:
                self.where[event_id] = slot

    def _retire(self, event_id: str) -> None:
        """Remove the live fact `event_id` (if any) from its slot (REGULATION.md §4: superseded, not edited)."""
        if self.where is None:
            self.where = {
                f.event_id: name
                for name in FACT_SLOTS
                for f in (self.slots[name] if name in self.slots else getattr(self.state, name))
            }
        name = self.where.pop(event_id, None)
        if name is not None:
            facts = self._thawed(name)
            facts[:] = [f for f in facts if f.event_id != event_id]

    def frozen(self) -> State:
        """The State folded so far (the starting State itself when no event was new)."""
        if not self.new:
            return self.state
        new = object.__new__(State)
        for name in _FIELDS:
            object.__setattr__(new, name, getattr(self.state, name))
        object.__setattr__(new, "seen", self.state.seen | self.new)
        object.__setattr__(new, "applied", self.applied)
        if len(self.superseded) != len(self.state.superseded):
            object.__setattr__(new, "superseded", frozenset(self.superseded))
        for name, facts in self.slots.items():
            object.__setattr__(new, name, tuple(facts))
        return new


#: `_slot` by payload class: the answer depends only on the class, and the match is the fold's hot path.
_SLOT_BY_TYPE: dict[type, str | None] = {}


def _slot_of(payload: ev.Payload) -> str | None:
    kind = type(payload)
    try:
        return _SLOT_BY_TYPE[kind]
    except KeyError:
        slot = _SLOT_BY_TYPE[kind] = _slot(payload)
        return slot


def evolve(state: State, envelope: Envelope) -> State:
    """The state after one accepted event: duplicates (by `event_id`) change nothing; a superseding event
    removes the fact it names; a fact already superseded by an earlier correction is not added.
    One step of `fold`; to fold many events use `fold`, which does not copy the state per event."""
    return fold((envelope,), state)


def fold(events: Iterable[Envelope], state: State | None = None) -> State:
    """Fold `events` (in evidence-sequence order) onto `state` (default: the empty state): the same State as
    `reduce(evolve, events, state)`, in O(1) amortised per event (one working copy, frozen once)."""
    builder = _Builder(state if state is not None else State())
    for envelope in events:
        builder.add(envelope)
    return builder.frozen()
