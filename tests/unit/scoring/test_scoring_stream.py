"""score_stream: routing, units (§1.6, §1.7), rater bias per unit (§1.4), and the older regimes by period."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import pytest
from scoring_events import ATASAN, NIP_A, NIP_B, NIP_C, REKAN_1, UNIT, Stream, employee, iki, rhk

from contracts.envelope import Envelope
from services.scoring.domain import Policy, score_stream


def unit_events(predicate: str = "Baik", *, mode: str | None = None, period: str = "2025") -> Stream:
    u = Stream(UNIT, period)
    u.env(
        "org.predicate.set",
        {"unit_id": UNIT, "predicate": predicate, "set_by_nip": ATASAN, "curve_mode": mode},
    )
    return u


def nip(n: int) -> str:
    return f"19800101200604{n:04d}"


def test_appraisals_are_sorted_by_nip_and_period(policies: Mapping[str, Policy]) -> None:
    events = [
        *employee(NIP_C, "100", 2),
        *employee(NIP_A, "100", 2, period="2025-Q1"),
        *employee(NIP_A, "100", 2),
    ]
    out = score_stream(events, policies)
    assert [(a.nip, a.period) for a in out.appraisals] == [
        (NIP_A, "2025"),
        (NIP_A, "2025-Q1"),
        (NIP_C, "2025"),
    ]


def test_a_unit_is_counted_and_checked_against_its_predicate(policies: Mapping[str, Policy]) -> None:
    events = [e for i in range(10) for e in employee(nip(i), "120" if i < 8 else "100", 3 if i < 8 else 2)]
    (unit,) = score_stream([*events, *unit_events("Istimewa").events], policies).units
    assert dict(unit.predikat_counts)["Sangat Baik"] == 8
    assert unit.curve.verdict == "warn"
    assert [v.to_json()["share"] for v in unit.curve.violations] == ["8/10"]


def test_seven_of_ten_sangat_baik_is_allowed_under_istimewa(policies: Mapping[str, Policy]) -> None:
    events = [e for i in range(10) for e in employee(nip(i), "120" if i < 7 else "100", 3 if i < 7 else 2)]
    (unit,) = score_stream([*events, *unit_events("Istimewa").events], policies).units
    assert unit.curve.verdict == "ok"
    assert unit.curve.checked


def test_block_mode_on_the_predicate_event_blocks(policies: Mapping[str, Policy]) -> None:
    events = [e for i in range(3) for e in employee(nip(i), "120", 3)]
    (unit,) = score_stream([*events, *unit_events("Baik", mode="block").events], policies).units
    assert unit.curve.verdict == "block"


def test_only_final_predicates_count_toward_the_curve(policies: Mapping[str, Policy]) -> None:
    events = [*employee(NIP_A, "120", 3), *employee(NIP_B, "120", 3, closed=False)]
    (unit,) = score_stream(events, policies).units
    assert dict(unit.predikat_counts)["Sangat Baik"] == 1
    assert unit.provisional == 1


def test_closing_the_unit_period_makes_its_predicates_final(policies: Mapping[str, Policy]) -> None:
    events = [*employee(NIP_A, "120", 3, closed=False), *employee(NIP_B, "120", 3, closed=False)]
    u = unit_events()
    u.env("period.closed", {"closed_by": ATASAN})
    (unit,) = score_stream([*events, *u.events], policies).units
    assert dict(unit.predikat_counts)["Sangat Baik"] == 2


def test_a_corrected_organisation_predicate_replaces_the_first(policies: Mapping[str, Policy]) -> None:
    u = unit_events("Kurang")
    u.env(
        "org.predicate.set",
        {"unit_id": UNIT, "predicate": "Istimewa", "set_by_nip": ATASAN},
        supersedes=u.events[0],
    )
    (unit,) = score_stream([*employee(NIP_A, "120", 3), *u.events], policies).units
    assert unit.org_predicate == "Istimewa"


def test_a_unit_with_a_predicate_and_no_appraisals_is_still_reported(policies: Mapping[str, Policy]) -> None:
    (unit,) = score_stream(unit_events().events, policies).units
    assert (unit.unit_id, unit.employees, unit.curve.checked) == (UNIT, (), False)


def test_rater_bias_is_reported_with_the_unit(policies: Mapping[str, Policy]) -> None:
    streams = []
    for i, (boss, peer) in enumerate([(3, 2), (2, 1), (3, 2)]):
        s = Stream(nip(i))
        s.assigned()
        s.rated(ATASAN, "atasan", "loyal", boss)
        s.rated(REKAN_1, "rekan", "loyal", peer)
        streams += s.events
    (unit,) = score_stream(streams, policies).units
    assert unit.bias is not None
    assert {r.rater_nip: r.leniency for r in unit.bias.raters} == {
        ATASAN: Decimal("1.00"),
        REKAN_1: Decimal("-1.00"),
    }
    assert unit.bias.pairable_units == 3


def test_assignments_from_an_earlier_period_name_the_employee(policies: Mapping[str, Policy]) -> None:
    earlier = Stream(NIP_A, "2024")
    earlier.assigned(name="Dewi")
    now = Stream(NIP_A, "2025")
    now.rated_all(ATASAN, "atasan", 2)
    (a,) = score_stream([*earlier.events, *now.events], policies).appraisals
    assert (a.name, a.unit_id) == ("Dewi", UNIT)


def test_a_policy_adopted_for_everyone_reaches_every_stream_of_its_period(
    policies: Mapping[str, Policy],
) -> None:
    pp30 = policies["pp30-2019"]
    g = Stream("*", "2025")
    adopted = {"policy_id": pp30.id, "policy_version": pp30.version, "content_hash": pp30.content_hash}
    g.env("policy.adopted", adopted)
    out = score_stream([*g.events, *employee(NIP_A, "100", 2), *employee(NIP_B, "100", 2, "2024")], policies)
    assert [a.policy[0] for a in out.appraisals] == ["pp30-2019", "permenpanrb-6-2022"]


def test_2019_is_scored_by_pp46_and_late_2021_by_pp30(policies: Mapping[str, Policy]) -> None:
    old = Stream(NIP_A, "2019")
    old.assigned()
    activity = {
        "activity_id": "k1",
        "name": "Laporan",
        "to": "1",
        "ro": "1",
        "rk": "90",
        "tw": "12",
        "rw": "12",
    }
    old.env("pp46.activity.recorded", {**activity, "tb": "170395000", "rb": "170395000"})
    for aspect in ("orientasi_pelayanan", "integritas", "komitmen", "disiplin", "kerja_sama"):
        old.env("pp46.behaviour.scored", {"rater_nip": ATASAN, "aspect": aspect, "nilai": "80"})
    late = Stream(NIP_A, "2021-S2")
    late.env("pp30.skp.valued", {"rater_nip": ATASAN, "nilai_skp": "100"})
    late.env("pp30.behaviour.valued", {"rater_nip": ATASAN, "nilai_perilaku": "80", "peer_input": True})
    a19, a21 = score_stream([*old.events, *late.events], policies).appraisals
    assert a19.policy[0] == "pp46-2011"
    assert a19.pp46 is not None
    assert a19.pp46.activities[0].capaian == Decimal("85.50")
    assert (a19.nilai, a19.predikat) == (Decimal("83.30"), "Baik")
    assert (a21.policy[0], a21.nilai, a21.predikat) == ("pp30-2019", Decimal("92.00"), "Baik")


def test_pp46_counts_tugas_tambahan_and_kreativitas(policies: Mapping[str, Policy]) -> None:
    s = Stream(NIP_A, "2018")
    activity = {
        "activity_id": "k1",
        "name": "Modul",
        "to": "2",
        "ro": "2",
        "rk": "90",
        "tw": "12",
        "rw": "12",
    }
    s.env("pp46.activity.recorded", activity)
    for n in range(4):
        s.env("pp46.tugas_tambahan.recorded", {"description": f"Panitia {n}"})
    s.env("pp46.kreativitas.recorded", {"description": "Aplikasi antrian", "level": "unit_kerja"})
    (a,) = score_stream(s.events, policies).appraisals
    assert a.pp46 is not None
    assert a.pp46.nilai_skp == Decimal("93.67")  # 88.67 + 2 + 3
    assert a.nilai is None  # no behaviour scored yet


def test_pp30_without_a_recorded_skp_value_uses_the_plan(policies: Mapping[str, Policy]) -> None:
    s = Stream(NIP_A, "2021-Q4")
    s.plan(rhk("r1", iki("a", "100")))
    s.realised("a", "115")
    s.env("pp30.behaviour.valued", {"rater_nip": ATASAN, "nilai_perilaku": "110"})
    s.env("pp30.innovation.recorded", {"title": "Antrian daring"})
    (a,) = score_stream(s.events, policies).appraisals
    assert a.pp30 is not None
    assert (a.pp30.skp_source, a.pp30.nilai_skp) == ("computed", Decimal("115.00"))
    assert (a.nilai, a.predikat) == (Decimal("113.50"), "Sangat Baik")


def test_the_json_output_is_ready_to_serialise(policies: Mapping[str, Policy]) -> None:
    out = score_stream([*employee(NIP_A, "100", 2), *unit_events().events], policies).to_json()
    (a,) = out["appraisals"]
    assert a["capaian_hasil_kerja"] == "100.00"
    assert a["rating_hasil_kerja"] == {
        "evidence": "Sesuai Ekspektasi",
        "source": "evidence",
        "pejabat_penilai": None,
        "used": "Sesuai Ekspektasi",
    }
    assert set(out["units"][0]["kurva"]) == {"verdict", "mode", "checked", "violations"}


def leader_stream(predicate: str) -> list[Envelope]:
    unit = Stream(UNIT)
    position = {"position_id": "kadinkes", "unit_id": UNIT, "title": "Kepala Dinas", "jenis": "struktural"}
    unit.env("org.position.registered", {**position, "is_unit_leader": True})
    unit.env("org.predicate.set", {"unit_id": UNIT, "predicate": predicate, "set_by_nip": ATASAN})
    head = Stream(NIP_A)
    head.assigned(position_id="kadinkes", jabatan="Kepala Dinas Kesehatan")
    head.plan(rhk("r1", iki("a", "100")))
    head.realised("a", "100")
    head.rated_all(ATASAN, "atasan", 3)
    return [*unit.events, *head.events, *employee(NIP_B, "100", 2)]


@pytest.mark.parametrize(
    ("predicate", "rating", "predikat"),
    [("Istimewa", "Di Atas Ekspektasi", "Sangat Baik"), ("Kurang", "Di Bawah Ekspektasi", "Butuh Perbaikan")],
)
def test_a_unit_leader_takes_the_units_performance_as_rating_hasil_kerja(
    policies: Mapping[str, Policy], predicate: str, rating: str, predikat: str
) -> None:
    head, staff = score_stream(leader_stream(predicate), policies).appraisals
    assert head.hasil_kerja_source == "unit"
    assert (head.rating_hasil_kerja[0], head.predikat) == (rating, predikat)
    assert head.capaian_hasil_kerja == Decimal("100.00")  # still computed and shown
    assert staff.hasil_kerja_source == "evidence"


def test_the_unit_facts_a_leader_is_rated_by_are_in_the_leaders_basis(policies: Mapping[str, Policy]) -> None:
    events = leader_stream("Istimewa")
    head = score_stream(events, policies).appraisals[0]
    assert {str(e.event_id) for e in events[:2]} <= set(head.basis_event_ids)


def test_a_policy_adopted_for_one_employee_without_other_facts_is_harmless(
    policies: Mapping[str, Policy],
) -> None:
    pp30 = policies["pp30-2019"]
    lone = Stream(NIP_C, "2024")
    lone.env(
        "policy.adopted", {"policy_id": pp30.id, "policy_version": "1", "content_hash": pp30.content_hash}
    )
    out = score_stream([*lone.events, *employee(NIP_A, "100", 2)], policies)
    assert [a.nip for a in out.appraisals] == [NIP_A]
