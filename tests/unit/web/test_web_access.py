"""Tokens and the read API's rules: who sees whose appraisal, and that individual peer and subordinate answers
never reach anyone but an auditor (REGULATION.md §1.4, §2.3, §2.4)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from web_org import GURU_A, GURU_B, KEPALA, PENGAWAS, PERIOD, body, organisation

from services.scoring.app.access import (
    MIN_GROUP,
    InvalidToken,
    Principal,
    Role,
    TokenExpired,
    may_view_appraisal,
    may_view_unit,
    mint_token,
    redact_behaviour,
    superiors_of,
    verify_token,
)
from services.scoring.app.explain import explain, objection_status

SECRET = "a-test-secret-of-enough-length"
NOW = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def employee(nip: str) -> Principal:
    return Principal(nip, Role.EMPLOYEE, 0)


# --- tokens ---------------------------------------------------------------------------------------------------


def test_a_minted_token_verifies_to_its_nip_role_and_expiry() -> None:
    token = mint_token(GURU_A, Role.EMPLOYEE, LATER, SECRET)
    assert verify_token(token, SECRET, NOW) == Principal(GURU_A, Role.EMPLOYEE, int(LATER.timestamp()))


def test_a_token_is_refused_at_and_after_its_expiry() -> None:
    token = mint_token(GURU_A, "employee", LATER, SECRET)
    with pytest.raises(TokenExpired):
        verify_token(token, SECRET, LATER)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = mint_token(GURU_A, "employee", LATER, "another-secret-of-enough-length")
    with pytest.raises(InvalidToken):
        verify_token(token, SECRET, NOW)


def test_changing_the_claims_of_a_token_breaks_its_signature() -> None:
    version, _claims, mac = mint_token(GURU_A, "employee", LATER, SECRET).split(".")
    forged = (
        base64.urlsafe_b64encode(
            orjson.dumps({"exp": int(LATER.timestamp()), "nip": GURU_A, "role": "auditor"})
        )
        .rstrip(b"=")
        .decode()
    )
    with pytest.raises(InvalidToken):
        verify_token(f"{version}.{forged}.{mac}", SECRET, NOW)


@pytest.mark.parametrize("token", ["", "v1.abc", "v2.a.b", "v1.!!!.???", "Bearer x.y.z"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_token(token, SECRET, NOW)


def test_only_an_auditor_token_may_lack_a_nip_and_a_nip_must_be_eighteen_digits() -> None:
    assert verify_token(mint_token(None, "auditor", LATER, SECRET), SECRET, NOW).nip is None
    with pytest.raises(ValueError, match="needs a NIP"):
        mint_token(None, "employee", LATER, SECRET)
    with pytest.raises(ValueError, match="not a NIP"):
        mint_token("12345", "superior", LATER, SECRET)


def test_a_short_secret_is_refused_rather_than_signing_weakly() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        mint_token(GURU_A, "employee", LATER, "short")


# --- who sees whose appraisal ---------------------------------------------------------------------------------


def test_an_employee_sees_his_or_her_own_appraisal_and_no_one_elses() -> None:
    assert may_view_appraisal(employee(GURU_A), GURU_A, (KEPALA, PENGAWAS))
    assert not may_view_appraisal(employee(GURU_B), GURU_A, (KEPALA, PENGAWAS))


def test_an_employee_token_of_a_superior_does_not_open_the_subordinates_appraisals() -> None:
    assert not may_view_appraisal(employee(KEPALA), GURU_A, (KEPALA, PENGAWAS))


def test_a_superior_sees_the_people_in_his_or_her_chain_and_not_others() -> None:
    kepala, pengawas = Principal(KEPALA, Role.SUPERIOR, 0), Principal(PENGAWAS, Role.SUPERIOR, 0)
    assert may_view_appraisal(kepala, GURU_A, (KEPALA, PENGAWAS))
    assert may_view_appraisal(pengawas, GURU_A, (KEPALA, PENGAWAS))  # the Atasan Pejabat Penilai (§2.4)
    assert not may_view_appraisal(kepala, PENGAWAS, ())


def test_an_auditor_sees_everyone() -> None:
    assert may_view_appraisal(Principal(None, Role.AUDITOR, 0), GURU_A, ())


def test_the_chain_of_superiors_walks_up_the_structure_and_stops_at_a_cycle() -> None:
    structure = {GURU_A: KEPALA, KEPALA: PENGAWAS, PENGAWAS: None}
    assert superiors_of(GURU_A, structure) == (KEPALA, PENGAWAS)
    assert superiors_of(GURU_A, {GURU_A: KEPALA, KEPALA: GURU_A}) == (KEPALA,)


def test_a_unit_is_open_to_its_members_to_superiors_of_a_member_and_to_auditors_only() -> None:
    chains = {GURU_A: (KEPALA,), GURU_B: (KEPALA,)}
    assert may_view_unit(employee(GURU_A), (GURU_A, GURU_B), chains)
    assert may_view_unit(Principal(KEPALA, Role.SUPERIOR, 0), (GURU_A, GURU_B), chains)
    assert may_view_unit(Principal(None, Role.AUDITOR, 0), (GURU_A,), chains)
    assert not may_view_unit(employee(PENGAWAS), (GURU_A, GURU_B), chains)


# --- aggregates only ------------------------------------------------------------------------------------------

PERILAKU = {
    "used": "Sesuai Ekspektasi",
    "score": "2.25",
    "per_value": [
        {
            "value": "kompeten",
            "score": "2.25",
            "by_relation": {"atasan": {"mean": "3.00", "raters": 1}, "rekan": {"mean": "1.00", "raters": 1}},
        },
        {
            "value": "loyal",
            "score": "2.40",
            "by_relation": {
                "atasan": {"mean": "3.00", "raters": 1},
                "rekan": {"mean": "1.50", "raters": MIN_GROUP},
            },
        },
    ],
}


def test_a_lone_peer_answer_and_the_score_it_would_reveal_are_hidden_from_the_ratee() -> None:
    shown = redact_behaviour(PERILAKU, employee(GURU_A))
    kompeten, loyal = shown["per_value"]
    assert "rekan" not in kompeten["by_relation"]
    assert kompeten["hidden_relations"] == ["rekan"]
    assert kompeten["score"] is None
    assert loyal["by_relation"]["rekan"] == {
        "mean": "1.50",
        "raters": MIN_GROUP,
    }  # a mean of two is an aggregate
    assert loyal["score"] == "2.40"
    assert shown["used"] == "Sesuai Ekspektasi"


def test_an_auditor_sees_every_relation() -> None:
    assert redact_behaviour(PERILAKU, Principal(None, Role.AUDITOR, 0)) == PERILAKU


def _explained(viewer: Principal) -> dict:
    org = organisation()
    result = {
        "nip": GURU_A,
        "period": PERIOD,
        "pejabat_penilai_nip": KEPALA,
        "iki": [],
        "objection": None,
        "rating_perilaku": {"per_value": []},
    }
    return explain(result, [body(e) for e in org.events if e.subject == GURU_A], viewer)


def test_the_ratee_sees_the_superiors_and_own_answers_but_not_the_peers() -> None:
    doc = _explained(employee(GURU_A))
    relations = {a["relation"] for a in doc["behaviour_answers"]}
    assert relations == {"atasan", "diri"}
    assert doc["behaviour_answers_withheld"] == 7
    assert "jawaban rekan yang rahasia" not in orjson.dumps(doc).decode()


def test_an_auditor_sees_the_peers_individual_answers_and_who_gave_them() -> None:
    doc = _explained(Principal(None, Role.AUDITOR, 0))
    peers = [a for a in doc["behaviour_answers"] if a["relation"] == "rekan"]
    assert len(peers) == 7
    assert {a["rater_nip"] for a in peers} == {GURU_B}
    assert doc["behaviour_answers_withheld"] == 0


def test_the_objection_status_follows_delivery_filing_and_decision() -> None:
    events = [body(e) for e in organisation().events if e.subject == GURU_A]
    filed = objection_status(events, {})
    assert filed["status"] == "filed"
    assert filed["filed"][0]["reasons"] == "Bukti bulan September belum dihitung"
    delivered = datetime.fromisoformat(filed["delivered_at"]).date()
    assert filed["last_day"] == (delivered + timedelta(days=14)).isoformat()
    before = objection_status([e for e in events if e["type"] != "objection.filed"], {})
    assert before["status"] == "none"
    decided = objection_status(
        [
            *events,
            {
                "event_id": "d",
                "type": "objection.decided",
                "payload": {
                    "objection_event_id": filed["filed"][0]["event_id"],
                    "outcome": "diterima",
                    "reasons": "ok",
                    "decided_by_nip": PENGAWAS,
                    "predikat": "Sangat Baik",
                },
            },
        ],
        {},
    )
    assert decided["status"] == "decided"
    assert decided["decisions"][0]["predikat"] == "Sangat Baik"


def test_an_objection_under_examination_lists_the_questions_and_explanations() -> None:
    events = [body(e) for e in organisation().events if e.subject == GURU_A]
    objection_id = objection_status(events, {})["filed"][0]["event_id"]
    asked = {"event_id": "q", "type": "objection.explanation.requested", "payload": {
        "objection_event_id": objection_id, "requested_by_nip": PENGAWAS, "from_nips": [KEPALA, GURU_A],
        "question": "Mengapa bukti September tidak dihitung?"}}
    given = {"event_id": "g", "type": "objection.explanation.given", "payload": {
        "request_event_id": "q", "given_by_nip": KEPALA, "explanation": "Belum dikirim sistem"}}
    examined = objection_status([*events, asked, given], {})
    assert examined["status"] == "examined"
    assert [(x["by_nip"], x["text"]) for x in examined["examination"]] == [
        (PENGAWAS, "Mengapa bukti September tidak dihitung?"), (KEPALA, "Belum dikirim sistem")]
