"""The explanation shows the angka kredit a jabatan fungsional's predikat earns and how it was counted
(REGULATION.md §5), from the jenjang her assignment names; for anyone else it shows none."""

from __future__ import annotations

import pytest
from web_org import GURU_A, GURU_B, KEPALA, PERIOD, MemoryReads, organisation, with_assignment

from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.app.access import Principal, Role
from services.scoring.app.read import ReadService


@pytest.fixture(scope="module")
def service() -> ReadService:
    policies = load_default_policies()
    events = with_assignment(organisation().events, GURU_A, jenjang_fungsional="Ahli Pertama")
    return ReadService(MemoryReads(events, policies), policies)


async def test_the_teacher_sees_her_angka_kredit_with_the_formula_and_the_policy(service: ReadService) -> None:
    doc = await service.appraisal(Principal(GURU_A, Role.EMPLOYEE, 0), GURU_A, PERIOD)
    credit = doc["angka_kredit"]
    assert doc["result"]["predikat"] == "Baik" and credit == doc["result"]["angka_kredit"]
    assert credit["formula"] == "3/12 × 100% × 12.5 = 3.13"  # 3.125 rounded half up, once
    assert (credit["jenjang"], credit["months"], credit["percentage"], credit["value"]) == (
        "Ahli Pertama", 3, "100", "3.13")
    assert credit["policy"]["id"] == "angka-kredit-permenpanrb-1-2023" and credit["policy"]["version"] == "1.0.0"
    assert set(credit["event_ids"]) <= set(doc["result"]["basis_event_ids"])


async def test_a_colleague_without_a_jenjang_is_shown_no_angka_kredit(service: ReadService) -> None:
    doc = await service.appraisal(Principal(KEPALA, Role.SUPERIOR, 0), GURU_B, PERIOD)
    assert doc["angka_kredit"] is None and "angka_kredit" not in doc["result"]
