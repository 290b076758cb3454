"""The rules of people in the loop (services/scoring/app/people.py): enrolment codes, sign-in challenges, CSRF
values, the role a signed-in person gets, and session claims in the read API's tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from web_org import GURU_A, GURU_B, KEPALA, PENGAWAS, organisation

from services.scoring.app import people
from services.scoring.app.access import InvalidToken, Role, mint_token, verify_token

SECRET = b"unit-test-secret-0123456789"
NOW = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)


def test_a_code_is_ten_crockford_characters_shown_in_two_groups_of_five() -> None:
    codes = {people.new_code() for _ in range(200)}
    assert len(codes) == 200  # 50 random bits each: a repeat in 200 would mean no randomness
    for code in codes:
        assert len(code) == 10
        assert set(code) <= set(people.CROCKFORD)
        assert people.shown(code) == f"{code[:5]}-{code[5:]}"


def test_what_a_person_types_is_normalised_to_the_code_it_means() -> None:
    code = "0123456789"
    for typed in ("o1234-56789", " O12 34-567 89 ", "01234-56789", "oi234s6789".replace("s", "5")):
        assert people.normalise_code(typed) == code, typed
    assert people.normalise_code("abcde-fghjk") == "ABCDEFGHJK"
    assert people.normalise_code("L1111-11111") == "1111111111"
    assert people.code_sha256("abcde-fghjk") == people.code_sha256("ABCDEFGHJK")


@pytest.mark.parametrize("typed", ["", "ABCDE", "ABCDE-FGHJK-M", "ABCDE-FGHJU", "ABCDE_FGHJK"])
def test_text_that_is_not_a_code_is_an_unknown_code(typed: str) -> None:
    with pytest.raises(people.CodeMalformed):
        people.normalise_code(typed)


def test_a_code_enrols_once_and_only_before_it_expires() -> None:
    people.check_code(NOW + timedelta(hours=1), None, NOW)
    with pytest.raises(people.CodeUsed):
        people.check_code(NOW + timedelta(hours=1), NOW - timedelta(minutes=5), NOW)
    with pytest.raises(people.CodeExpired):
        people.check_code(NOW, None, NOW)


def test_a_challenge_verifies_for_its_nip_until_it_expires() -> None:
    challenge, expires_at = people.new_challenge(GURU_A, SECRET, NOW)
    assert expires_at == int(NOW.timestamp()) + people.CHALLENGE_SECONDS
    checked = people.check_challenge(challenge, GURU_A, SECRET, NOW + timedelta(seconds=119))
    assert checked.expires_at == expires_at
    assert challenge.split(".")[1] == checked.nonce
    with pytest.raises(people.ChallengeExpired):
        people.check_challenge(challenge, GURU_A, SECRET, NOW + timedelta(seconds=120))


def test_a_challenge_made_for_another_nip_or_under_another_secret_or_altered_is_invalid() -> None:
    challenge, _ = people.new_challenge(GURU_A, SECRET, NOW)
    with pytest.raises(people.ChallengeInvalid):
        people.check_challenge(challenge, GURU_B, SECRET, NOW)
    with pytest.raises(people.ChallengeInvalid):
        people.check_challenge(challenge, GURU_A, b"another-secret-0123456789", NOW)
    tag, nonce, expiry, mac = challenge.split(".")
    later = f"{tag}.{nonce}.{int(expiry) + 3600}.{mac}"  # stretching the expiry breaks the MAC
    with pytest.raises(people.ChallengeInvalid):
        people.check_challenge(later, GURU_A, SECRET, NOW)
    with pytest.raises(people.ChallengeInvalid):
        people.check_challenge("c1.only-three.parts", GURU_A, SECRET, NOW)


def test_two_challenges_have_different_nonces() -> None:
    a, _ = people.new_challenge(GURU_A, SECRET, NOW)
    b, _ = people.new_challenge(GURU_A, SECRET, NOW)
    assert a.split(".")[1] != b.split(".")[1]


def test_the_signin_message_binds_host_nip_and_challenge() -> None:
    assert people.signin_message("objektif.example", GURU_A, "c1.n.1.m") == (
        f"objektif-signin-v1\nobjektif.example\n{GURU_A}\nc1.n.1.m".encode())


def test_the_csrf_value_belongs_to_one_session_token() -> None:
    token = mint_token(GURU_A, "employee", NOW + timedelta(hours=1), SECRET, kid="ab" * 8)
    other = mint_token(GURU_B, "employee", NOW + timedelta(hours=1), SECRET, kid="cd" * 8)
    value = people.csrf_value(token, SECRET)
    assert people.csrf_ok(token, value, SECRET)
    assert not people.csrf_ok(other, value, SECRET)
    assert not people.csrf_ok(token, None, SECRET)
    assert not people.csrf_ok(token, value, b"another-secret-0123456789")


def _assignments() -> list[dict[str, object]]:
    return [e.model_dump(mode="json") for e in organisation().events if e.type == "employee.assigned"]


def test_a_pejabat_penilai_is_a_superior_an_appraisee_an_employee_and_a_grant_makes_an_auditor() -> None:
    assignments = _assignments()
    assert people.role_of(KEPALA, (), assignments, NOW) is Role.SUPERIOR
    assert people.role_of(PENGAWAS, (), assignments, NOW) is Role.SUPERIOR
    assert people.role_of(GURU_A, (), assignments, NOW) is Role.EMPLOYEE
    assert people.role_of(GURU_A, ("auditor",), assignments, NOW) is Role.AUDITOR
    assert people.role_of(GURU_A, ("admin",), assignments, NOW) is Role.EMPLOYEE


def test_only_the_assignment_in_force_makes_someone_a_superior() -> None:
    base = {"event_id": "e1", "type": "employee.assigned", "subject": GURU_A}
    was = {**base, "payload": {"pejabat_penilai_nip": KEPALA, "effective_from": "2025-01-01T00:00:00+00:00"}}
    moved = {**base, "event_id": "e2",
             "payload": {"pejabat_penilai_nip": PENGAWAS, "effective_from": "2025-06-01T00:00:00+00:00"}}
    future = {**base, "event_id": "e3",
              "payload": {"pejabat_penilai_nip": KEPALA, "effective_from": "2026-01-01T00:00:00+00:00"}}
    assert people.role_of(KEPALA, (), [was, moved, future], NOW) is Role.EMPLOYEE
    assert people.role_of(PENGAWAS, (), [was, moved, future], NOW) is Role.SUPERIOR
    corrected = {**base, "event_id": "e4", "supersedes": "e2", "payload": was["payload"]}
    assert people.role_of(KEPALA, (), [was, moved, corrected], NOW) is Role.SUPERIOR
    naive = {**base, "event_id": "e5", "payload": {"pejabat_penilai_nip": PENGAWAS, "effective_from": "2025-09-30"}}
    assert people.role_of(PENGAWAS, (), [was, naive], NOW) is Role.SUPERIOR  # a date without offset: UTC


def test_only_admin_and_auditor_may_be_granted() -> None:
    assert people.check_grants(["admin"]) == frozenset({"admin"})
    with pytest.raises(ValueError, match="superuser"):
        people.check_grants(["superuser"])


def test_a_session_token_carries_its_key_id_and_grants_and_older_tokens_still_verify() -> None:
    token = mint_token(KEPALA, "superior", NOW + timedelta(hours=1), SECRET, kid="0123456789abcdef",
                       grants=("admin", "admin"))
    viewer = verify_token(token, SECRET, NOW)
    assert viewer.key_id == "0123456789abcdef"
    assert viewer.grants == frozenset({"admin"})
    plain = verify_token(mint_token(GURU_A, "employee", NOW + timedelta(hours=1), SECRET), SECRET, NOW)
    assert (plain.key_id, plain.grants) == (None, frozenset())
    # without a key id or grants the claims are {exp, nip, role}, byte for byte as before sessions existed
    legacy_claims = "eyJleHAiOjE3NTkzMTI4MDAsIm5pcCI6IjE5ODAwMTAxMjAwNTAxMjAwMyIsInJvbGUiOiJlbXBsb3llZSJ9"
    assert mint_token(GURU_A, "employee", datetime.fromtimestamp(1759312800, UTC), SECRET).split(".")[1] == \
        legacy_claims


def test_a_key_id_that_is_not_a_string_is_an_invalid_token() -> None:
    import base64
    import hashlib
    import hmac

    from contracts.canonical import canonical_bytes

    claims = base64.urlsafe_b64encode(canonical_bytes(
        {"exp": int(NOW.timestamp()) + 60, "nip": GURU_A, "role": "employee", "kid": 7})).rstrip(b"=").decode()
    mac = hmac.new(SECRET, f"v1.{claims}".encode(), hashlib.sha256).digest()
    token = f"v1.{claims}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(InvalidToken, match="key id"):
        verify_token(token, SECRET, NOW)
