"""Scoring a whole stream of accepted events: route each event to the employee-period streams it belongs to,
appraise each, derive annual results where the policy says so (§1.8), and summarise units (§1.6, §1.7).

Deterministic: when every event carries its evidence `sequence`, events are taken in sequence order, otherwise
in the order given; appraisals are sorted by NIP and period, units by unit id and period.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from contracts import events as ev
from contracts.envelope import NIP_PATTERN, Envelope
from contracts.registry import parse_payload
from services.scoring.domain.annual import apply_annual_policy
from services.scoring.domain.appraisal import Appraisal
from services.scoring.domain.appraise import appraise
from services.scoring.domain.policy import Policy
from services.scoring.domain.timeline import period_bounds
from services.scoring.domain.units import UnitSummary, summarise_units

_NIP = re.compile(NIP_PATTERN)
_UNIT_TYPES = frozenset({ev.OrgPredicateSet.TYPE, ev.UnitRegistered.TYPE, ev.PositionRegistered.TYPE})
#: Facts about a person that no appraisal reads: an erasure (UU PDP, ADR 0010) is dated when it happens, and must
#: neither open a stream for that year nor change a result.
_UNROUTED = frozenset({ev.PersonalDataErased.TYPE})
_POSITION, _ASSIGNED = ev.PositionRegistered.TYPE, ev.EmployeeAssigned.TYPE
_ADOPTED, _PREDICATE = ev.PolicyAdopted.TYPE, ev.OrgPredicateSet.TYPE


@dataclass(frozen=True, slots=True)
class ScoringOutput:
    """Every appraisal and every unit summary of a stream."""

    appraisals: tuple[Appraisal, ...]
    units: tuple[UnitSummary, ...]

    def to_json(self) -> dict[str, Any]:
        """`{"appraisals": [...], "units": [...]}`, JSON-ready."""
        return {
            "appraisals": [a.to_json() for a in self.appraisals],
            "units": [u.to_json() for u in self.units],
        }


_SEQUENCE = attrgetter("sequence")


def route_order(events: Iterable[Envelope]) -> list[Envelope]:
    """The order `route` takes events in: evidence sequence when every event carries one, else as given."""
    ordered = list(events)
    if ordered and all(e.sequence is not None for e in ordered):
        ordered.sort(key=_SEQUENCE)
    return ordered


def _positions_held(
    keys: Iterable[tuple[str, str]], assignments: Mapping[str, list[ev.EmployeeAssigned]]
) -> dict[tuple[str, str], tuple[str, str] | None]:
    """(unit, position) each employee held at the end of each period (as `assignment_in_force` decides)."""
    held: dict[tuple[str, str], tuple[str, str] | None] = {}
    for nip, period in keys:
        end = period_bounds(period)[1]
        known = [
            (p.effective_from, i, (p.unit_id, p.position_id)) for i, p in enumerate(assignments.get(nip, ()))
        ]
        before = [k for k in known if k[0].date() <= end]
        held[(nip, period)] = max(before or known)[2] if known else None
    return held


def route(events: Iterable[Envelope]) -> tuple[dict[tuple[str, str], list[Envelope]], list[Envelope]]:
    """Employee-period streams and unit events. A stream exists for each (NIP, period) with an employee fact
    other than an assignment. It also receives the employee's assignments up to the period's end (the position
    held then); policy adoptions for its period addressed to "*" or to the employee's unit; and, for a unit's
    leader, the leader position's registration and the unit's predicate for the period (§1.3)."""
    ordered = [e for e in route_order(events) if e.type not in _UNROUTED]
    nip_subject: dict[str, bool] = {}  # subject -> whether it is a NIP (the regex once per subject)
    employee: list[bool] = []  # whether each event is an employee fact (NIP subject, not a unit-level type)
    keys: set[tuple[str, str]] = set()
    assignments: dict[str, list[ev.EmployeeAssigned]] = defaultdict(list)
    leading: dict[str, bool] = {}
    for event in ordered:
        type_, subject = event.type, event.subject
        is_nip = nip_subject.get(subject)
        if is_nip is None:
            is_nip = nip_subject[subject] = bool(_NIP.match(subject))
        own = is_nip and type_ not in _UNIT_TYPES
        employee.append(own)
        if type_ == _POSITION:
            position = parse_payload(event)
            assert isinstance(position, ev.PositionRegistered)
            leading[position.position_id] = position.is_unit_leader
        elif own and type_ == _ASSIGNED:
            assignment = parse_payload(event)
            assert isinstance(assignment, ev.EmployeeAssigned)
            assignments[subject].append(assignment)
        elif own and type_ != _ADOPTED:
            keys.add((subject, event.period))
    held = _positions_held(keys, assignments)
    streams: dict[tuple[str, str], list[Envelope]] = {key: [] for key in keys}
    by_period: dict[str, list[tuple[str, str]]] = defaultdict(list)
    by_nip: dict[str, list[tuple[str, str]]] = defaultdict(list)
    by_position: dict[str, list[tuple[str, str]]] = defaultdict(list)
    leaders: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for key in sorted(keys):
        by_period[key[1]].append(key)
        by_nip[key[0]].append(key)
        if (place := held[key]) is not None and leading.get(place[1], False):
            by_position[place[1]].append(key)
            leaders[(place[0], key[1])].append(key)
    unit_events: list[Envelope] = []
    for event, own in zip(ordered, employee, strict=True):
        type_ = event.type
        targets: Iterable[tuple[str, str]] = ()
        if own:
            if type_ != _ASSIGNED:
                # an adoption addressed to one employee with no other fact in the period has no stream to join
                stream = streams.get((event.subject, event.period))
                if stream is not None:
                    stream.append(event)
                continue
            start = period_bounds(event.period)[0]
            targets = [k for k in by_nip.get(event.subject, ()) if start <= period_bounds(k[1])[1]]
        elif type_ == _ADOPTED and not nip_subject[event.subject]:
            targets = [k for k in by_period.get(event.period, ()) if event.subject in ("*", _unit(held[k]))]
        elif type_ == _POSITION:
            targets = by_position.get(event.payload.get("position_id", ""), ())
        elif type_ == _PREDICATE:
            targets = leaders.get((event.payload.get("unit_id", ""), event.period), ())
        for key in targets:
            streams[key].append(event)
        if not own:
            unit_events.append(event)
    return streams, unit_events


def _unit(place: tuple[str, str] | None) -> str | None:
    return None if place is None else place[0]


#: Unit-level event types that `route` sends into employees' streams: a service re-appraising one employee
#: needs these beside the employee's own events (they are few: per unit and period, not per employee).
CONTEXT_TYPES: frozenset[str] = frozenset({ev.PolicyAdopted.TYPE, ev.PositionRegistered.TYPE, ev.OrgPredicateSet.TYPE})


#: Employee facts `route` may send beyond their own (NIP, period) stream, or that create no stream.
_ROUTED_WIDER: frozenset[str] = _UNIT_TYPES | {ev.EmployeeAssigned.TYPE, ev.PolicyAdopted.TYPE}


def is_own_fact(event: Envelope) -> bool:
    """Whether `route` sends an event to its own (NIP, period) stream and nowhere else."""
    return event.type not in _ROUTED_WIDER and bool(_NIP.match(event.subject))


def is_context(event: Envelope) -> bool:
    """Whether an event is unit-level context that `route` may send into an employee's stream."""
    return event.type in CONTEXT_TYPES and not _NIP.match(event.subject)


def appraise_employee(
    events: Iterable[Envelope], nip: str, policies: Mapping[str, Policy]
) -> tuple[tuple[tuple[str, str], tuple[Envelope, ...], Appraisal], ...]:
    """Every appraisal of one employee from his or her own events (all periods) and the context events,
    routed exactly as `score_stream` routes a whole log, with the annual policy applied (§1.8): what the
    scoring service stores and the audit replay recomputes. Returns ((nip, period), stream, appraisal)."""
    streams, _unit_events = route(events)
    mine = sorted(key for key in streams if key[0] == nip)
    appraisals = apply_annual_policy(tuple(appraise(streams[k], policies) for k in mine), policies)
    return tuple((k, tuple(streams[k]), a) for k, a in zip(mine, appraisals, strict=True))


def score_stream(events: Iterable[Envelope], policies: Mapping[str, Policy]) -> ScoringOutput:
    """Appraise every employee-period in `events` and summarise every unit-period (sorted by NIP and period,
    and by unit and period)."""
    streams, unit_events = route(events)
    appraisals = tuple(appraise(streams[key], policies) for key in sorted(streams))
    appraisals = apply_annual_policy(appraisals, policies)
    return ScoringOutput(appraisals, summarise_units(appraisals, unit_events, policies))
