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


def _is_employee(event: Envelope) -> bool:
    return event.type not in _UNIT_TYPES and bool(_NIP.match(event.subject))


def route(events: Iterable[Envelope]) -> tuple[dict[tuple[str, str], list[Envelope]], list[Envelope]]:
    """Employee-period streams and unit events. A stream exists for each (NIP, period) with an employee fact
    other than an assignment; it also receives the employee's assignments up to the period's end (the
    position held then), and policy adoptions for its period addressed to "*" or to the employee's unit."""
    ordered = list(events)
    if ordered and all(e.sequence is not None for e in ordered):
        ordered.sort(key=lambda e: e.sequence or 0)
    keys: set[tuple[str, str]] = set()
    assignments: dict[str, list[tuple[Envelope, ev.EmployeeAssigned]]] = defaultdict(list)
    for event in ordered:
        if not _is_employee(event):
            continue
        if event.type == ev.EmployeeAssigned.TYPE:
            payload = parse_payload(event)
            assert isinstance(payload, ev.EmployeeAssigned)
            assignments[event.subject].append((event, payload))
        elif event.type != ev.PolicyAdopted.TYPE:
            keys.add((event.subject, event.period))
    units_of: dict[tuple[str, str], str | None] = {}
    for nip, period in keys:
        end = period_bounds(period)[1]
        held = [(p.effective_from, i, p.unit_id) for i, (_, p) in enumerate(assignments[nip])]
        before = [h for h in held if h[0].date() <= end]
        units_of[(nip, period)] = max(before or held)[2] if held else None
    streams: dict[tuple[str, str], list[Envelope]] = {key: [] for key in keys}
    by_period: dict[str, list[tuple[str, str]]] = defaultdict(list)
    by_nip: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key in sorted(keys):
        by_period[key[1]].append(key)
        by_nip[key[0]].append(key)
    unit_events: list[Envelope] = []
    for event in ordered:
        if event.type == ev.PolicyAdopted.TYPE and not _NIP.match(event.subject):
            for key in by_period.get(event.period, ()):
                if event.subject in ("*", units_of[key]):
                    streams[key].append(event)
            unit_events.append(event)
        elif event.type == ev.EmployeeAssigned.TYPE and _is_employee(event):
            start = period_bounds(event.period)[0]
            for key in by_nip.get(event.subject, ()):
                if start <= period_bounds(key[1])[1]:
                    streams[key].append(event)
        elif _is_employee(event):
            streams[(event.subject, event.period)].append(event)
        else:
            unit_events.append(event)
    return streams, unit_events


def score_stream(events: Iterable[Envelope], policies: Mapping[str, Policy]) -> ScoringOutput:
    """Appraise every employee-period in `events` and summarise every unit-period (sorted by NIP and period,
    and by unit and period)."""
    streams, unit_events = route(events)
    appraisals = tuple(appraise(streams[key], policies) for key in sorted(streams))
    appraisals = apply_annual_policy(appraisals, policies)
    return ScoringOutput(appraisals, summarise_units(appraisals, unit_events, policies))
