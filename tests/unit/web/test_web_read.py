"""The read use cases over an in-memory read model: explained appraisals, a unit's curve, results as of a time,
and export rows, each behind the role rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from web_org import (
    AT,
    GURU_A,
    GURU_B,
    KEPALA,
    OUTSIDER,
    PENGAWAS,
    PERIOD,
    UNIT,
    MemoryReads,
    organisation,
)

from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.app.access import Forbidden, Principal, Role
from services.scoring.app.read import NotFound, ReadService, pejabat_penilai_in_force

AUDITOR = Principal(None, Role.AUDITOR, 0)


@pytest.fixture(scope="module")
def org_events() -> list:
    return organisation().events


@pytest.fixture(scope="module")
def service(org_events: list) -> ReadService:
    policies = load_default_policies()
    return ReadService(MemoryReads(org_events, policies), policies)


def employee(nip: str) -> Principal:
    return Principal(nip, Role.EMPLOYEE, 0)


def superior(nip: str) -> Principal:
    return Principal(nip, Role.SUPERIOR, 0)


async def test_an_employee_reads_her_appraisal_with_every_realisation_and_its_document(
    service: ReadService,
) -> None:
    doc = await service.appraisal(employee(GURU_A), GURU_A, PERIOD)
    (aps,) = doc["iki"]
    assert [e["value"] for e in aps["evidence"]] == ["96.00", "98.50"]
    assert [e["in_force"] for e in aps["evidence"]] == [False, True]
    assert aps["evidence"][1]["link"] == "https://dapodik.example/aps/a/agustus"
    assert aps["evidence"][1]["source_system"] == "dapodik"
    assert aps["evidence"][1]["recorded_at"]
    assert doc["result"]["predikat"] == "Baik"
    assert doc["result"]["divergence"]["justification"] == "Memimpin program literasi"
    assert doc["pejabat_penilai_ratings"][0]["rating_hasil_kerja"] == "Di Atas Ekspektasi"
    assert doc["superiors"] == [KEPALA, PENGAWAS]
    assert doc["objection"]["status"] == "filed"


async def test_a_document_that_is_not_a_url_is_shown_without_a_link(service: ReadService) -> None:
    doc = await service.appraisal(employee(GURU_B), GURU_B, PERIOD)
    assert doc["iki"][0]["evidence"][0]["link"] is None
    assert doc["iki"][0]["evidence"][0]["document"] == "dapodik:aps/b"


async def test_another_employee_is_refused_and_so_is_a_superior_outside_the_chain(
    service: ReadService,
) -> None:
    with pytest.raises(Forbidden):
        await service.appraisal(employee(GURU_B), GURU_A, PERIOD)
    with pytest.raises(Forbidden):
        await service.appraisal(superior(KEPALA), OUTSIDER, PERIOD)


async def test_the_atasan_pejabat_penilai_reads_the_appraisal_objected_to(service: ReadService) -> None:
    doc = await service.appraisal(superior(PENGAWAS), GURU_A, PERIOD)
    assert doc["viewer"] == {"nip": PENGAWAS, "role": "superior"}
    assert doc["behaviour_answers_withheld"] == 7  # a superior sees aggregates, like the ratee


async def test_an_appraisal_that_does_not_exist_is_not_found(service: ReadService) -> None:
    with pytest.raises(NotFound):
        await service.appraisal(AUDITOR, GURU_A, "2024-Q1")


async def test_the_unit_view_counts_final_predicates_against_the_curve_of_its_org_predicate(
    service: ReadService,
) -> None:
    unit = await service.unit(AUDITOR, UNIT, PERIOD)
    assert unit["unit_name"] == "SD Negeri 1 Candisari"
    assert unit["org_predicate"] == "Baik"
    assert unit["predikat_counts"]["Baik"] == 2
    assert unit["final"] == 2
    assert {r["check"] for r in unit["curve_rules"]} == {"largest", "at_most", "min_count"}
    # Baik at 2/2 breaks "at most 70%" and "at least one Butuh Perbaikan or Kurang" (§1.7): warned, not hidden
    assert unit["kurva"]["verdict"] == "warn"
    assert len(unit["kurva"]["violations"]) == 2
    assert [m["nip"] for m in unit["members"]] == [GURU_A, GURU_B]
    assert unit["bias"] is not None


async def test_a_member_sees_the_distribution_and_only_his_or_her_own_row(service: ReadService) -> None:
    unit = await service.unit(employee(GURU_B), UNIT, PERIOD)
    assert unit["predikat_counts"]["Baik"] == 2
    assert [m["nip"] for m in unit["members"]] == [GURU_B]
    assert unit["bias"] is None  # per-rater leniency names raters


async def test_someone_outside_the_unit_is_refused(service: ReadService) -> None:
    with pytest.raises(Forbidden):
        await service.unit(employee(OUTSIDER), UNIT, PERIOD)


async def test_results_as_of_a_time_use_only_the_evidence_recorded_by_then(
    service: ReadService, org_events: list
) -> None:
    second = next(e for e in org_events if e.type == "realisation.recorded" and e.payload["value"] == "98.50")
    before = await service.as_of(AUDITOR, second.recorded_at - timedelta(seconds=1), PERIOD, UNIT)
    after = await service.as_of(AUDITOR, second.recorded_at, PERIOD, UNIT)
    realised = {r["nip"]: r["iki"][0]["realisasi"] for r in before}
    assert realised[GURU_A] == "96.00"
    assert {r["nip"]: r["iki"][0]["realisasi"] for r in after}[GURU_A] == "98.50"
    assert await service.as_of(AUDITOR, AT - timedelta(days=1), None, None) == []


async def test_results_as_of_a_time_are_an_auditors_view(service: ReadService) -> None:
    with pytest.raises(Forbidden):
        await service.as_of(superior(KEPALA), None, PERIOD, None)


async def test_the_export_lists_the_whole_unit_for_an_auditor_and_a_superiors_own_people(
    service: ReadService,
) -> None:
    rows = await service.export_rows(AUDITOR, UNIT, PERIOD)
    assert [(r.nip, r.nama, r.predikat) for r in rows] == [
        (GURU_A, "Ani Guru", "Baik"),
        (GURU_B, "Budi Guru", "Baik"),
    ]
    assert rows[0].rating_hasil_kerja == "Di Atas Ekspektasi"
    with pytest.raises(Forbidden):
        await service.export_rows(employee(GURU_A), UNIT, PERIOD)
    with pytest.raises(Forbidden):
        await service.export_rows(superior(OUTSIDER), UNIT, PERIOD)


async def test_the_overview_lists_own_appraisals_appraisees_and_for_auditors_every_unit(
    service: ReadService,
) -> None:
    mine = await service.overview(superior(KEPALA))
    assert {r["nip"] for r in mine["appraisees"]} == {GURU_A, GURU_B}
    assert mine["units"] == [{"unit_id": UNIT, "period": PERIOD}]
    audit = await service.overview(AUDITOR)
    assert {(u["unit_id"], u["employees"]) for u in audit["units"]} == {(UNIT, 2), ("sd-2", 1)}


def test_a_later_assignment_effective_before_the_period_ends_decides_the_pejabat_penilai() -> None:
    def assigned(n: int, penilai: str, effective: str, **extra: str) -> dict:
        return {
            "event_id": f"e{n}",
            "subject": GURU_A,
            "payload": {"pejabat_penilai_nip": penilai, "effective_from": effective},
            **extra,
        }

    events = [
        assigned(1, KEPALA, "2025-01-02T00:00:00+07:00"),
        assigned(2, PENGAWAS, "2025-08-01T00:00:00+07:00"),
        assigned(3, GURU_B, "2026-01-01T00:00:00+07:00"),
    ]
    assert pejabat_penilai_in_force(events, "2025-Q3") == {GURU_A: PENGAWAS}
    assert pejabat_penilai_in_force(events, "2025-Q2") == {GURU_A: KEPALA}
    corrected = [*events, assigned(4, KEPALA, "2025-07-15T00:00:00+07:00", supersedes="e2")]
    assert pejabat_penilai_in_force(corrected, "2025-Q3") == {GURU_A: KEPALA}
