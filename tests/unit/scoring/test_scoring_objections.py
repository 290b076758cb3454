"""Keberatan in scoring (REGULATION.md §2.4; issue 4): the decision re-projects the result, the predikat follows
from the modified ratings through the §1.5 matrix, the original stays visible, and a decision overdue by the
policy's deadline is reported from event times alone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from scoring_events import ATASAN, WHEN, Stream, iki, rhk

from contracts.envelope import Envelope
from services.scoring.adapters.policy_files import POLICY_DIR
from services.scoring.domain import Policy, appraise
from services.scoring.domain.policy import load_policy

ATASAN_PP = "196501011990031001"  # the Atasan Pejabat Penilai


def at(s: Stream, when: datetime) -> Envelope:
    """Re-date the last event of the stream."""
    s.events[-1] = s.events[-1].model_copy(update={"occurred_at": when})
    return s.events[-1]


def graded(capaian: str, behaviour: int) -> Stream:
    s = Stream("198001012006041001")
    s.assigned()
    s.plan(rhk("r1", iki("a", "100")))
    s.realised("a", capaian)
    s.rated_all(ATASAN, "atasan", behaviour)
    s.closed()
    s.env("result.delivered", {})
    return s


def filed(s: Stream, when: datetime = WHEN + timedelta(days=3)) -> Envelope:
    s.env("objection.filed", {"reasons": "Penilaian perilaku tidak sesuai bukti"})
    return at(s, when)


def decided(s: Stream, objection: Envelope, when: datetime | None = None, **payload: Any) -> Envelope:
    body = {
        "objection_event_id": str(objection.event_id),
        "decided_by_nip": ATASAN_PP,
        "outcome": "diterima",
        "reasons": "Bukti perilaku diperiksa",
        **payload,
    }
    s.env("objection.decided", body, schema_version=2)
    return at(s, when or WHEN + timedelta(days=8))


def test_a_modified_behaviour_rating_changes_the_predikat_through_the_matrix(
    policies: Mapping[str, Policy],
) -> None:
    s = graded("100", 1)  # Sesuai × Di Bawah: Kurang/Misconduct
    decision = decided(s, filed(s), modified_rating_perilaku="Sesuai Ekspektasi")
    result = appraise(s.events, policies).to_json()
    assert (result["predikat"], result["predikat_computed"]) == ("Baik", "Kurang/Misconduct")
    assert result["rating_perilaku"]["used"] == "Sesuai Ekspektasi"
    assert result["rating_perilaku"]["multi_rater"] == "Di Bawah Ekspektasi"
    assert result["status"] == "final (keberatan)"
    objection = result["objection"]
    assert objection["decision_event_id"] == str(decision.event_id)
    assert objection["status"] == "decided"
    assert objection["modified"]["rating_perilaku"] == "Sesuai Ekspektasi"
    assert objection["original"]["predikat"] == "Kurang/Misconduct"
    assert objection["original"]["rating_perilaku"] == "Di Bawah Ekspektasi"
    assert str(decision.event_id) in result["basis_event_ids"]


def test_the_original_in_the_result_is_what_the_stream_gave_before_the_decision(
    policies: Mapping[str, Policy],
) -> None:
    s = graded("85", 2)
    objection = filed(s)
    before = appraise(s.events, policies).to_json()
    decided(s, objection, modified_realisations=[{"iki_id": "a", "value": "100"}])
    after = appraise(s.events, policies).to_json()
    original = after["objection"]["original"]
    assert original["predikat"] == before["predikat"] == "Butuh Perbaikan"
    assert original["capaian_hasil_kerja"] == before["capaian_hasil_kerja"] == "85.00"
    assert original["iki"][0]["realisasi"] == before["iki"][0]["realisasi"] == "85"


def test_a_modified_realisation_replaces_the_one_in_force_and_names_the_decision(
    policies: Mapping[str, Policy],
) -> None:
    s = graded("85", 2)  # Di Bawah × Sesuai: Butuh Perbaikan
    decision = decided(s, filed(s), modified_realisations=[{"iki_id": "a", "value": "100"}])
    a = appraise(s.events, policies)
    assert (a.iki[0].realisasi, str(a.iki[0].capaian)) == (100, "100.00")
    assert a.iki[0].evidence_event_ids == (str(decision.event_id),)
    assert (a.predikat_computed, a.predikat) == ("Butuh Perbaikan", "Baik")


def test_a_rejected_objection_leaves_the_result_as_it_was_and_final(policies: Mapping[str, Policy]) -> None:
    s = graded("100", 1)
    before = appraise(s.events, policies).to_json()
    decided(s, filed(s), outcome="ditolak")
    result = appraise(s.events, policies).to_json()
    assert result["predikat"] == before["predikat"] == "Kurang/Misconduct"
    assert result["status"] == "final (keberatan)"
    assert (result["objection"]["outcome"], result["objection"]["original"]) == ("ditolak", None)


def test_a_filed_objection_awaits_the_decision_until_its_due_day(policies: Mapping[str, Policy]) -> None:
    s = graded("100", 2)
    objection = filed(s, datetime.fromisoformat("2025-10-06T09:00:00+07:00"))
    result = appraise(s.events, policies).to_json()["objection"]
    assert (result["status"], result["decision_due"], result["decision_days"]) == ("filed", "2025-10-20", 14)
    assert result["objection_event_id"] == str(objection.event_id)


def test_a_decision_missing_after_its_due_day_is_reported_overdue_by_the_next_event(
    policies: Mapping[str, Policy],
) -> None:
    s = graded("100", 2)
    filed(s, datetime.fromisoformat("2025-10-06T09:00:00+07:00"))
    s.env("feedback.given", {"from_nip": ATASAN, "text": "Menunggu keputusan atasan"}, schema_version=2)
    revealing = at(s, datetime.fromisoformat("2025-10-21T09:00:00+07:00"))
    result = appraise(s.events, policies).to_json()
    assert result["objection"]["status"] == "overdue"
    assert result["objection"]["overdue_as_of"] == "2025-10-21T09:00:00+07:00"
    assert str(revealing.event_id) in result["basis_event_ids"]


def test_a_late_decision_is_final_and_says_it_was_late(policies: Mapping[str, Policy]) -> None:
    s = graded("100", 2)
    objection = filed(s, datetime.fromisoformat("2025-10-06T09:00:00+07:00"))
    decided(s, objection, datetime.fromisoformat("2025-10-25T09:00:00+07:00"), outcome="ditolak")
    result = appraise(s.events, policies).to_json()["objection"]
    assert (result["status"], result["decided_late"]) == ("decided", True)


def test_the_decision_deadline_comes_from_the_policy_file() -> None:
    text = (POLICY_DIR / "permenpanrb-6-2022.yaml").read_bytes()
    assert b"decision_days: 14" in text
    short = load_policy(text.replace(b"decision_days: 14", b"decision_days: 3"))
    s = graded("100", 2)
    filed(s, datetime.fromisoformat("2025-10-06T09:00:00+07:00"))
    result = appraise(s.events, {short.id: short}).to_json()["objection"]
    assert result["decision_due"] == "2025-10-09"


def test_explanations_are_counted_and_are_part_of_the_basis(policies: Mapping[str, Policy]) -> None:
    s = graded("100", 2)
    objection = filed(s)
    request = s.env(
        "objection.explanation.requested",
        {
            "objection_event_id": str(objection.event_id),
            "requested_by_nip": ATASAN_PP,
            "from_nips": [ATASAN],
            "question": "Mengapa perilaku dinilai di bawah ekspektasi?",
        },
    )
    answer = s.env(
        "objection.explanation.given",
        {"request_event_id": str(request.event_id), "given_by_nip": ATASAN, "explanation": "Dua teguran tertulis"},
    )
    result = appraise(s.events, policies).to_json()
    assert result["objection"]["explanations"] == {"requested": 1, "given": 1}
    assert {str(request.event_id), str(answer.event_id), str(objection.event_id)} <= set(result["basis_event_ids"])


def test_under_a_numeric_regime_the_decision_sets_the_predikat_directly(policies: Mapping[str, Policy]) -> None:
    pp30 = policies["pp30-2019"]
    s = Stream("198001012006041001", "2021-S2")
    s.assigned()
    s.env("pp30.skp.valued", {"rater_nip": ATASAN, "nilai_skp": "80"})
    s.env("pp30.behaviour.valued", {"rater_nip": ATASAN, "nilai_perilaku": "80"})
    decided(s, filed(s), predikat="Baik")
    a = appraise(s.events, policies)
    assert a.policy[0] == pp30.id
    assert (a.predikat_computed, a.predikat) == ("Cukup", "Baik")
