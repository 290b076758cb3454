"""§1.8 annual from periodic: `own` by default; `worst-period` and `mean` when a policy chooses them."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from scoring_events import NIP_A, employee

from contracts.envelope import Envelope
from services.scoring.adapters.policy_files import POLICY_DIR
from services.scoring.domain import Policy, load_policy, score_stream


def with_annual(mode: str) -> dict[str, Policy]:
    text = (POLICY_DIR / "permenpanrb-6-2022.yaml").read_bytes()
    policy = load_policy(text.replace(b"annual: own", f"annual: {mode}".encode()))
    return {policy.id: policy}


def year(periods: list[tuple[str, str, int]], annual: tuple[str, int] | None = ("100", 2)) -> list[Envelope]:
    events = [
        e for period, capaian, behaviour in periods for e in employee(NIP_A, capaian, behaviour, period)
    ]
    if annual is not None:
        events += employee(NIP_A, annual[0], annual[1], "2025")
    return events


QUARTERS = [("2025-Q1", "120", 3), ("2025-Q2", "120", 3), ("2025-Q3", "80", 2), ("2025-Q4", "120", 3)]


def annual_of(policies: Mapping[str, Policy], events: list[Envelope]) -> tuple[str | None, tuple[str, ...]]:
    out = score_stream(events, policies)
    (annual,) = [a for a in out.appraisals if a.period == "2025"]
    return annual.predikat, annual.annual_from


def test_by_default_the_annual_evaluation_is_its_own(policies: Mapping[str, Policy]) -> None:
    assert annual_of(policies, year(QUARTERS)) == ("Baik", ())


def test_worst_period_takes_the_worst_periodic_predikat() -> None:
    assert annual_of(with_annual("worst-period"), year(QUARTERS)) == (
        "Butuh Perbaikan",
        ("2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"),
    )


def test_mean_averages_the_periodic_ratings_then_reads_the_matrix() -> None:
    # hasil kerja ranks 3, 3, 1, 3 -> 2.5 -> 3; perilaku 3, 3, 2, 3 -> 2.75 -> 3
    assert annual_of(with_annual("mean"), year(QUARTERS))[0] == "Sangat Baik"


def test_the_derived_annual_result_carries_the_periodic_bases() -> None:
    out = score_stream(year(QUARTERS), with_annual("worst-period"))
    annual = next(a for a in out.appraisals if a.period == "2025")
    for periodic in (a for a in out.appraisals if a.period != "2025"):
        assert set(periodic.basis_event_ids) <= set(annual.basis_event_ids)


@pytest.mark.parametrize("mode", ["worst-period", "mean"])
def test_without_periodic_appraisals_the_annual_one_stands(mode: str) -> None:
    assert annual_of(with_annual(mode), year([])) == ("Baik", ())
