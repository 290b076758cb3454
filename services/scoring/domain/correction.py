"""Leniency correction of the multi-rater behaviour aggregate, per unit and period (REGULATION.md §1.4: "A
policy may correct leniency; the correction, when applied, is part of the explanation").

Policy `bias.correction: leniency`. A rater's leniency L is the one the unit's bias report shows (§1.4: the
rater's mean deviation from the other raters of the same employee and value, over the unit and period, rounded
to the policy's places). Each score s that rater gave counts as

    s' = min(3, max(1, s - L))

(exact `Decimal`; clamped to the 1-3 scale of §1.4, so a severe rater's top score stays the top of the scale).
Scores of a rater in an excluded relation (self, never scored) or with nobody to compare with (no leniency
measured) count as given (`applied: false`). The corrected scores then go through the same §1.4 aggregation
(relation means, relation weights, mean over values, bands, rounding of each shown stage); the Pejabat
Penilai's overall behaviour rating, where recorded, decides as it does uncorrected (`decide_rating`); the
predikat follows from the §1.5 matrix with the rating hasil kerja used.

A correction makes one employee's result depend on the others' ratings, so it is applied only here, where the
whole unit is known; `appraise` stays a function of one employee's stream. Not corrected: a result an
objection's decision made final (§2.4) and an annual result derived from periodic ones (§1.8); their entry says
why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from contracts.events import Rating
from services.scoring.domain.appraisal import Appraisal
from services.scoring.domain.appraise import FINAL_BY_DECISION, decide_rating
from services.scoring.domain.behaviour import RaterScore, aggregate_behaviour
from services.scoring.domain.bias import BiasReport
from services.scoring.domain.numbers import exact
from services.scoring.domain.policy import Policy
from services.scoring.domain.predikat import predikat as matrix_predikat

#: The §1.4 behaviour scale: 1 Di Bawah … 3 Di Atas.
SCALE_MIN, SCALE_MAX = Decimal(1), Decimal(3)


def _d(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _r(value: Rating | None) -> str | None:
    return None if value is None else value.value


@dataclass(frozen=True, slots=True)
class RaterCorrection:
    """One rater of one employee: the leniency used (None when not measured) and whether it was applied."""

    rater_nip: str
    leniency: Decimal | None
    applied: bool

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"rater_nip": self.rater_nip, "leniency": _d(self.leniency), "applied": self.applied}


@dataclass(frozen=True, slots=True)
class Corrected:
    """One employee's behaviour result before and after the leniency correction, and the predikat each gives.
    `rating_perilaku_*` are the ratings used (the Pejabat Penilai's where it decides), `multi_rater_*` the
    aggregate's own rating, `perilaku_score_*` the aggregate score; `note` says why nothing was corrected."""

    nip: str
    perilaku_score_uncorrected: Decimal | None
    perilaku_score_corrected: Decimal | None
    multi_rater_uncorrected: Rating | None
    multi_rater_corrected: Rating | None
    rating_perilaku_uncorrected: Rating | None
    rating_perilaku_corrected: Rating | None
    predikat_uncorrected: str | None
    predikat_corrected: str | None
    raters: tuple[RaterCorrection, ...]
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (decimals as strings with the policy's places)."""
        return {
            "nip": self.nip,
            "perilaku_score_uncorrected": _d(self.perilaku_score_uncorrected),
            "perilaku_score_corrected": _d(self.perilaku_score_corrected),
            "multi_rater_uncorrected": _r(self.multi_rater_uncorrected),
            "multi_rater_corrected": _r(self.multi_rater_corrected),
            "rating_perilaku_uncorrected": _r(self.rating_perilaku_uncorrected),
            "rating_perilaku_corrected": _r(self.rating_perilaku_corrected),
            "predikat_uncorrected": self.predikat_uncorrected,
            "predikat_corrected": self.predikat_corrected,
            "raters": [r.to_json() for r in self.raters],
            "note": self.note,
        }


@exact
def corrected_points(score: Decimal, leniency: Decimal) -> Decimal:
    """`min(3, max(1, score - leniency))`: one score corrected for its rater's leniency (§1.4 policy)."""
    return min(SCALE_MAX, max(SCALE_MIN, score - leniency))


def correct_unit(members: Sequence[Appraisal], bias: BiasReport, policy: Policy) -> tuple[Corrected, ...]:
    """Each member's behaviour result corrected for the leniency of his or her raters, as the unit's bias
    report measured it (policy `bias.correction: leniency`, §1.4), in the members' order."""
    settings = policy.permenpanrb
    if settings is None:
        raise ValueError(f"leniency correction applies under PermenPANRB 6/2022, not {policy.id}")
    leniency = {r.rater_nip: r.leniency for r in bias.raters}
    excluded = frozenset(settings.bias.exclude_relations)
    return tuple(_correct(a, leniency, excluded, policy) for a in members)


def _applies(score: RaterScore, leniency: dict[str, Decimal], excluded: frozenset[str]) -> bool:
    return score.relation not in excluded and score.rater_nip in leniency


def _correct(
    a: Appraisal, leniency: dict[str, Decimal], excluded: frozenset[str], policy: Policy
) -> Corrected:
    settings = policy.permenpanrb
    assert settings is not None
    applied = {s.rater_nip for s in a.behaviour_scores if _applies(s, leniency, excluded)}
    raters = tuple(
        RaterCorrection(nip, leniency.get(nip), nip in applied)
        for nip in sorted({s.rater_nip for s in a.behaviour_scores})
    )
    multi, pp, used = a.rating_perilaku
    unchanged = Corrected(
        a.nip, a.perilaku_score, a.perilaku_score, multi, multi, used, used, a.predikat, a.predikat, raters
    )
    if a.status == FINAL_BY_DECISION:
        none_applied = tuple(RaterCorrection(r.rater_nip, r.leniency, False) for r in raters)
        note = "not corrected: an objection's decision set this result, and it is final (§2.4)"
        return replace(unchanged, raters=none_applied, note=note)
    if a.annual_from:
        none_applied = tuple(RaterCorrection(r.rater_nip, r.leniency, False) for r in raters)
        note = "not corrected: derived from the periodic results (§1.8)"
        return replace(unchanged, raters=none_applied, note=note)

    def points(score: RaterScore) -> Decimal:
        if _applies(score, leniency, excluded):
            return corrected_points(Decimal(score.score), leniency[score.rater_nip])
        return Decimal(score.score)

    aggregate = aggregate_behaviour(a.behaviour_scores, settings.behaviour, policy.rounding, points)
    used_corrected, _divergent, _missing = decide_rating(
        aggregate.rating, pp, a.perilaku_justified, settings.unjustified_divergence
    )
    hasil = a.rating_hasil_kerja[2]
    predikat = matrix_predikat(hasil, used_corrected) if hasil and used_corrected else None
    return Corrected(
        a.nip,
        a.perilaku_score,
        aggregate.score,
        multi,
        aggregate.rating,
        used,
        used_corrected,
        a.predikat,
        predikat,
        raters,
    )
