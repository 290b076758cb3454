"""The people routes over HTTP (services/scoring/adapters/web_people.py, sessions.py): enrolment by code, sign-in
by a signed challenge, the session cookie and its CSRF fence, revocation, and acts relayed to the intake. The
people tables are PostgreSQL's (a database of this session's own); the evidence service is a fake we own."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from people_fakes import FakeEvidence, behaviour_rating, public_b64
from starlette.applications import Starlette
from web_org import GURU_A, GURU_B, KEPALA, MemoryReads, organisation

from contracts.signing import b64, key_id
from services.scoring.adapters.people_store import PeopleStore, issue_code
from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.adapters.sessions import KeyDirectory, Sessions, Throttle
from services.scoring.adapters.web import WebApi
from services.scoring.adapters.web_people import REGISTRAR_SOURCE, PeopleApi
from services.scoring.app.access import mint_token
from services.scoring.app.people import signin_message
from services.scoring.app.read import ReadService
from tests.databases import fresh_database

SECRET = "unit-test-secret-0123456789"
NOW = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
ADMIN = "199003152015031001"


@pytest.fixture(scope="module")
async def people_dsn() -> AsyncIterator[str]:
    """The scoring schema with the organisation's assignments (and a BKPSDM admin's) in scoring.events."""
    async with fresh_database(f"objektif_people_unit_{os.getpid()}", "services.scoring.adapters") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            events = [e for e in organisation().events if e.type == "employee.assigned"]
            admin = events[-1].model_copy(update={"subject": ADMIN, "sequence": 1000, "event_id": uuid.uuid4(),
                                                  "payload": {**events[-1].payload, "nip": ADMIN,
                                                              "name": "Admin BKPSDM"}})
            for e in (*events, admin):
                await conn.execute("INSERT INTO scoring.events VALUES ($1, $2, $3, $4, $5, $6)", e.sequence,
                                   e.event_id, e.type, e.subject, e.period, e.model_dump_json())
        finally:
            await conn.close()
        yield dsn


@pytest.fixture
async def pool(people_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(people_dsn, min_size=1, max_size=4)
    await pool.execute("TRUNCATE scoring.enrolments, scoring.signin_nonces")
    try:
        yield pool
    finally:
        await pool.close()


@dataclass
class Scene:
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    evidence: FakeEvidence
    seconds: list[float]  # the key cache's monotonic clock, moved by tests

    async def code(self, nip: str, grants: tuple[str, ...] = (), hours: int = 72) -> str:
        return (await issue_code(self.pool, nip, grants=grants, hours=hours, issued_by="test", now=NOW)).code

    async def enrol(self, nip: str, key: Ed25519PrivateKey, grants: tuple[str, ...] = ()) -> httpx.Response:
        return await self.client.post("/api/enrol", json={"code": await self.code(nip, grants),
                                                          "public_key": public_b64(key)})

    async def sign_in(self, nip: str, key: Ed25519PrivateKey, challenge: str | None = None) -> httpx.Response:
        if challenge is None:
            challenge = (await self.client.post("/api/session/challenge", json={"nip": nip})).json()["challenge"]
        signature = b64(key.sign(signin_message("testserver", nip, challenge)))
        return await self.client.post("/api/session", json={"nip": nip, "challenge": challenge,
                                                            "signature": signature})


def build(pool: asyncpg.Pool, evidence: FakeEvidence, seconds: list[float],
          registrar: Ed25519PrivateKey | None) -> Starlette:
    policies = load_default_policies()
    store = PeopleStore(lambda: pool)

    async def name_of(nip: str) -> str | None:
        found = await store.person(nip)
        return None if found is None else found.get("name")

    sessions = Sessions(SECRET, KeyDirectory(evidence.lookup, clock=lambda: seconds[0]), lambda: NOW, name_of)
    web = WebApi(ReadService(MemoryReads(organisation().events, policies), policies), SECRET,
                 lambda *_: None, clock=lambda: NOW, forward=evidence.forward, sessions=sessions)  # type: ignore[arg-type,return-value]
    people = PeopleApi(store, sessions, SECRET, registrar, evidence.forward, lambda: NOW)
    return Starlette(routes=[*web.routes(), *people.routes(web.guarded)])


@pytest.fixture
async def scene(pool: asyncpg.Pool) -> AsyncIterator[Scene]:
    evidence, seconds = FakeEvidence(Ed25519PrivateKey.generate()), [0.0]
    app = build(pool, evidence, seconds, evidence.registrar)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Scene(client, pool, evidence, seconds)


async def test_a_code_enrols_the_browsers_key_with_a_registration_signed_by_the_registrar_once(
        scene: Scene) -> None:
    key = Ed25519PrivateKey.generate()
    code = await scene.code(GURU_A)
    answer = await scene.client.post("/api/enrol", json={"code": code.lower(), "public_key": public_b64(key)})
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert (body["status"], body["nip"], body["name"]) == ("accepted", GURU_A, "Ani Guru")
    assert body["key_id"] == key_id(key.public_key().public_bytes_raw())
    (registration,) = scene.evidence.sent
    assert registration["type"] == "source.registered"
    assert registration["source"] == REGISTRAR_SOURCE
    assert registration["subject"] == f"nip:{GURU_A}"
    assert registration["payload"] == {"source_id": f"nip:{GURU_A}", "kind": "person",
                                       "public_key": public_b64(key), "nip": GURU_A, "name": "Ani Guru"}
    again = await scene.client.post("/api/enrol", json={"code": code, "public_key": public_b64(key)})
    assert (again.status_code, again.json()["error"]) == (410, "code_used")
    unknown = await scene.client.post("/api/enrol", json={"code": "ZZZZZ-ZZZZZ", "public_key": public_b64(key)})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "code_unknown")


async def test_an_expired_code_is_refused_and_a_refused_registration_leaves_the_code_unused(scene: Scene) -> None:
    key = Ed25519PrivateKey.generate()
    expired = (await issue_code(scene.pool, GURU_B, hours=1, issued_by="test", now=NOW - timedelta(hours=2))).code
    answer = await scene.client.post("/api/enrol", json={"code": expired, "public_key": public_b64(key)})
    assert (answer.status_code, answer.json()["error"]) == (410, "code_expired")
    code = await scene.code(GURU_B)
    scene.evidence.refuse_registrations = True
    refused = await scene.client.post("/api/enrol", json={"code": code, "public_key": public_b64(key)})
    assert refused.status_code == 422
    assert refused.json()["answer"]["reasons"][0]["code"] == "signature.invalid"
    scene.evidence.refuse_registrations = False
    accepted = await scene.client.post("/api/enrol", json={"code": code, "public_key": public_b64(key)})
    assert accepted.status_code == 202, accepted.text


async def test_an_unreachable_intake_is_a_503_and_the_code_stays_unused(scene: Scene) -> None:
    key = Ed25519PrivateKey.generate()
    code = await scene.code(GURU_A)
    scene.evidence.reachable = False
    answer = await scene.client.post("/api/enrol", json={"code": code, "public_key": public_b64(key)})
    assert (answer.status_code, answer.json()["error"]) == (503, "intake_unavailable")
    scene.evidence.reachable = True
    assert (await scene.client.post("/api/enrol", json={"code": code, "public_key": public_b64(key)})
            ).status_code == 202


async def test_signing_in_sets_a_strict_http_only_cookie_and_me_says_who_with_the_csrf_value(scene: Scene) -> None:
    key = Ed25519PrivateKey.generate()
    assert (await scene.enrol(KEPALA, key)).status_code == 202
    answer = await scene.sign_in(KEPALA, key)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["nip"], body["name"], body["role"], body["grants"]) == (KEPALA, "Kepala Sekolah", "superior", [])
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("objektif_session=")
    for attribute in ("HttpOnly", "Max-Age=3600", "Path=/", "SameSite=strict"):
        assert attribute in cookie, cookie
    assert "Secure" not in cookie  # plain http here; over https the cookie is Secure
    me = await scene.client.get("/api/me")
    assert me.status_code == 200, me.text
    assert (me.json()["name"], me.json()["csrf"], me.json()["role"]) == ("Kepala Sekolah", body["csrf"], "superior")


async def test_a_challenge_signs_in_once_and_only_with_the_persons_active_key(scene: Scene) -> None:
    key = Ed25519PrivateKey.generate()
    not_yet = await scene.sign_in(GURU_A, key)
    assert (not_yet.status_code, not_yet.json()["error"]) == (401, "not_enrolled")
    await scene.enrol(GURU_A, key)
    challenge = (await scene.client.post("/api/session/challenge", json={"nip": GURU_A})).json()["challenge"]
    wrong = await scene.sign_in(GURU_A, Ed25519PrivateKey.generate(), challenge)
    assert (wrong.status_code, wrong.json()["error"]) == (401, "signature_invalid")
    assert (await scene.sign_in(GURU_A, key, challenge)).status_code == 200
    replayed = await scene.sign_in(GURU_A, key, challenge)
    assert (replayed.status_code, replayed.json()["error"]) == (401, "challenge_used")
    elsewhere = await scene.client.post("/api/session/challenge", json={"nip": GURU_A},
                                        headers={"Origin": "https://evil.example"})
    assert (elsewhere.status_code, elsewhere.json()["error"]) == (403, "csrf")
    for_another = (await scene.client.post("/api/session/challenge", json={"nip": GURU_B})).json()["challenge"]
    stolen = await scene.sign_in(GURU_A, key, for_another)
    assert (stolen.status_code, stolen.json()["error"]) == (401, "challenge_invalid")


async def test_a_session_submits_in_its_own_name_with_the_csrf_header_only(scene: Scene) -> None:
    key = Ed25519PrivateKey.generate()
    await scene.enrol(KEPALA, key)
    csrf = (await scene.sign_in(KEPALA, key)).json()["csrf"]
    rating = behaviour_rating(KEPALA, GURU_A, key)
    missing = await scene.client.post("/api/submissions", content=rating)
    assert (missing.status_code, missing.json()["error"]) == (403, "csrf")
    foreign = await scene.client.post("/api/submissions", content=rating,
                                      headers={"X-Objektif-CSRF": csrf, "Origin": "https://evil.example"})
    assert (foreign.status_code, foreign.json()["error"]) == (403, "csrf")
    answer = await scene.client.post("/api/submissions", content=rating,
                                     headers={"X-Objektif-CSRF": csrf, "Origin": "http://testserver"})
    assert answer.status_code == 202, answer.text
    assert (answer.json()["status"], answer.json()["reasons"]) == ("accepted", [])
    assert scene.evidence.sent[-1] == orjson.loads(rating)  # forwarded unchanged
    other = behaviour_rating(GURU_A, GURU_B, Ed25519PrivateKey.generate())
    refused = await scene.client.post("/api/submissions", content=other, headers={"X-Objektif-CSRF": csrf})
    assert (refused.status_code, refused.json()["error"]) == (403, "not_your_nip")
    assert "bukan atas nama Anda" in refused.json()["message"]
    assert "not in your own name" in refused.json()["message"]


async def test_the_gates_rejection_comes_back_with_its_reasons_and_its_status(scene: Scene) -> None:
    key = Ed25519PrivateKey.generate()
    await scene.enrol(KEPALA, key)
    csrf = (await scene.sign_in(KEPALA, key)).json()["csrf"]
    forged = behaviour_rating(KEPALA, GURU_A, Ed25519PrivateKey.generate())  # right name, wrong key
    answer = await scene.client.post("/api/submissions", content=forged, headers={"X-Objektif-CSRF": csrf})
    assert answer.status_code == 422
    assert answer.json()["status"] == "rejected"
    assert answer.json()["reasons"][0]["code"] == "signature.invalid"
    not_a_person_type = orjson.loads(behaviour_rating(KEPALA, GURU_A, key)) | {"type": "realisation.recorded"}
    bad = await scene.client.post("/api/submissions", content=orjson.dumps(not_a_person_type),
                                  headers={"X-Objektif-CSRF": csrf})
    assert (bad.status_code, bad.json()["error"]) == (400, "bad_request")


async def test_a_bearer_token_needs_no_csrf_header(scene: Scene) -> None:
    key = Ed25519PrivateKey.generate()
    await scene.enrol(KEPALA, key)
    token = mint_token(KEPALA, "superior", NOW + timedelta(hours=1), SECRET)
    answer = await scene.client.post("/api/submissions", content=behaviour_rating(KEPALA, GURU_A, key),
                                     headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 202, answer.text


async def test_the_admin_issues_codes_lists_people_and_revokes_a_key_which_ends_its_sessions(scene: Scene) -> None:
    admin_key, guru_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    await scene.enrol(ADMIN, admin_key, grants=("admin",))
    signed_in = (await scene.sign_in(ADMIN, admin_key)).json()
    assert signed_in["grants"] == ["admin"]
    admin_csrf = {"X-Objektif-CSRF": signed_in["csrf"]}
    issued = await scene.client.post("/api/enrolments", json={"nip": GURU_A}, headers=admin_csrf)
    assert issued.status_code == 201, issued.text
    assert issued.json()["link"] == f"http://testserver/#/daftar/{issued.json()['code']}"
    unknown = await scene.client.post("/api/enrolments", json={"nip": "199912312020121999"}, headers=admin_csrf)
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_nip")
    roster = {p["nip"]: p for p in (await scene.client.get("/api/enrolments")).json()["people"]}
    assert roster[GURU_A]["code_pending"] and not roster[GURU_A]["enrolled"]
    assert roster[ADMIN]["enrolled"] and roster[ADMIN]["key_id"] == signed_in["key_id"]
    # the teacher enrols with that code in a browser of her own, and signs in there
    async with httpx.AsyncClient(transport=scene.client._transport, base_url="http://testserver") as guru:
        enrolled = await guru.post("/api/enrol", json={"code": issued.json()["code"],
                                                       "public_key": public_b64(guru_key)})
        assert enrolled.status_code == 202
        challenge = (await guru.post("/api/session/challenge", json={"nip": GURU_A})).json()["challenge"]
        signature = b64(guru_key.sign(signin_message("testserver", GURU_A, challenge)))
        session = await guru.post("/api/session", json={"nip": GURU_A, "challenge": challenge,
                                                        "signature": signature})
        assert session.status_code == 200
        assert (await guru.get("/api/me")).status_code == 200
        not_admin = await guru.post("/api/enrolments", json={"nip": GURU_B},
                                    headers={"X-Objektif-CSRF": session.json()["csrf"]})
        assert (not_admin.status_code, not_admin.json()["error"]) == (403, "forbidden")
        revoked = await scene.client.post("/api/keys/revoke", json={"nip": GURU_A, "reason": "HP hilang"},
                                          headers=admin_csrf)
        assert revoked.status_code == 202, revoked.text
        assert scene.evidence.sent[-1]["type"] == "source.key.revoked"
        assert scene.evidence.sent[-1]["payload"]["key_id"] == enrolled.json()["key_id"]
        after = await guru.get("/api/me")
        assert (after.status_code, after.json()["error"]) == (401, "session_revoked")


async def test_a_session_re_checks_its_key_at_most_ten_seconds_late(scene: Scene) -> None:
    key = Ed25519PrivateKey.generate()
    await scene.enrol(GURU_A, key)
    assert (await scene.sign_in(GURU_A, key)).status_code == 200
    assert (await scene.client.get("/api/me")).status_code == 200
    scene.evidence.sources[f"nip:{GURU_A}"][0]["status"] = "revoked"  # revoked elsewhere (another instance)
    scene.seconds[0] = 9.0
    assert (await scene.client.get("/api/me")).status_code == 200
    scene.seconds[0] = 10.5
    assert (await scene.client.get("/api/me")).json()["error"] == "session_revoked"


async def test_a_second_enrolment_replaces_the_key_and_ends_the_first_browsers_session(scene: Scene) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    await scene.enrol(GURU_A, old)
    await scene.sign_in(GURU_A, old)
    assert (await scene.enrol(GURU_A, new)).status_code == 202
    assert (await scene.client.get("/api/me")).json()["error"] == "session_revoked"
    assert (await scene.sign_in(GURU_A, old)).json()["error"] == "signature_invalid"
    assert (await scene.sign_in(GURU_A, new)).status_code == 200


async def test_signing_out_clears_the_cookie(scene: Scene) -> None:
    key = Ed25519PrivateKey.generate()
    await scene.enrol(GURU_A, key)
    csrf = (await scene.sign_in(GURU_A, key)).json()["csrf"]
    ended = await scene.client.post("/api/session/end", headers={"X-Objektif-CSRF": csrf})
    assert ended.status_code == 204
    assert 'objektif_session=""' in ended.headers["set-cookie"] or "Max-Age=0" in ended.headers["set-cookie"]
    assert (await scene.client.get("/api/me")).status_code == 401


async def test_one_client_calling_the_open_routes_without_bound_is_slowed_down(pool: asyncpg.Pool) -> None:
    seconds = [0.0]
    throttle = Throttle(rate_per_second=1.0, burst=3, clock=lambda: seconds[0])
    evidence = FakeEvidence(Ed25519PrivateKey.generate())
    store = PeopleStore(lambda: pool)
    sessions = Sessions(SECRET, KeyDirectory(evidence.lookup), lambda: NOW)
    app = Starlette(routes=PeopleApi(store, sessions, SECRET, evidence.registrar, evidence.forward, lambda: NOW,
                                     throttle).routes(lambda handler: handler))  # type: ignore[arg-type,return-value]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        statuses = [(await client.post("/api/session/challenge", json={"nip": GURU_A})).status_code
                    for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        seconds[0] = 1.0
        assert (await client.post("/api/session/challenge", json={"nip": GURU_A})).status_code == 200


async def test_without_a_registrar_key_enrolment_answers_503(pool: asyncpg.Pool) -> None:
    evidence = FakeEvidence(Ed25519PrivateKey.generate())
    app = build(pool, evidence, [0.0], registrar=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        code = (await issue_code(pool, GURU_A, issued_by="test", now=NOW)).code
        answer = await client.post("/api/enrol", json={"code": code, "public_key": public_b64(
            Ed25519PrivateKey.generate())})
    assert (answer.status_code, answer.json()["error"]) == (503, "not_configured")
    assert "OBJEKTIF_SCORING_REGISTRAR_KEY" in answer.json()["message"]
    assert evidence.sent == []
