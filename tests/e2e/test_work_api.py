"""What each role works on, at the API level on the real stack (issue 16): the structure's tasks and their progress
as person-signed ratings pass the real gate, the Pejabat Penilai's team, his delivery of the result as a person
(and a peer's refused), the dialog kinerja thread with the employee's reply, BKPSDM closing the unit's period with
the registrar key through the gate, and the appeal dossier fetched from the audit service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from contracts.signing import sign_envelope
from objektif.stack import Stack
from services.scoring.app.access import Role, mint_token
from tests.e2e.world import PERIOD, World, wait_for

pytestmark = pytest.mark.e2e
VALUES = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")


async def ready(client: httpx.AsyncClient) -> None:
    """Wait until a service's HTTP side answers /readyz (the stack's processes may still be starting)."""

    async def probe() -> int:
        try:
            return (await client.get("/readyz")).status_code
        except httpx.HTTPError:
            return 0

    await wait_for(probe, lambda status: status == 200, timeout=90)


def bearer(stack: Stack, nip: str | None, role: Role = Role.EMPLOYEE, grants: tuple[str, ...] = ()) -> dict[str, str]:
    token = mint_token(nip, role, datetime.now(UTC) + timedelta(hours=1), stack.token_secret(), grants=grants)
    return {"Authorization": f"Bearer {token}"}


async def test_tasks_team_delivery_feedback_close_and_dossier_on_the_real_stack(stack: Stack) -> None:
    world = World(stack)
    await world.setup()
    scoring = httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.http_ports['scoring']}", timeout=30)
    intake = httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.http_ports['evidence']}", timeout=30)
    employee = bearer(stack, world.employee)
    for service in (scoring, intake):
        await ready(service)

    async def send(type_: str, subject: str, payload: dict[str, Any], signer: str, **extra: Any) -> httpx.Response:
        envelope = world.envelope(type_, subject, payload, f"nip:{signer}", datetime.now(UTC), **extra)
        raw = orjson.dumps(sign_envelope(envelope, world.key(f"nip:{signer}")))
        return await intake.post("/submissions", content=raw, headers={"Content-Type": "application/json"})

    async def tasks() -> dict[tuple[str, str], dict[str, Any]]:
        body = (await scoring.get(f"/api/tasks?period={PERIOD}", headers=employee)).json()
        return {(t["nip"], t["relation"]): t for t in body["tasks"]}

    try:
        wanted = {(world.peer, "rekan"), (world.employee, "diri"), (world.penilai, "bawahan")}
        first = await wait_for(tasks, lambda t: set(t) == wanted)  # once the scoring service has the structure
        assert first[(world.peer, "rekan")]["values_left"] == list(VALUES)

        for value in VALUES:
            answer = await send("behaviour.rated", world.peer, {"rater_nip": world.employee, "relation": "rekan",
                                                                "value": value, "score": 2}, world.employee)
            assert answer.status_code == 202, answer.text
        # a rating the structure does not ask for is refused by the gate with its reason
        unrelated = await send("behaviour.rated", world.peer, {"rater_nip": world.employee, "relation": "atasan",
                                                               "value": "loyal", "score": 3}, world.employee)
        assert unrelated.status_code == 422
        assert [r["code"] for r in unrelated.json()["reasons"]] == ["rater.not_in_relation"]
        done = await wait_for(tasks, lambda t: t[(world.peer, "rekan")]["done"])
        assert not done[(world.penilai, "bawahan")]["done"]

        admin = bearer(stack, world.peer, grants=("admin",))
        progress = (await scoring.get(f"/api/admin/progress?period={PERIOD}&unit={world.unit}", headers=admin)).json()
        (unit,) = progress["units"]
        assert (unit["expected"], unit["done"], unit["missing_total"]) == (9, 1, 8)

        penilai = bearer(stack, world.penilai, Role.SUPERIOR)
        team = (await scoring.get(f"/api/team?period={PERIOD}", headers=penilai)).json()
        assert {m["nip"] for m in team["members"]} == {world.employee, world.peer}

        refused = await send("result.delivered", world.employee, {}, world.peer)
        assert [r["code"] for r in refused.json()["reasons"]] == ["delivery.not_pejabat_penilai"]
        delivered = await send("result.delivered", world.employee, {}, world.penilai)
        assert delivered.status_code == 202, delivered.text

        note_id = str(uuid.uuid4())
        note = await send("feedback.given", world.employee, {"from_nip": world.penilai, "text": "Pertahankan APS",
                                                             "refers_to": []}, world.penilai, schema_version=2,
                          event_id=note_id)
        assert note.status_code == 202, note.text
        reply = await send("feedback.given", world.employee, {"from_nip": world.employee, "text": "Siap, Pak",
                                                              "refers_to": [{"event_id": note_id}]}, world.employee,
                           schema_version=2)
        assert reply.status_code == 202, reply.text

        async def thread() -> list[dict[str, Any]]:
            body = (await scoring.get(f"/api/feedback/{world.employee}/{PERIOD}", headers=employee)).json()
            return list(body["items"])

        items = await wait_for(thread, lambda i: bool(i) and bool(i[0]["replies"]))
        assert (items[0]["event_id"], items[0]["from_nip"]) == (note_id, world.penilai)
        assert items[0]["replies"][0]["text"] == "Siap, Pak"
        members = (await scoring.get(f"/api/team?period={PERIOD}", headers=penilai)).json()["members"]
        assert {m["nip"]: m["delivered"] for m in members} == {world.employee: True, world.peer: False}

        closed = await scoring.post(f"/api/admin/periods/{PERIOD}/close", json={"unit_id": world.unit}, headers=admin)
        assert (closed.status_code, closed.json()["status"]) == (202, "accepted"), closed.text

        auditor = bearer(stack, None, Role.AUDITOR)

        async def dossier() -> httpx.Response:
            return await scoring.get(f"/api/admin/dossier/{world.employee}/{PERIOD}", headers=auditor)

        page = await wait_for(dossier, lambda r: r.status_code == 200, timeout=90)
        assert world.employee in page.text and "attachment" in page.headers["content-disposition"]
        assert (await scoring.get(f"/api/admin/dossier/{world.employee}/{PERIOD}", headers=employee)).status_code == 403
    finally:
        await scoring.aclose()
        await intake.aclose()
