"""The gate's rules for people in the loop (issue 16, ADR 0007): a result delivered by the subject's Pejabat
Penilai as a person, still by a departmental system; a period closed by an administrator key (the scoring
service's registrar) as by a system in scope; a rater the structure does not relate to the ratee refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from evidence_world import (
    ADMIN,
    GURU,
    KADIS,
    KAPUS,
    PERSON_KEYS,
    SIMPEG,
    STAFF1,
    STAFF2,
    STRANGER,
    T0,
    World,
    build_world,
    codes,
    key,
    person,
)

from services.evidence.domain import Accepted, Code
from services.evidence.domain.reasons import MESSAGES

REGISTRAR = "objektif.registrar"


@pytest.fixture
def world() -> World:
    return build_world()


def delivery(world: World, subject: str, by: str) -> dict[str, object]:
    return world.envelope("result.delivered", subject, {"evaluation": "periodik"}, source=by, period="2025-Q1")


def test_the_pejabat_penilai_delivers_the_result_as_a_person_and_it_starts_the_objection_clock(
        world: World) -> None:
    accepted = world.submit(delivery(world, STAFF1, person(KAPUS)), PERSON_KEYS[KAPUS])
    assert isinstance(accepted, Accepted)
    assert world.state.deliveries[(STAFF1, "2025-Q1")].event_id == accepted.envelope.event_id
    objection = world.envelope("objection.filed", STAFF1, {"reasons": "Bukti belum dihitung"},
                               source=person(STAFF1), period="2025-Q1")
    assert isinstance(world.submit(objection, PERSON_KEYS[STAFF1]), Accepted)


@pytest.mark.parametrize(("subject", "by"), [
    (STAFF1, KADIS),  # the Atasan Pejabat Penilai is not the one who delivers
    (STAFF1, STAFF2),  # a peer
    (STAFF1, STAFF1),  # the employee himself
    (KAPUS, STAFF1),  # a subordinate
    (GURU, KAPUS),  # someone of another unit
])
def test_a_delivery_by_anyone_but_the_subjects_pejabat_penilai_is_refused(world: World, subject: str,
                                                                         by: str) -> None:
    decision = world.submit(delivery(world, subject, person(by)), PERSON_KEYS[by])
    assert codes(decision) == (Code.DELIVERY_NOT_PEJABAT_PENILAI,)
    reason = decision.reasons[0]  # type: ignore[union-attr]
    assert reason.message_id.startswith("Hasil penilaian hanya dapat disampaikan oleh Pejabat Penilai")
    assert reason.message_en == MESSAGES[Code.DELIVERY_NOT_PEJABAT_PENILAI][1]


def test_a_delivery_is_judged_by_the_structure_at_its_time(world: World) -> None:
    world.assign(STAFF1, "puskesmas-a", KADIS, since=T0 + timedelta(days=10))
    assert codes(world.submit(delivery(world, STAFF1, person(KAPUS)), PERSON_KEYS[KAPUS])) == (
        Code.DELIVERY_NOT_PEJABAT_PENILAI,)
    assert isinstance(world.submit(delivery(world, STAFF1, person(KADIS)), PERSON_KEYS[KADIS]), Accepted)


def test_a_delivery_for_someone_outside_the_structure_is_subject_unknown(world: World) -> None:
    assert codes(world.submit(delivery(world, STRANGER, person(KAPUS)), PERSON_KEYS[KAPUS])) == (
        Code.SUBJECT_UNKNOWN,)


def test_a_machine_signed_delivery_still_works(world: World) -> None:
    assert isinstance(world.submit(delivery(world, STAFF1, "sys:simpeg"), SIMPEG), Accepted)


def closing(world: World, subject: str, source: str = REGISTRAR) -> dict[str, object]:
    return world.envelope("period.closed", subject, {"closed_by": "nip:199003152015031001"}, source=source,
                          period="2025-Q1")


@pytest.mark.parametrize("subject", ["puskesmas-a", STAFF1])
def test_an_administrator_key_closes_a_period_of_a_unit_or_an_employee(world: World, subject: str) -> None:
    assert isinstance(world.submit(closing(world, subject), ADMIN), Accepted)


def test_a_period_closed_by_an_unknown_key_or_for_an_unknown_subject_is_refused(world: World) -> None:
    assert codes(world.submit(closing(world, "puskesmas-a"), key(99))) == (Code.SIGNATURE_INVALID,)
    assert codes(world.submit(closing(world, "sd-404"), ADMIN)) == (Code.SUBJECT_UNKNOWN,)
    assert codes(world.submit(closing(world, STRANGER), ADMIN)) == (Code.SUBJECT_UNKNOWN,)


def test_a_registered_system_or_person_still_cannot_close_a_period_with_the_admin_key(world: World) -> None:
    # a system's own period.closed verifies against its own key, in its scope, as before
    assert isinstance(world.submit(closing(world, "puskesmas-a", "sys:simpeg"), SIMPEG), Accepted)
    assert codes(world.submit(closing(world, "puskesmas-a", "sys:simpeg"), ADMIN)) == (Code.SIGNATURE_INVALID,)
    assert codes(world.submit(closing(world, "puskesmas-a", person(KAPUS)), PERSON_KEYS[KAPUS])) == (
        Code.SCOPE_KIND,)


@pytest.mark.parametrize(("rater", "subject", "relation"), [
    (GURU, STAFF1, "rekan"), (GURU, STAFF1, "atasan"), (GURU, STAFF1, "bawahan"), (GURU, STAFF1, "diri")])
def test_a_rater_the_structure_does_not_relate_to_the_ratee_is_refused_in_every_relation(
        world: World, rater: str, subject: str, relation: str) -> None:
    # §1.4, §2.3: raters are assigned by the structure, never chosen by the employee
    assert codes(world.submit(world.rating(rater, subject, relation), PERSON_KEYS[rater])) == (
        Code.RATER_NOT_IN_RELATION,)
