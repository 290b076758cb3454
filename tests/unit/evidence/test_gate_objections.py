"""Keberatan at the gate (REGULATION.md §2.4; issue 4): the deadline against backdating, one objection per
delivered result, explanations asked by the Atasan of the Pejabat Penilai and the employee, and a final decision.

STAFF1 is rated by KAPUS (Pejabat Penilai), whose own Pejabat Penilai is KADIS (the Atasan Pejabat Penilai).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from evidence_world import KADIS, KAPUS, PERSON_KEYS, SIMPEG, STAFF1, STAFF2, WIB, World, build_world, codes, person

from contracts import events as ev
from services.evidence.domain import Accepted, Code
from services.evidence.domain.objections import filing_time, last_filing_day
from services.evidence.domain.state import Delivery

HISTORY = datetime(2025, 1, 10, 9, 0, tzinfo=WIB)  # when an imported result reached the employee


@pytest.fixture
def world() -> World:
    return build_world()


def deliver(world: World, nip: str = STAFF1, at: datetime | None = None) -> Accepted:
    env = world.envelope("result.delivered", nip, {}, source="sys:simpeg", occurred_at=at)
    return world.must_accept(env, SIMPEG)


def file(world: World, at: datetime | None = None, nip: str = STAFF1, filer: str = STAFF1) -> Any:
    env = world.envelope(
        "objection.filed",
        nip,
        {"reasons": "Realisasi triwulan IV belum dihitung"},
        source=person(filer),
        occurred_at=at,
    )
    return world.submit(env, PERSON_KEYS[filer])


def decide(world: World, objection: UUID, by: str = KADIS, **payload: Any) -> Any:
    body = {
        "objection_event_id": str(objection),
        "decided_by_nip": by,
        "outcome": "diterima",
        "reasons": "Bukti triwulan IV sah",
        **payload,
    }
    env = world.envelope("objection.decided", STAFF1, body, source=person(by), schema_version=2)
    return world.submit(env, PERSON_KEYS[by])


def ask(world: World, objection: UUID, by: str = KADIS, of: tuple[str, ...] = (KAPUS, STAFF1)) -> Any:
    body = {
        "objection_event_id": str(objection),
        "requested_by_nip": by,
        "from_nips": list(of),
        "question": "Mohon penjelasan atas realisasi imunisasi",
    }
    env = world.envelope("objection.explanation.requested", STAFF1, body, source=person(by))
    return world.submit(env, PERSON_KEYS[by])


def explain(world: World, request: UUID, by: str) -> Any:
    body = {"request_event_id": str(request), "given_by_nip": by, "explanation": "Laporan terlambat diunggah"}
    env = world.envelope("objection.explanation.given", STAFF1, body, source=person(by))
    return world.submit(env, PERSON_KEYS[by])


def accepted_id(decision: Any) -> UUID:
    assert isinstance(decision, Accepted), decision
    return decision.envelope.event_id


# --- the deadline (§2.4: 14 calendar days after the result was received) ------------------------------------


def test_live_a_filing_counts_at_the_time_the_gate_received_it_whatever_it_claims() -> None:
    now = HISTORY
    delivery = Delivery(UUID(int=1), now, now)
    received = now + timedelta(days=20)
    assert filing_time(delivery, now + timedelta(days=3), received) == received


def test_from_a_history_recorded_late_the_events_own_times_count() -> None:
    recorded = HISTORY + timedelta(days=400)
    delivery = Delivery(UUID(int=1), HISTORY, recorded)
    claimed = HISTORY + timedelta(days=13)
    assert filing_time(delivery, claimed, recorded + timedelta(minutes=5)) == claimed


def test_backdating_never_shrinks_the_time_the_gate_itself_saw_pass() -> None:
    recorded = HISTORY + timedelta(days=400)
    delivery = Delivery(UUID(int=1), HISTORY, recorded)
    received = recorded + timedelta(days=30)
    assert filing_time(delivery, HISTORY + timedelta(days=1), received) == HISTORY + timedelta(days=30)


def test_a_filing_never_counts_later_than_it_was_received() -> None:
    delivery = Delivery(UUID(int=1), HISTORY, HISTORY)
    received = HISTORY + timedelta(days=2)
    assert filing_time(delivery, HISTORY + timedelta(days=90), received) == received


def test_a_delivery_claimed_after_it_was_recorded_counts_from_its_recording() -> None:
    delivery = Delivery(UUID(int=1), HISTORY + timedelta(days=30), HISTORY)
    assert last_filing_day(delivery) == "2025-01-24"


def test_from_an_imported_history_day_13_is_accepted_and_day_15_rejected_as_late(world: World) -> None:
    deliver(world, at=HISTORY)
    assert isinstance(file(world, HISTORY + timedelta(days=13)), Accepted)
    late = file(world, HISTORY + timedelta(days=15))
    assert codes(late) == (Code.OBJECTION_LATE,)
    assert late.reasons[0].message_en.endswith("last day 2025-01-24")


def test_a_backdated_filing_does_not_escape_the_deadline_live(world: World) -> None:
    deliver(world)  # recorded as it happens
    delivered = world.now
    world.now = delivered + timedelta(days=20)
    assert codes(file(world, delivered + timedelta(days=3))) == (Code.OBJECTION_LATE,)


# --- one objection per delivered result; the decision is final ---------------------------------------------


def test_a_second_objection_against_the_same_result_is_rejected_as_a_duplicate(world: World) -> None:
    deliver(world)
    first = accepted_id(file(world))
    again = file(world)
    assert codes(again) == (Code.OBJECTION_DUPLICATE,)
    assert str(first) in again.reasons[0].message_en


def test_after_the_decision_a_further_objection_is_rejected_because_the_decision_is_final(world: World) -> None:
    deliver(world)
    objection = accepted_id(file(world))
    accepted_id(decide(world, objection, outcome="ditolak"))
    deliver(world)  # even a result delivered again cannot reopen it
    assert codes(file(world)) == (Code.OBJECTION_DECIDED_FINAL,)
    assert codes(decide(world, objection, outcome="ditolak")) == (Code.OBJECTION_DECIDED_FINAL,)


def test_the_atasan_may_modify_ratings_and_realisations_of_the_plan(world: World) -> None:
    deliver(world)
    objection = accepted_id(file(world))
    accepted = decide(
        world,
        objection,
        modified_rating_perilaku="Di Atas Ekspektasi",
        modified_realisations=[{"iki_id": "iki-imunisasi", "value": "96"}],
    )
    assert isinstance(accepted, Accepted)
    assert isinstance(accepted.payload, ev.ObjectionDecidedV2)
    assert accepted.payload.modified_rating_perilaku is ev.Rating.DI_ATAS


def test_a_modified_realisation_of_an_iki_outside_the_plan_is_rejected(world: World) -> None:
    deliver(world)
    objection = accepted_id(file(world))
    refused = decide(world, objection, modified_realisations=[{"iki_id": "iki-lain", "value": "1"}])
    assert codes(refused) == (Code.INDICATOR_NOT_IN_PLAN,)


def test_a_rejection_that_modifies_the_result_breaks_the_contract(world: World) -> None:
    deliver(world)
    objection = accepted_id(file(world))
    refused = decide(world, objection, outcome="ditolak", modified_rating_perilaku="Di Atas Ekspektasi")
    assert codes(refused) == (Code.SCHEMA_INVALID,)


def test_a_v1_decision_is_still_accepted_and_read_as_v2(world: World) -> None:
    deliver(world)
    objection = accepted_id(file(world))
    body = {
        "objection_event_id": str(objection),
        "decided_by_nip": KADIS,
        "outcome": "diterima",
        "predikat": "Baik",
        "reasons": "Sesuai bukti",
    }
    env = world.envelope("objection.decided", STAFF1, body, source=person(KADIS))
    accepted = world.submit(env, PERSON_KEYS[KADIS])
    assert isinstance(accepted, Accepted)
    assert isinstance(accepted.payload, ev.ObjectionDecidedV2)
    assert accepted.payload.predikat == "Baik"


# --- explanations (§2.4: the Atasan asks the Pejabat Penilai and the employee) -----------------------------


def test_only_the_atasan_asks_for_explanations(world: World) -> None:
    deliver(world)
    objection = accepted_id(file(world))
    assert codes(ask(world, objection, by=KAPUS)) == (Code.EXPLANATION_NOT_ATASAN,)


def test_explanations_are_asked_only_of_the_pejabat_penilai_and_the_employee(world: World) -> None:
    deliver(world)
    objection = accepted_id(file(world))
    refused = ask(world, objection, of=(KAPUS, STAFF2))
    assert codes(refused) == (Code.EXPLANATION_NOT_PARTY,)
    assert STAFF2 in refused.reasons[0].message_en


def test_only_those_asked_give_explanations_and_only_before_the_decision(world: World) -> None:
    deliver(world)
    objection = accepted_id(file(world))
    request = accepted_id(ask(world, objection, of=(KAPUS,)))
    assert codes(explain(world, request, STAFF1)) == (Code.EXPLANATION_NOT_ASKED,)
    assert codes(explain(world, UUID(int=999_999), KAPUS)) == (Code.EXPLANATION_UNKNOWN,)
    assert isinstance(explain(world, request, KAPUS), Accepted)
    accepted_id(decide(world, objection, outcome="ditolak"))
    assert codes(explain(world, request, KAPUS)) == (Code.OBJECTION_DECIDED_FINAL,)
    assert codes(ask(world, objection)) == (Code.OBJECTION_DECIDED_FINAL,)


def test_an_explanation_in_someone_elses_name_is_rejected(world: World) -> None:
    deliver(world)
    objection = accepted_id(file(world))
    request = accepted_id(ask(world, objection))
    body = {"request_event_id": str(request), "given_by_nip": KAPUS, "explanation": "Bukan saya"}
    env = world.envelope("objection.explanation.given", STAFF1, body, source=person(STAFF1))
    assert codes(world.submit(env, PERSON_KEYS[STAFF1])) == (Code.SCOPE_PERSON,)


def test_a_v1_rejection_loses_the_predikat_it_never_applied_when_upcast() -> None:
    from contracts.registry import upcast

    v1 = {"objection_event_id": str(UUID(int=5)), "decided_by_nip": KADIS, "outcome": "ditolak",
          "predikat": "Baik", "reasons": "Tetap"}
    decided = ev.ObjectionDecidedV2.model_validate(upcast("objection.decided", 1, v1))
    assert (decided.outcome, decided.predikat, decided.modifies) == ("ditolak", None, False)
