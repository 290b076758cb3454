"""Rater bias, measured, not hidden (REGULATION.md §1.4): per rater leniency/severity, per unit Krippendorff's
alpha (ordinal) over the behaviour ratings of the unit's employees."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from services.scoring.domain.behaviour import RaterScore
from services.scoring.domain.krippendorff import Metric, alpha
from services.scoring.domain.numbers import fraction_to_decimal


@dataclass(frozen=True, slots=True)
class Leniency:
    """A rater's mean deviation from the other raters of the same employee and value: positive is lenient,
    negative severe; `items` is how many ratings had someone to compare with."""

    rater_nip: str
    leniency: Decimal
    items: int


@dataclass(frozen=True, slots=True)
class BiasReport:
    """Inter-rater reliability of a unit and the leniency of each of its raters."""

    metric: str
    alpha: Decimal | None
    alpha_exact: Fraction | None
    pairable_units: int
    raters: tuple[Leniency, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (decimals as strings; alpha also as an exact fraction)."""
        return {
            "metric": self.metric,
            "alpha": None if self.alpha is None else format(self.alpha, "f"),
            "alpha_exact": None if self.alpha_exact is None else str(self.alpha_exact),
            "pairable_units": self.pairable_units,
            "raters": [
                {"rater_nip": r.rater_nip, "leniency": format(r.leniency, "f"), "items": r.items}
                for r in self.raters
            ],
        }


def measure_bias(
    ratings: Iterable[tuple[str, RaterScore]],
    exclude_relations: Iterable[str],
    alpha_places: int,
    places: int,
    metric: Metric = "ordinal",
) -> BiasReport:
    """Bias among `(appraised nip, score)` pairs. A unit of reliability data is one value of one employee;
    its coders are the raters; self-ratings (and any excluded relation) take no part."""
    excluded = set(exclude_relations)
    items: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for nip, score in ratings:
        if score.relation not in excluded:
            items[(nip, score.value)][score.rater_nip] = score.score
    ordered = [items[key] for key in sorted(items)]
    exact = alpha((tuple(item.values()) for item in ordered), metric)
    deviations: dict[str, list[Fraction]] = defaultdict(list)
    for item in ordered:
        if len(item) < 2:
            continue
        total = sum(item.values())
        for rater, points in item.items():
            others = Fraction(total - points, len(item) - 1)
            deviations[rater].append(points - others)
    raters = tuple(
        Leniency(rater, fraction_to_decimal(sum(devs, Fraction(0)) / len(devs), places), len(devs))
        for rater, devs in sorted(deviations.items())
    )
    return BiasReport(
        metric=metric,
        alpha=None if exact is None else fraction_to_decimal(exact, alpha_places),
        alpha_exact=exact,
        pairable_units=sum(1 for item in ordered if len(item) >= 2),
        raters=raters,
    )
