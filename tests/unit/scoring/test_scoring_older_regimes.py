"""§2.2 (PP 30/2019) and §3 (PP 46/2011): the published examples and the bugs seen in public code."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from services.scoring.domain.older import (
    pp30_nilai,
    pp30_predikat,
    pp46_activity,
    pp46_efficiency_aspect,
    pp46_nilai,
    pp46_nilai_perilaku,
    pp46_nilai_skp,
    pp46_predikat,
    pp46_tugas_tambahan_bonus,
)
from services.scoring.domain.policy import Policy, Pp30Settings, Pp46Settings


def s30(policy: Policy) -> Pp30Settings:
    assert policy.pp30 is not None
    return policy.pp30


def s46(policy: Policy) -> Pp46Settings:
    assert policy.pp46 is not None
    return policy.pp46


# --- PP 30/2019 ---------------------------------------------------------------------------------------------


def test_pp30_with_peer_input_weighs_60_40(pp30: Policy) -> None:
    assert pp30_nilai(D(100), D(80), True, s30(pp30), pp30.rounding) == D("92.00")


def test_pp30_without_peer_input_weighs_70_30(pp30: Policy) -> None:
    assert pp30_nilai(D(100), D(80), False, s30(pp30), pp30.rounding) == D("94.00")


def test_pp30_value_is_capped_at_the_scale_maximum(pp30: Policy) -> None:
    assert pp30_nilai(D(130), D(120), False, s30(pp30), pp30.rounding) == D("120.00")


@pytest.mark.parametrize(
    ("nilai", "innovation", "expected"),
    [
        ("120", True, "Sangat Baik"),
        ("110", True, "Sangat Baik"),
        ("110", False, "Baik"),
        ("119.99", False, "Baik"),
        ("109.99", True, "Baik"),
        ("90", False, "Baik"),
        ("89.99", False, "Cukup"),
        ("70", False, "Cukup"),
        ("69.99", False, "Kurang"),
        ("50", False, "Kurang"),
        ("49.99", False, "Sangat Kurang"),
        ("0", False, "Sangat Kurang"),
    ],
)
def test_pp30_bands(pp30: Policy, nilai: str, innovation: bool, expected: str) -> None:
    assert pp30_predikat(D(nilai), innovation, s30(pp30)) == expected


# --- PP 46/2011: time and cost ------------------------------------------------------------------------------


def waktu(pp46: Policy, tw: str, rw: str) -> D:
    return pp46_efficiency_aspect(D(tw), D(rw), s46(pp46))


def test_pp46_time_on_schedule_scores_76(pp46: Policy) -> None:
    assert waktu(pp46, "12", "12") == D(76)


def test_pp46_time_with_20_percent_efficiency_scores_96(pp46: Policy) -> None:
    assert waktu(pp46, "5", "4") == D(96)


def test_pp46_time_at_exactly_24_percent_efficiency_scores_exactly_100(pp46: Policy) -> None:
    assert waktu(pp46, "12", "9.12") == D(100)


def test_pp46_binary_floats_would_have_missed_the_24_percent_boundary() -> None:
    # the regression this guards against: float arithmetic puts 9.12/12 just past 24%
    assert 100 - (9.12 / 12 * 100) != 24


def test_pp46_above_24_percent_is_76_minus_x_minus_100_in_brackets(pp46: Policy) -> None:
    # TW 12, RW 6: efisiensi 50%, X = (21.12 - 6) / 12 * 100 = 126 → 76 - (126 - 100) = 50
    assert waktu(pp46, "12", "6") == D(50)
    assert waktu(pp46, "12", "6") != D(76) - D(126) - D(100)


def test_pp46_late_work_scores_below_76(pp46: Policy) -> None:
    # TW 12, RW 15: X = (21.12 - 15) / 12 * 100 = 51
    assert waktu(pp46, "12", "15") == D(51)


def test_pp46_time_not_carried_out_scores_zero(pp46: Policy) -> None:
    assert waktu(pp46, "12", "0") == D(0)


def test_pp46_cost_is_not_the_ratio_of_realised_to_target_budget(pp46: Policy) -> None:
    # the bug: RB / TB * 100; RB = TB must give 76, not 100
    assert waktu(pp46, "170395000", "170395000") == D(76)


# --- PP 46/2011: activities, SKP, behaviour, final value ----------------------------------------------------


def test_pp46_published_example_with_cost_gives_85_50(pp46: Policy) -> None:
    capaian, aspects = pp46_activity(
        D(1), D(1), D(100), D(90), D(12), D(12), D(170395000), D(170395000), s46(pp46), pp46.rounding
    )
    assert [v for _, v in aspects] == [D(100), D(90), D(76), D(76)]
    assert capaian == D("85.50")


def test_pp46_published_example_without_cost_gives_88_67(pp46: Policy) -> None:
    capaian, aspects = pp46_activity(
        D(2), D(2), D(100), D(90), D(12), D(12), None, None, s46(pp46), pp46.rounding
    )
    assert len(aspects) == 3
    assert capaian == D("88.67")


def test_pp46_time_on_schedule_still_counts_in_the_divisor(pp46: Policy) -> None:
    capaian, _ = pp46_activity(D(1), D(1), D(100), D(100), D(12), D(12), None, None, s46(pp46), pp46.rounding)
    assert capaian == D("92.00")  # (100 + 100 + 76) / 3, not (100 + 100) / 2


def test_pp46_an_activity_not_carried_out_scores_zero(pp46: Policy) -> None:
    capaian, _ = pp46_activity(D(5), D(0), D(100), D(0), D(12), D(0), None, None, s46(pp46), pp46.rounding)
    assert capaian == D("0.00")


@pytest.mark.parametrize(("count", "bonus"), [(0, 0), (1, 1), (3, 1), (4, 2), (6, 2), (7, 3), (12, 3)])
def test_pp46_tugas_tambahan_steps(pp46: Policy, count: int, bonus: int) -> None:
    assert pp46_tugas_tambahan_bonus(count, s46(pp46)) == D(bonus)


def test_pp46_nilai_skp_adds_tugas_tambahan_and_kreativitas_to_the_mean(pp46: Policy) -> None:
    assert pp46_nilai_skp([D("85.50"), D("88.67")], 4, D(3), s46(pp46), pp46.rounding) == D("92.09")


def test_pp46_behaviour_is_divided_by_the_aspects_scored_not_by_five(pp46: Policy) -> None:
    six = [D(80), D(80), D(80), D(80), D(80), D(80)]
    assert pp46_nilai_perilaku(six, pp46.rounding) == D("80.00")


def test_pp46_final_value_weighs_skp_60_and_behaviour_40(pp46: Policy) -> None:
    assert pp46_nilai(D("85.50"), D("80"), s46(pp46), pp46.rounding) == D("83.30")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("100", "Sangat Baik"),
        ("91", "Sangat Baik"),
        ("90.99", "Baik"),
        ("76", "Baik"),
        ("75.99", "Cukup"),
        ("61", "Cukup"),
        ("60.99", "Kurang"),
        ("51", "Kurang"),
        ("50.99", "Buruk"),
        ("50", "Buruk"),
    ],
)
def test_pp46_bands_after_rounding(pp46: Policy, value: str, expected: str) -> None:
    assert pp46_predikat(D(value), s46(pp46)) == expected
