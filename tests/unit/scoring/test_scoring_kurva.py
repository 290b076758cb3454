"""§1.7 the kurva distribusi: each organisation predicate's constraints, shares compared exactly."""

from __future__ import annotations

import pytest

from services.scoring.domain.kurva import check_curve
from services.scoring.domain.policy import Kurva, Policy

SB, B, BP, KM, SK = "Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang/Misconduct", "Sangat Kurang"


@pytest.fixture
def kurva(permen: Policy) -> Kurva:
    assert permen.permenpanrb is not None
    return permen.permenpanrb.kurva


def shares(kurva: Kurva, org: str, **counts: int) -> list[tuple[str, str]]:
    named = {SB: counts.get("sb", 0), B: counts.get("b", 0), BP: counts.get("bp", 0)}
    named |= {KM: counts.get("km", 0), SK: counts.get("sk", 0)}
    verdict = check_curve(named, org, kurva)
    return [(v.check, f"{v.count}/{v.total}") for v in verdict.violations]


def test_istimewa_allows_sangat_baik_at_exactly_70_percent(kurva: Kurva) -> None:
    assert shares(kurva, "Istimewa", sb=7, b=3) == []


def test_istimewa_warns_at_8_of_10_sangat_baik(kurva: Kurva) -> None:
    assert shares(kurva, "Istimewa", sb=8, b=2) == [("at_most", "8/10")]


def test_istimewa_needs_sangat_baik_to_be_the_largest_group(kurva: Kurva) -> None:
    assert shares(kurva, "Istimewa", sb=3, b=5, bp=2) == [("largest", "3/10")]


def test_a_tie_for_the_largest_group_is_allowed(kurva: Kurva) -> None:
    assert shares(kurva, "Istimewa", sb=4, b=4, bp=2) == []


def test_baik_allows_7_of_10_with_one_butuh_perbaikan(kurva: Kurva) -> None:
    assert shares(kurva, "Baik", sb=2, b=7, bp=1) == []


def test_baik_needs_at_least_one_butuh_perbaikan_or_misconduct(kurva: Kurva) -> None:
    assert shares(kurva, "Baik", sb=3, b=7) == [("min_count", "0/10")]


def test_baik_warns_when_baik_is_more_than_70_percent(kurva: Kurva) -> None:
    assert shares(kurva, "Baik", b=8, km=1, sb=1) == [("at_most", "8/10")]


def test_a_misconduct_counts_toward_the_baik_minimum(kurva: Kurva) -> None:
    assert shares(kurva, "Baik", sb=3, b=6, km=1) == []


def test_butuh_perbaikan_needs_60_percent_and_at_most_10_percent_sangat_baik(kurva: Kurva) -> None:
    assert shares(kurva, "Butuh Perbaikan", bp=6, b=3, sb=1) == []
    assert shares(kurva, "Butuh Perbaikan", bp=5, b=3, sb=2) == [("at_least", "5/10"), ("at_most", "2/10")]


def test_kurang_needs_misconduct_60_and_butuh_perbaikan_10_percent(kurva: Kurva) -> None:
    assert shares(kurva, "Kurang", km=6, bp=1, b=2, sb=1) == []
    assert shares(kurva, "Kurang", km=6, b=4) == [("at_least", "0/10")]


def test_sangat_kurang_allows_no_sangat_baik(kurva: Kurva) -> None:
    assert shares(kurva, "Sangat Kurang", sk=6, km=1, bp=2) == []
    assert shares(kurva, "Sangat Kurang", sk=6, km=1, bp=2, sb=1) == [("at_most", "1/10")]


def test_sangat_kurang_needs_misconduct_and_butuh_perbaikan_together_10_percent(kurva: Kurva) -> None:
    assert shares(kurva, "Sangat Kurang", sk=9, b=1) == [("at_least", "0/10")]


def test_shares_are_exact_fractions_not_rounded_percentages(kurva: Kurva) -> None:
    # 2 of 3 is 66.666...%: within 70%; 5 of 7 is 71.43%: not
    assert shares(kurva, "Istimewa", sb=2, b=1) == []
    assert shares(kurva, "Istimewa", sb=5, b=2) == [("at_most", "5/7")]


def test_the_verdict_is_the_mode_in_force(kurva: Kurva) -> None:
    counts = {SB: 8, B: 2}
    assert check_curve(counts, "Istimewa", kurva).verdict == "warn"
    assert check_curve(counts, "Istimewa", kurva, "block").verdict == "block"
    assert check_curve({SB: 7, B: 3}, "Istimewa", kurva, "block").verdict == "ok"


def test_without_an_organisation_predicate_the_curve_is_not_checked(kurva: Kurva) -> None:
    verdict = check_curve({SB: 10}, None, kurva)
    assert (verdict.verdict, verdict.checked) == ("ok", False)


def test_without_final_predicates_the_curve_is_not_checked(kurva: Kurva) -> None:
    assert not check_curve({}, "Baik", kurva).checked
