"""GET /sources/{source_id} (services/evidence/adapters/http_sources.py): a source and its keys as the gate knows
them now, what the scoring service's sessions ask before trusting a person's key (ADR 0007)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import orjson
from http_intake_world import MemoryStore
from starlette.applications import Starlette

from contracts.signing import b64, key_id, public_key_bytes, sign_envelope
from services.evidence.adapters.http_sources import source_routes
from services.evidence.app.intake import Intake
from tests.unit.evidence.evidence_world import ADMIN, PERSON_KEYS, STAFF1, build_world, key, person


def client(intake: Intake | None, world_now: object) -> httpx.AsyncClient:
    app = Starlette(routes=source_routes(lambda: intake, lambda: world_now()))  # type: ignore[operator]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://evidence")


async def test_a_person_source_shows_its_active_key_then_the_revocation_and_the_new_key() -> None:
    world = build_world()
    intake = Intake(MemoryStore(), world.state, clock=lambda: world.now, data_keys=world.key_directory())
    old = key_id(public_key_bytes(PERSON_KEYS[STAFF1]))
    async with client(intake, lambda: world.now) as http:
        body = (await http.get(f"/sources/{person(STAFF1)}")).json()
        assert (body["kind"], body["nip"]) == ("person", STAFF1)
        assert [(k["key_id"], k["status"]) for k in body["keys"]] == [(old, "active")]
        assert body["keys"][0]["public_key"] == b64(public_key_bytes(PERSON_KEYS[STAFF1]))

        revoke = world.envelope("source.key.revoked", person(STAFF1),
                                {"source_id": person(STAFF1), "key_id": old, "reason": "HP hilang"}, source="admin")
        (answer,) = await intake.answer([orjson.dumps(sign_envelope(revoke, ADMIN))], "test")
        assert answer.status == "accepted", answer
        world.now += timedelta(seconds=1)
        body = (await http.get(f"/sources/{person(STAFF1)}")).json()
        assert [(k["key_id"], k["status"]) for k in body["keys"]] == [(old, "revoked")]

        fresh = key(99)
        again = world.envelope("source.registered", person(STAFF1), {
            "source_id": person(STAFF1), "kind": "person", "public_key": b64(public_key_bytes(fresh)),
            "nip": STAFF1}, source="admin")
        (answer,) = await intake.answer([orjson.dumps(sign_envelope(again, ADMIN))], "test")
        assert answer.status == "accepted", answer
        world.now += timedelta(seconds=1)
        keys = {k["key_id"]: k["status"] for k in (await http.get(f"/sources/{person(STAFF1)}")).json()["keys"]}
        assert keys == {old: "revoked", key_id(public_key_bytes(fresh)): "active"}


async def test_an_unknown_source_is_404_and_a_starting_service_503() -> None:
    world = build_world()
    intake = Intake(MemoryStore(), world.state, clock=lambda: world.now, data_keys=world.key_directory())
    async with client(intake, lambda: world.now) as http:
        assert (await http.get("/sources/nip:199906062020121006")).status_code == 404
    async with client(None, lambda: world.now) as http:
        assert (await http.get(f"/sources/{person(STAFF1)}")).status_code == 503
