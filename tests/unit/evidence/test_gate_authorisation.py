"""Authorisation: scopes of departmental systems, raters' relations (§1.4, §2.3), objections and decisions
(§2.4), and corrections by supersession."""

from __future__ import annotations

from datetime import timedelta

import pytest
from evidence_world import (
    DAPODIK,
    GURU,
    KADIS,
    KAPUS,
    PERSON_KEYS,
    SIKDA,
    SIMPEG,
    STAFF1,
    STAFF2,
    STRANGER,
    T0,
    World,
    build_world,
    codes,
    person,
)

from services.evidence.domain import Accepted, Code


@pytest.fixture
def world() -> World:
    return build_world()


# --- departmental systems -----------------------------------------------------------------------------------


def test_a_system_may_submit_a_realisation_for_its_unit_and_indicator(world: World) -> None:
    assert isinstance(world.submit(world.realisation(STAFF1, "iki-imunisasi"), SIKDA), Accepted)


def test_a_realisation_for_an_employee_of_a_foreign_unit_is_rejected_as_scope_unit(world: World) -> None:
    envelope = world.realisation(STAFF1, "iki-apm", source="sys:dapodik")
    assert codes(world.submit(envelope, DAPODIK)) == (Code.SCOPE_UNIT,)


def test_an_indicator_outside_the_system_scope_is_rejected_as_scope_indicator(world: World) -> None:
    assert codes(world.submit(world.realisation(STAFF1, "iki-apm"), SIKDA)) == (Code.SCOPE_INDICATOR,)


def test_an_indicator_in_scope_but_not_in_the_employee_plan_is_rejected(world: World) -> None:
    assert codes(world.submit(world.realisation(STAFF1, "iki-kunjungan"), SIKDA)) == (
        Code.INDICATOR_NOT_IN_PLAN,
    )


def test_a_plan_for_the_year_covers_realisations_of_its_quarters(world: World) -> None:
    envelope = world.realisation(STAFF1, "iki-imunisasi")
    envelope["period"] = "2025-Q1"
    assert isinstance(world.submit(envelope, SIKDA), Accepted)


def test_a_realisation_for_someone_not_in_the_structure_is_rejected_as_subject_unknown(world: World) -> None:
    assert codes(world.submit(world.realisation(STRANGER, "iki-imunisasi"), SIKDA)) == (Code.SUBJECT_UNKNOWN,)


def test_a_realisation_dated_before_the_employee_joined_is_rejected_as_subject_unknown(world: World) -> None:
    envelope = world.realisation(STAFF1, "iki-imunisasi")
    envelope["occurred_at"] = (T0 - timedelta(days=1)).isoformat()
    assert codes(world.submit(envelope, SIKDA)) == (Code.SUBJECT_UNKNOWN,)


def test_a_person_may_not_submit_a_realisation_which_is_rejected_as_scope_kind(world: World) -> None:
    envelope = world.realisation(STAFF1, "iki-imunisasi", source=person(STAFF1))
    assert codes(world.submit(envelope, PERSON_KEYS[STAFF1])) == (Code.SCOPE_KIND,)


def test_a_unit_registered_outside_the_system_scope_is_rejected_as_scope_unit(world: World) -> None:
    payload = {"unit_id": "sd-1", "name": "SD 1", "kind": "uptd", "parent_unit_id": "disdik"}
    envelope = world.envelope("org.unit.registered", "sd-1", payload, source="sys:sikda")
    assert codes(world.submit(envelope, SIKDA)) == (Code.SCOPE_UNIT,)


def test_an_assignment_whose_subject_is_not_its_employee_is_rejected_as_subject_mismatch(
    world: World,
) -> None:
    accepted = world.assign(STAFF2, "puskesmas-a", KAPUS)
    payload = {**accepted.envelope.payload, "name": "Staf Dua"}  # sealed again, to the subject's key (UU PDP)
    envelope = world.envelope("employee.assigned", STAFF1, payload, source="sys:simpeg")
    assert codes(world.submit(envelope, SIMPEG)) == (Code.SUBJECT_MISMATCH,)


def test_the_structure_may_not_make_an_employee_his_own_pejabat_penilai(world: World) -> None:
    payload = {
        "nip": STAFF1,
        "name": "S",
        "unit_id": "puskesmas-a",
        "position_id": "p",
        "jabatan": "J",
        "pejabat_penilai_nip": STAFF1,
        "effective_from": world.now.isoformat(),
    }
    envelope = world.envelope("employee.assigned", STAFF1, payload, source="sys:simpeg")
    assert codes(world.submit(envelope, SIMPEG)) == (Code.RATER_SELF_AS_ATASAN,)


def test_an_org_event_earlier_in_a_batch_counts_for_later_members(world: World) -> None:
    payload = {"unit_id": "sd-1", "name": "SD 1", "kind": "uptd", "parent_unit_id": "disdik"}
    unit = world.envelope("org.unit.registered", "sd-1", payload, source="sys:simpeg")
    teacher = world.envelope(
        "employee.assigned",
        STRANGER,
        {
            "nip": STRANGER,
            "name": "G",
            "unit_id": "sd-1",
            "position_id": "p",
            "jabatan": "Guru",
            "pejabat_penilai_nip": GURU,
            "effective_from": T0.isoformat(),
        },
        source="sys:simpeg",
    )
    decisions = world.submit_batch([unit, teacher], SIMPEG)
    assert all(isinstance(d, Accepted) for d in decisions)
    assert world.state.unit_covered(
        frozenset({"disdik"}), world.state.assignment_at(STRANGER, world.now).unit_id
    )


# --- raters (§1.4, §2.3) ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rater", "subject", "relation"),
    [
        (KAPUS, STAFF1, "atasan"),
        (STAFF2, STAFF1, "rekan"),
        (STAFF1, KAPUS, "bawahan"),
        (STAFF1, STAFF1, "diri"),
    ],
)
def test_a_rater_in_the_stated_relation_is_accepted(
    world: World, rater: str, subject: str, relation: str
) -> None:
    assert isinstance(world.submit(world.rating(rater, subject, relation), PERSON_KEYS[rater]), Accepted)


def test_a_self_rating_counted_as_atasan_is_rejected_as_rater_self_as_atasan(world: World) -> None:
    decision = world.submit(world.rating(STAFF1, STAFF1, "atasan"), PERSON_KEYS[STAFF1])
    assert codes(decision) == (Code.RATER_SELF_AS_ATASAN,)


@pytest.mark.parametrize(
    ("rater", "subject", "relation"),
    [
        (KADIS, STAFF1, "atasan"),  # the Pejabat Penilai's own superior is not the atasan
        (GURU, STAFF1, "rekan"),  # another unit, another Pejabat Penilai
        (STAFF2, STAFF1, "bawahan"),  # a peer is not a subordinate
        (KAPUS, STAFF1, "rekan"),
        (STAFF1, STAFF1, "rekan"),
        (STAFF2, STAFF1, "diri"),
    ],
)
def test_rating_someone_outside_the_stated_relation_is_rejected(
    world: World, rater: str, subject: str, relation: str
) -> None:
    assert codes(world.submit(world.rating(rater, subject, relation), PERSON_KEYS[rater])) == (
        Code.RATER_NOT_IN_RELATION,
    )


def test_the_relation_is_taken_at_the_time_of_the_rating(world: World) -> None:
    world.assign(STAFF1, "disdik", GURU, since=T0 + timedelta(days=10))
    later = world.rating(KAPUS, STAFF1, "atasan")
    assert codes(world.submit(later, PERSON_KEYS[KAPUS])) == (Code.RATER_NOT_IN_RELATION,)
    earlier = world.rating(KAPUS, STAFF1, "atasan")
    earlier["occurred_at"] = (T0 + timedelta(days=5)).isoformat()
    assert isinstance(world.submit(earlier, PERSON_KEYS[KAPUS]), Accepted)


def test_rating_in_someone_elses_name_is_rejected_as_scope_person(world: World) -> None:
    envelope = world.rating(KAPUS, STAFF1, "atasan")
    envelope["source"] = person(STAFF2)
    assert codes(world.submit(envelope, PERSON_KEYS[STAFF2])) == (Code.SCOPE_PERSON,)


def test_a_pejabat_penilai_rating_by_someone_else_is_rejected_as_not_in_relation(world: World) -> None:
    payload = {"rater_nip": KADIS, "rating_hasil_kerja": "Sesuai Ekspektasi"}
    envelope = world.envelope("rating.pejabat_penilai", STAFF1, payload, source=person(KADIS))
    assert codes(world.submit(envelope, PERSON_KEYS[KADIS])) == (Code.RATER_NOT_IN_RELATION,)


def test_feedback_v1_and_v2_from_the_pejabat_penilai_are_both_accepted(world: World) -> None:
    ref = str(world.accepted[-1].envelope.event_id)
    v1 = world.envelope(
        "feedback.given",
        STAFF1,
        {"from_nip": KAPUS, "text": "Bagus", "refers_to": [ref]},
        source=person(KAPUS),
    )
    v2 = world.envelope(
        "feedback.given",
        STAFF1,
        {"from_nip": KAPUS, "text": "Bagus", "refers_to": [{"event_id": ref, "iki_id": "iki-imunisasi"}]},
        source=person(KAPUS),
        schema_version=2,
    )
    assert isinstance(world.submit(v1, PERSON_KEYS[KAPUS]), Accepted)
    assert isinstance(world.submit(v2, PERSON_KEYS[KAPUS]), Accepted)
    stranger = world.envelope("feedback.given", STAFF1, {"from_nip": GURU, "text": "?"}, source=person(GURU))
    assert codes(world.submit(stranger, PERSON_KEYS[GURU])) == (Code.RATER_NOT_IN_RELATION,)


# --- objections and decisions (§2.4) ------------------------------------------------------------------------


def _deliver(world: World, nip: str) -> None:
    world.must_accept(world.envelope("result.delivered", nip, {}, source="sys:simpeg"), SIMPEG)


def _objection(world: World, nip: str, filer: str) -> dict[str, object]:
    return world.envelope(
        "objection.filed", nip, {"reasons": "Bukti saya belum dihitung"}, source=person(filer)
    )


def test_an_objection_on_the_fourteenth_day_is_accepted_and_on_the_fifteenth_rejected_as_late(
    world: World,
) -> None:
    _deliver(world, STAFF1)
    delivered = world.now
    world.now = delivered + timedelta(days=14, hours=15)  # still the fourteenth calendar day after, in WIB
    assert isinstance(world.submit(_objection(world, STAFF1, STAFF1), PERSON_KEYS[STAFF1]), Accepted)
    world.now = delivered + timedelta(days=15)
    assert codes(world.submit(_objection(world, STAFF1, STAFF1), PERSON_KEYS[STAFF1])) == (
        Code.OBJECTION_LATE,
    )


def test_an_objection_by_anyone_but_the_appraised_employee_is_rejected(world: World) -> None:
    _deliver(world, STAFF1)
    assert codes(world.submit(_objection(world, STAFF1, STAFF2), PERSON_KEYS[STAFF2])) == (
        Code.OBJECTION_NOT_SUBJECT,
    )


def test_an_objection_before_any_result_was_delivered_is_rejected(world: World) -> None:
    assert codes(world.submit(_objection(world, STAFF1, STAFF1), PERSON_KEYS[STAFF1])) == (
        Code.OBJECTION_NO_RESULT,
    )


def _decision(world: World, objection_id: str, by: str) -> dict[str, object]:
    payload = {
        "objection_event_id": objection_id,
        "decided_by_nip": by,
        "outcome": "ditolak",
        "reasons": "Sesuai",
    }
    return world.envelope("objection.decided", STAFF1, payload, source=person(by))


def test_only_the_atasan_pejabat_penilai_may_decide_an_objection(world: World) -> None:
    _deliver(world, STAFF1)
    filed = world.must_accept(_objection(world, STAFF1, STAFF1), PERSON_KEYS[STAFF1])
    objection_id = str(filed.envelope.event_id)
    assert codes(world.submit(_decision(world, objection_id, KAPUS), PERSON_KEYS[KAPUS])) == (
        Code.DECISION_NOT_ATASAN,
    )
    assert isinstance(world.submit(_decision(world, objection_id, KADIS), PERSON_KEYS[KADIS]), Accepted)


def test_a_decision_on_an_unknown_objection_is_rejected(world: World) -> None:
    unknown = "00000000-0000-0000-0000-00000000ffff"
    assert codes(world.submit(_decision(world, unknown, KADIS), PERSON_KEYS[KADIS])) == (
        Code.OBJECTION_UNKNOWN,
    )


# --- corrections --------------------------------------------------------------------------------------------


def test_a_source_may_supersede_its_own_event(world: World) -> None:
    original = world.must_accept(world.realisation(STAFF1, "iki-imunisasi"), SIKDA)
    correction = world.realisation(STAFF1, "iki-imunisasi", value="97")
    correction["supersedes"] = str(original.envelope.event_id)
    assert isinstance(world.submit(correction, SIKDA), Accepted)


def test_superseding_an_unknown_event_is_rejected(world: World) -> None:
    correction = world.realisation(STAFF1, "iki-imunisasi")
    correction["supersedes"] = "00000000-0000-0000-0000-00000000ffff"
    assert codes(world.submit(correction, SIKDA)) == (Code.SUPERSEDES_UNKNOWN,)


def test_superseding_another_sources_event_is_rejected(world: World) -> None:
    original = world.must_accept(world.rating(KAPUS, STAFF1, "atasan"), PERSON_KEYS[KAPUS])
    correction = world.rating(STAFF2, STAFF1, "rekan")
    correction["supersedes"] = str(original.envelope.event_id)
    assert codes(world.submit(correction, PERSON_KEYS[STAFF2])) == (Code.SUPERSEDES_OTHER_SOURCE,)


def test_superseding_an_event_of_another_type_or_subject_is_rejected(world: World) -> None:
    original = world.must_accept(world.realisation(STAFF1, "iki-imunisasi"), SIKDA)
    correction = world.realisation(STAFF2, "iki-imunisasi")
    correction["supersedes"] = str(original.envelope.event_id)
    assert codes(world.submit(correction, SIKDA)) == (Code.SUPERSEDES_OTHER_TYPE,)


def test_a_superseded_assignment_no_longer_counts(world: World) -> None:
    wrong = world.assign(STAFF2, "disdik", GURU, since=T0 + timedelta(days=1))
    payload = dict(wrong.envelope.payload, unit_id="puskesmas-a", pejabat_penilai_nip=KAPUS)
    fix = world.envelope(
        "employee.assigned", STAFF2, payload, source="sys:simpeg", supersedes=str(wrong.envelope.event_id)
    )
    world.must_accept(fix, SIMPEG)
    assert world.state.pejabat_penilai_at(STAFF2, world.now) == KAPUS
    assert len(world.state.assignments[STAFF2]) == 2
