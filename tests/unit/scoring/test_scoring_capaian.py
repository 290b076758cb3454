"""§1.3: capaian per IKI, per RHK, hasil kerja, and the evidence rating."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from contracts.events import Direction, Rating
from services.scoring.domain.capaian import capaian_hasil_kerja, capaian_iki, capaian_rhk, rating_from_bands
from services.scoring.domain.policy import Policy

HIGHER = Direction.HIGHER_IS_BETTER
LOWER = Direction.LOWER_IS_BETTER


def iki(permen: Policy, realisasi: str, low: str, high: str, direction: Direction = HIGHER) -> D:
    assert permen.permenpanrb is not None
    return capaian_iki(D(realisasi), D(low), D(high), direction, permen.permenpanrb.capaian, permen.rounding)


def test_higher_is_better_divides_realisation_by_target(permen: Policy) -> None:
    assert iki(permen, "45", "50", "50") == D("90.00")


def test_a_range_target_uses_the_lower_bound_when_realisation_is_below_it(permen: Policy) -> None:
    assert iki(permen, "70", "80", "90") == D("87.50")


def test_a_range_target_uses_the_upper_bound_when_realisation_is_above_it(permen: Policy) -> None:
    assert iki(permen, "99", "80", "90") == D("110.00")


def test_a_realisation_inside_the_range_meets_the_target(permen: Policy) -> None:
    assert iki(permen, "85", "80", "90") == D("100.00")


def test_lower_is_better_below_the_range_uses_the_lower_bound(permen: Policy) -> None:
    assert iki(permen, "6.5", "7", "8", LOWER) == D("107.14")


def test_lower_is_better_above_the_range_uses_the_upper_bound(permen: Policy) -> None:
    assert iki(permen, "9", "7", "8", LOWER) == D("87.50")


def test_capaian_is_capped_at_120(permen: Policy) -> None:
    assert iki(permen, "300", "100", "100") == D("120.00")


def test_lower_is_better_far_past_the_target_floors_at_zero(permen: Policy) -> None:
    assert iki(permen, "30", "10", "10", LOWER) == D("0.00")


def test_capaian_rhk_is_the_mean_of_its_iki(permen: Policy) -> None:
    assert capaian_rhk([D("100.00"), D("87.50"), D("107.14")], permen.rounding) == D("98.21")


def test_hasil_kerja_weights_main_rhk_by_the_plan(permen: Policy) -> None:
    assert capaian_hasil_kerja([(D("100"), D("3")), (D("80"), D("1"))], permen.rounding) == D("95.00")


def test_hasil_kerja_counts_rhk_equally_when_weights_are_absent(permen: Policy) -> None:
    assert capaian_hasil_kerja([(D("100"), None), (D("80"), None)], permen.rounding) == D("90.00")


def test_hasil_kerja_counts_rhk_equally_when_only_some_carry_weights(permen: Policy) -> None:
    assert capaian_hasil_kerja([(D("100"), D("3")), (D("80"), None)], permen.rounding) == D("90.00")


def test_hasil_kerja_of_a_plan_without_main_rhk_is_none(permen: Policy) -> None:
    assert capaian_hasil_kerja([], permen.rounding) is None


@pytest.mark.parametrize(
    ("capaian", "rating"),
    [
        ("120", Rating.DI_ATAS),
        ("110", Rating.DI_ATAS),
        ("109.99", Rating.SESUAI),
        ("90", Rating.SESUAI),
        ("89.99", Rating.DI_BAWAH),
        ("0", Rating.DI_BAWAH),
    ],
)
def test_the_evidence_rating_follows_the_110_and_90_bands(
    permen: Policy, capaian: str, rating: Rating
) -> None:
    assert permen.permenpanrb is not None
    assert rating_from_bands(D(capaian), permen.permenpanrb.evidence_rating) is rating
