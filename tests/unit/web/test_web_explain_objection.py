"""The explanation of an appraisal after an objection (REGULATION.md §2.4; issue 4): an objection whose due day
passed without a decision shows as overdue; a decision shows what it modified, the result before it beside the
final one, whether it came late, and that the final result is the Atasan Pejabat Penilai's decision."""

from __future__ import annotations

from datetime import timedelta

from web_org import GURU_A, PENGAWAS, PERIOD, MemoryReads, Org, organisation

from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.app.access import Principal, Role
from services.scoring.app.read import ReadService

ME = Principal(GURU_A, Role.EMPLOYEE, 0)


def _filing(org: Org) -> str:
    (filed,) = [e for e in org.events if e.type == "objection.filed"]
    return str(filed.event_id)


def _later(org: Org, days: int) -> None:
    """Date the last event `days` after the filing (the stream's own clock, §2.4)."""
    (filed,) = [e for e in org.events if e.type == "objection.filed"]
    org.events[-1] = org.events[-1].model_copy(update={"occurred_at": filed.occurred_at + timedelta(days=days)})


async def explained(org: Org) -> dict:
    policies = load_default_policies()
    return await ReadService(MemoryReads(org.events, policies), policies).appraisal(ME, GURU_A, PERIOD)


def decided(days: int) -> Org:
    org = organisation()
    org.add(
        "objection.decided",
        GURU_A,
        {
            "objection_event_id": _filing(org),
            "decided_by_nip": PENGAWAS,
            "outcome": "diterima",
            "modified_rating_perilaku": "Di Atas Ekspektasi",
            "modified_realisations": [{"iki_id": "aps", "value": "99.50"}],
            "reasons": "Bukti September sah",
        },
        source=f"nip:{PENGAWAS}",
        schema_version=2,
    )
    _later(org, days)
    return org


async def test_an_undecided_objection_past_its_due_day_is_shown_overdue() -> None:
    org = organisation()
    org.add(
        "objection.explanation.requested",
        GURU_A,
        {"objection_event_id": _filing(org), "requested_by_nip": PENGAWAS, "from_nips": [GURU_A],
         "question": "Bukti mana yang belum dihitung?"},
        source=f"nip:{PENGAWAS}",
    )  # fmt: skip
    _later(org, 20)
    o = (await explained(org))["objection"]
    assert (o["status"], o["overdue"]) == ("examined", True)
    assert o["overdue_as_of"] and o["decision_due"]
    assert o["original"] is None and o["final"] is None


async def test_an_objection_within_its_due_day_is_not_overdue() -> None:
    o = (await explained(organisation()))["objection"]
    assert (o["status"], o["overdue"], o["decided_late"]) == ("filed", False, False)


async def test_a_decision_shows_the_original_result_beside_the_final_one_and_what_it_modified() -> None:
    doc = await explained(decided(days=5))
    o = doc["objection"]
    assert o["status"] == "decided" and not o["overdue"] and not o["decided_late"]
    assert o["modified"] == {
        "rating_hasil_kerja": None,
        "rating_perilaku": "Di Atas Ekspektasi",
        "realisations": [{"iki_id": "aps", "value": "99.50"}],
    }
    assert o["original"]["predikat"] == "Baik"
    assert o["original"]["rating_perilaku"] != "Di Atas Ekspektasi"
    assert o["final"]["predikat"] == doc["result"]["predikat"] == "Sangat Baik"
    assert o["final"]["rating_perilaku"] == "Di Atas Ekspektasi"
    assert o["final"]["from_decision"] is True
    assert [i["realisasi"] for i in o["final"]["iki"]] == ["99.50"]


async def test_a_decision_after_its_due_day_is_shown_as_decided_late() -> None:
    o = (await explained(decided(days=20)))["objection"]
    assert (o["status"], o["decided_late"], o["overdue"]) == ("decided", True, False)
