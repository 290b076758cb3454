"""Krippendorff's alpha against the worked examples of "Computing Krippendorff's Alpha-Reliability" (2011),
and rater leniency (§1.4)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from services.scoring.domain.behaviour import RaterScore
from services.scoring.domain.bias import measure_bias
from services.scoring.domain.krippendorff import alpha, units_from_matrix

N = None
#: Section C: 4 observers, 12 units, values 1-5, missing data (unit 12 has one value: not pairable).
FOUR_OBSERVERS = units_from_matrix(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
        [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
    ]
)


def three(value: Fraction | None) -> Decimal:
    assert value is not None
    return round(Decimal(value.numerator) / Decimal(value.denominator), 3)


@pytest.mark.parametrize(
    ("metric", "published"),
    [("nominal", "0.743"), ("ordinal", "0.815"), ("interval", "0.849"), ("ratio", "0.797")],
)
def test_alpha_reproduces_the_published_four_observer_example(metric: str, published: str) -> None:
    assert three(alpha(FOUR_OBSERVERS, metric)) == Decimal(published)  # type: ignore[arg-type]


def test_alpha_reproduces_the_published_binary_example() -> None:
    units = units_from_matrix([[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]])
    assert alpha(units, "nominal") == Fraction(2, 21)  # 0.095


def test_alpha_reproduces_the_published_two_observer_nominal_example() -> None:
    a, b, c, d, e = 1, 2, 3, 4, 5
    units = units_from_matrix([[a, a, b, b, d, c, c, c, e, d, d, a], [b, a, b, b, b, c, c, c, e, d, d, d]])
    assert three(alpha(units, "nominal")) == Decimal("0.692")


def test_perfect_agreement_gives_one() -> None:
    assert alpha([(1, 1), (2, 2), (3, 3, 3)], "ordinal") == 1


def test_alpha_is_undefined_without_variation_or_pairable_units() -> None:
    assert alpha([(2, 2), (2, 2)], "ordinal") is None
    assert alpha([(1,), (3,)], "ordinal") is None


def test_ordinal_disagreement_depends_on_the_distance_between_ranks() -> None:
    near = alpha([(1, 2), (2, 2), (3, 3), (1, 1), (3, 3)], "ordinal")
    far = alpha([(1, 3), (2, 2), (3, 3), (1, 1), (3, 3)], "ordinal")
    assert near is not None
    assert far is not None
    assert near > far


def score(rater: str, value: str, points: int, relation: str = "rekan") -> RaterScore:
    return RaterScore(rater, relation, value, points, f"{rater}-{value}")


def test_a_rater_above_the_others_is_lenient_and_one_below_severe() -> None:
    ratings = [
        ("e1", score("lenient", "loyal", 3)),
        ("e1", score("fair", "loyal", 2)),
        ("e1", score("severe", "loyal", 1)),
    ]
    report = measure_bias(ratings, ["diri"], 3, 2)
    assert [(r.rater_nip, r.leniency) for r in report.raters] == [
        ("fair", Decimal("0.00")),
        ("lenient", Decimal("1.50")),
        ("severe", Decimal("-1.50")),
    ]


def test_self_ratings_take_no_part_in_bias() -> None:
    ratings = [("e1", score("boss", "loyal", 2, "atasan")), ("e1", score("e1", "loyal", 3, "diri"))]
    report = measure_bias(ratings, ["diri"], 3, 2)
    assert report.pairable_units == 0
    assert report.raters == ()


def test_the_unit_alpha_is_ordinal_over_employee_values() -> None:
    ratings = [
        (f"e{u}", score(f"r{i}", "loyal", v))
        for u, unit in enumerate(FOUR_OBSERVERS)
        for i, v in enumerate(unit)
    ]
    report = measure_bias(ratings, ["diri"], 3, 2)
    assert report.alpha == Decimal("0.815")
    assert report.pairable_units == 11
