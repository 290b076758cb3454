"""Per unit and period: the predicate counts, the organisation predicate, the curve verdict and rater bias
(REGULATION.md §1.4, §1.6, §1.7)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contracts.envelope import Envelope
from services.scoring.domain.appraisal import Appraisal
from services.scoring.domain.bias import BiasReport, measure_bias
from services.scoring.domain.correction import Corrected, correct_unit
from services.scoring.domain.issuance import Issuance, issue
from services.scoring.domain.kurva import CurveVerdict, check_curve
from services.scoring.domain.policy import Policy, select_policy
from services.scoring.domain.predikat import PREDIKAT_ORDER
from services.scoring.domain.state import State, fold


@dataclass(frozen=True, slots=True)
class UnitSummary:
    """One unit in one period; `provisional` counts the employees without a final predicate. `corrected` is
    set when the policy corrects rater leniency (§1.4), `issuance` when the unit runs the kurva in block mode
    (§1.7): `(issued, per employee)`."""

    unit_id: str | None
    period: str
    policy: tuple[str, str, str]
    employees: tuple[str, ...]
    predikat_counts: tuple[tuple[str, int], ...]
    provisional: int
    org_predicate: str | None
    org_predicate_event_id: str | None
    curve: CurveVerdict
    bias: BiasReport | None
    corrected: tuple[Corrected, ...] | None = None
    issuance: tuple[bool, tuple[Issuance, ...]] | None = None
    #: (NIP, predikat) of each employee whose predikat is final and issued: corrected when the policy corrects
    #: leniency (§1.4), only those a block-mode kurva issues (§1.7). What leaves Objektif (the SIASN export); not
    #: part of the JSON form, which says the same per employee in `corrected` and `predikat_final`
    final_predikat: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form; `bias_correction` and `corrected` appear only when the policy corrects leniency,
        `issued` and `predikat_final` only in block mode (§1.7), so other results keep their form."""
        policy_id, version, content_hash = self.policy
        result: dict[str, Any] = {
            "unit_id": self.unit_id,
            "period": self.period,
            "policy": {"id": policy_id, "version": version, "content_hash": content_hash},
            "employees": list(self.employees),
            "predikat_counts": dict(self.predikat_counts),
            "final": sum(n for _, n in self.predikat_counts),
            "provisional": self.provisional,
            "org_predicate": self.org_predicate,
            "org_predicate_event_id": self.org_predicate_event_id,
            "kurva": self.curve.to_json(),
            "bias": None if self.bias is None else self.bias.to_json(),
        }
        if self.corrected is not None:
            result["bias_correction"] = "leniency"
            result["corrected"] = [c.to_json() for c in self.corrected]
        if self.issuance is not None:
            result["issued"] = self.issuance[0]
            result["predikat_final"] = [i.to_json() for i in self.issuance[1]]
        return result


def _unit_states(unit_events: Sequence[Envelope]) -> dict[tuple[str, str], State]:
    """Unit events folded per (unit, period), so corrections and duplicates work as for employees."""
    grouped: dict[tuple[str, str], list[Envelope]] = defaultdict(list)
    for event in unit_events:
        grouped[(event.subject, event.period)].append(event)
    return {key: fold(events) for key, events in grouped.items()}


def summarise_units(
    appraisals: Iterable[Appraisal], unit_events: Sequence[Envelope], policies: Mapping[str, Policy]
) -> tuple[UnitSummary, ...]:
    """Per unit and period, sorted by unit id and period: counts of final predicates (final when the
    employee's or the unit's period is closed), the organisation predicate (§1.6, the last
    `org.predicate.set`), the §1.7 curve verdict, and rater bias (§1.4). Under PP 30/2019 and PP 46/2011
    the curve does not apply."""
    states = _unit_states(unit_events)
    groups: dict[tuple[str | None, str], list[Appraisal]] = defaultdict(list)
    for appraisal in appraisals:
        groups[(appraisal.unit_id, appraisal.period)].append(appraisal)
    for key, unit_state in states.items():
        if unit_state.org_predicates:
            groups.setdefault(key, [])
    summaries = []
    for unit_id, period in sorted(groups, key=lambda k: (k[0] or "", k[1])):
        members = sorted(groups[(unit_id, period)], key=lambda a: a.nip)
        state = states.get((unit_id, period), State()) if unit_id is not None else State()
        summaries.append(_summary(unit_id, period, members, state, policies))
    return tuple(summaries)


def _summary(
    unit_id: str | None, period: str, members: list[Appraisal], state: State, policies: Mapping[str, Policy]
) -> UnitSummary:
    policy = _policy_of(members, period, policies)
    unit_closed = bool(state.closures)
    settings = policy.permenpanrb
    bias = None
    corrected = None
    predikat_of = {a.nip: a.predikat for a in members}
    if settings is not None:
        ratings = [(a.nip, s) for a in members for s in a.behaviour_scores]
        bias = measure_bias(
            ratings, settings.bias.exclude_relations, settings.bias.alpha_places, policy.rounding.places
        )
        if settings.bias.correction == "leniency":
            # §1.4: the corrected predikat is the final one; the uncorrected one stays beside it
            corrected = correct_unit(members, bias, policy)
            predikat_of = {c.nip: c.predikat_corrected for c in corrected}
    final = {a.nip: p for a in members if (a.final or unit_closed) and (p := predikat_of[a.nip]) is not None}
    seen = tuple(dict.fromkeys(final.values()))
    labels: tuple[str, ...] = PREDIKAT_ORDER if settings is not None else seen
    counts = {label: sum(1 for p in final.values() if p == label) for label in labels}
    org = state.org_predicates[-1] if state.org_predicates else None
    org_label = org.payload.predicate.value if org else None
    issuance = None
    if settings is not None:
        curve = check_curve(counts, org_label, settings.kurva, org.payload.curve_mode if org else None)
        if curve.mode == "block":
            finals = [(a.nip, predikat_of[a.nip], a.final or unit_closed) for a in members]
            issuance = issue(finals, curve, org_label)
    else:
        curve = CurveVerdict("ok", "warn", False, ())
    return UnitSummary(
        unit_id=unit_id,
        period=period,
        policy=(policy.id, policy.version, policy.content_hash),
        employees=tuple(a.nip for a in members),
        predikat_counts=tuple(counts.items()),
        provisional=len(members) - len(final),
        org_predicate=org_label,
        org_predicate_event_id=org.event_id if org else None,
        curve=curve,
        bias=bias,
        corrected=corrected,
        issuance=issuance,
        final_predikat=tuple(
            sorted(final.items())
            if issuance is None
            else ((i.nip, i.predikat_final) for i in issuance[1] if i.predikat_final is not None)
        ),
    )


def _policy_of(members: list[Appraisal], period: str, policies: Mapping[str, Policy]) -> Policy:
    """The policy the unit's appraisals were made under (the first member's by NIP), else the period's."""
    for appraisal in members:
        for policy in policies.values():
            if (policy.id, policy.version, policy.content_hash) == appraisal.policy:
                return policy
    return select_policy(period, None, policies)
