"""Enrolment, sign-in and acts at the API level on the real stack (issue 16, ADR 0007): a code issued as
`objektif enrol` does, a key made here in Python enrolled through the registrar and the real evidence gate, a
signed challenge answered, a behaviour rating submitted through `/api/submissions` and accepted by the gate; and
the fences: a replayed challenge, a second person's session in the first's name, a missing CSRF header, a
revoked key's session."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.signing import b64, key_id, public_key_bytes, sign_envelope
from objektif.pipeline import publish
from objektif.stack import Stack
from services.scoring.adapters.people_store import issue_code
from services.scoring.app.people import signin_message
from tests.e2e.world import AT, World, query_value, wait_for

pytestmark = pytest.mark.e2e


class PeopleWorld(World):
    """`World`'s organisation with only its system registered by the administrator: people enrol themselves."""

    async def setup(self) -> None:
        admin = self.stack.admin_key()
        system = sign_envelope(self.envelope("source.registered", self.system, {
            "source_id": self.system, "kind": "system", "public_key": b64(public_key_bytes(self.key(self.system))),
            "units": [self.unit], "indicators": ["aps"]}, "admin", AT - timedelta(days=1)), admin)
        await publish(self.stack.kafka_bootstrap, [system])
        await wait_for(lambda: self.accepted([system["event_id"]]), lambda n: n == 1)
        structure = self.structure()
        await publish(self.stack.kafka_bootstrap, structure)
        await wait_for(lambda: query_value(self.stack, """SELECT count(*) FROM scoring.events
                                                         WHERE event_id = ANY($1::uuid[])""",
                                           [e["event_id"] for e in structure]), lambda n: n == len(structure))


class Person:
    """One person's browser: a key of its own and a cookie jar."""

    def __init__(self, base: str, nip: str) -> None:
        self.nip, self.key = nip, Ed25519PrivateKey.generate()
        self.http = httpx.AsyncClient(base_url=base, timeout=30)
        self.csrf = ""

    async def enrol(self, stack: Stack, grants: tuple[str, ...] = ()) -> httpx.Response:
        import asyncpg

        conn = await asyncpg.connect(stack.admin_dsn)
        try:
            issued = await issue_code(conn, self.nip, grants=grants, hours=1, issued_by="e2e", now=datetime.now(UTC))
        finally:
            await conn.close()
        return await self.http.post("/api/enrol", json={"code": issued.code,
                                                        "public_key": b64(public_key_bytes(self.key))})

    async def challenge(self) -> str:
        answer = await self.http.post("/api/session/challenge", json={"nip": self.nip})
        return str(answer.json()["challenge"])

    async def sign_in(self, challenge: str | None = None) -> httpx.Response:
        challenge = challenge or await self.challenge()
        host = self.http.base_url.netloc.decode()
        signature = b64(self.key.sign(signin_message(host, self.nip, challenge)))
        answer = await self.http.post("/api/session", json={"nip": self.nip, "challenge": challenge,
                                                            "signature": signature})
        if answer.status_code == 200:
            self.csrf = answer.json()["csrf"]
        return answer

    def rating(self, world: World, ratee: str, source: str | None = None) -> bytes:
        import orjson

        envelope = world.envelope("behaviour.rated", ratee, {"rater_nip": self.nip, "relation": "atasan",
                                                            "value": "akuntabel", "score": 3},
                                  source or f"nip:{self.nip}", AT + timedelta(days=40))
        envelope["event_id"] = str(uuid.uuid4())
        return orjson.dumps(sign_envelope(envelope, self.key))

    async def submit(self, raw: bytes, *, csrf: bool = True) -> httpx.Response:
        headers = {"Content-Type": "application/json", **({"X-Objektif-CSRF": self.csrf} if csrf else {})}
        return await self.http.post("/api/submissions", content=raw, headers=headers)


async def test_a_person_enrols_signs_in_and_rates_through_the_gate_and_the_fences_hold(stack: Stack) -> None:
    world = PeopleWorld(stack)
    await world.setup()
    base = f"http://127.0.0.1:{stack.http_ports['scoring']}"
    penilai, employee, admin = Person(base, world.penilai), Person(base, world.employee), Person(base, world.peer)
    try:
        enrolled = await penilai.enrol(stack)
        assert enrolled.status_code == 202, enrolled.text
        assert enrolled.json()["key_id"] == key_id(public_key_bytes(penilai.key))
        # the evidence service says the key is the person's active one (public information, no token)
        evidence = f"http://127.0.0.1:{stack.http_ports['evidence']}"
        async with httpx.AsyncClient() as client:
            source = (await client.get(f"{evidence}/sources/nip:{world.penilai}")).json()
        assert source["kind"] == "person"
        assert [(k["key_id"], k["status"]) for k in source["keys"]] == [(enrolled.json()["key_id"], "active")]

        challenge = await penilai.challenge()
        session = await penilai.sign_in(challenge)
        assert session.status_code == 200, session.text
        assert session.json()["role"] == "superior"
        replayed = await penilai.sign_in(challenge)
        assert (replayed.status_code, replayed.json()["error"]) == (401, "challenge_used")

        rating = penilai.rating(world, world.employee)
        no_csrf = await penilai.submit(rating, csrf=False)
        assert (no_csrf.status_code, no_csrf.json()["error"]) == (403, "csrf")
        answer = await penilai.submit(rating)
        assert answer.status_code == 202, answer.text
        assert answer.json()["status"] == "accepted"

        assert (await employee.enrol(stack)).status_code == 202
        assert (await employee.sign_in()).status_code == 200
        in_his_name = await employee.submit(employee.rating(world, world.employee, source=f"nip:{world.penilai}"))
        assert (in_his_name.status_code, in_his_name.json()["error"]) == (403, "not_your_nip")

        assert (await admin.enrol(stack, grants=("admin",))).status_code == 202
        assert (await admin.sign_in()).json()["grants"] == ["admin"]
        revoked = await admin.http.post("/api/keys/revoke", json={"nip": world.penilai, "reason": "HP hilang"},
                                        headers={"X-Objektif-CSRF": admin.csrf})
        assert revoked.status_code == 202, revoked.text
        refused = await penilai.http.get("/api/me")
        assert (refused.status_code, refused.json()["error"]) == (401, "session_revoked")
    finally:
        for person in (penilai, employee, admin):
            await person.http.aclose()
