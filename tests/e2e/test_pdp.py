"""UU PDP on the real stack (issue 18, ADR 0010): a person's comment and feedback, sealed before signing, read on
his or her page, exported with proofs, then erased as a recorded act. Afterwards no table of any service and no
re-read of any topic yields the plaintext, the ledger verifies, every published result replays bit-exact, and the
export made before the erasure held every one of the person's events, each proof recomputing the checkpoint."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from contracts import pdp, topics
from contracts.signing import sign_batch, sign_envelope
from objektif.pdp import verify_export
from objektif.stack import Stack
from tests.e2e.test_work_api import bearer, ready
from tests.e2e.world import AT, PERIOD, World, check_export_proofs, query, stack_vkey, wait_for

pytestmark = pytest.mark.e2e
CLI = [sys.executable, "-m", "objektif.cli"]


async def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """`objektif …` against the test stack's database and data directory (its keys), in a thread."""
    argv = [*CLI, *args, "--data-dir", str(stack.data_dir), "--database-url", stack.admin_dsn]
    return await asyncio.to_thread(subprocess.run, argv, capture_output=True, text=True, timeout=180)


async def every_table_text(stack: Stack) -> str:
    """Every row of every table of the three services, as text (bytea decoded as UTF-8 where it is)."""
    tables = await query(stack, """SELECT table_schema, table_name FROM information_schema.tables
                                   WHERE table_schema IN ('evidence', 'scoring', 'audit')
                                     AND table_type = 'BASE TABLE'""")
    parts: list[str] = []
    for t in tables:
        rows = await query(stack, f'SELECT * FROM "{t["table_schema"]}"."{t["table_name"]}"')
        for row in rows:
            for value in row.values():
                parts.append(bytes(value).decode("utf-8", "replace") if isinstance(value, bytes | memoryview)
                             else str(value))
    return "\n".join(parts)


async def every_topic_text(stack: Stack) -> str:
    """Every record of every Objektif topic, re-read from the beginning (value and headers)."""
    consumer = AIOKafkaConsumer(*topics.ALL, bootstrap_servers=stack.kafka_bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    parts: list[str] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=3000, max_records=10_000)
            if not batch:
                return "\n".join(parts)
            for records in batch.values():
                for r in records:
                    parts.append((r.value or b"").decode("utf-8", "replace"))
                    parts += [v.decode("utf-8", "replace") for _k, v in r.headers or ()]
    finally:
        await consumer.stop()


async def test_comments_are_readable_then_erased_everywhere_while_the_ledger_and_results_hold(
    stack: Stack, tmp_path: Path
) -> None:
    world = World(stack)
    await world.setup()
    comment, note = f"komentar-rahasia-{world.tag}", f"umpan-balik-rahasia-{world.tag}"
    scoring = httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.http_ports['scoring']}", timeout=30)
    intake = httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.http_ports['evidence']}", timeout=30)
    for service in (scoring, intake):
        await ready(service)

    async def send(type_: str, subject: str, payload: dict[str, Any], signer: str, **extra: Any) -> httpx.Response:
        envelope = world.envelope(type_, subject, payload, f"nip:{signer}", datetime.now(UTC), **extra)
        return await intake.post("/submissions", content=orjson.dumps(sign_envelope(envelope, world.key(
            f"nip:{signer}"))), headers={"Content-Type": "application/json"})

    try:
        # the employee's name as the departmental system announces it: sealed to his data key like his comments
        name = f"Guru Rahasia {world.tag}"
        renamed = sign_batch([world.envelope("employee.assigned", world.employee, {
            "nip": world.employee, "name": name, "unit_id": world.unit, "position_id": f"{world.unit}.p",
            "jabatan": "Guru", "pejabat_penilai_nip": world.penilai, "effective_from": AT.isoformat()},
            world.system)], world.key(world.system))
        answer = await intake.post("/submissions", content=orjson.dumps(renamed[0]),
                                   headers={"Content-Type": "application/json"})
        assert answer.status_code == 202, answer.text
        # the Pejabat Penilai rates with a comment and gives feedback: both sealed to the employee's data key
        rated = await send("behaviour.rated", world.employee, {"rater_nip": world.penilai, "relation": "atasan",
                                                              "value": "loyal", "score": 3, "feedback": comment},
                           world.penilai)
        assert rated.status_code == 202, rated.text
        given = await send("feedback.given", world.employee, {"from_nip": world.penilai, "text": note,
                                                             "refers_to": []}, world.penilai, schema_version=2)
        assert given.status_code == 202, given.text
        # plaintext is refused with its reason, and the refusal does not keep it
        plain = world.envelope("feedback.given", world.employee, {"from_nip": world.penilai, "text": "x",
                                                                 "refers_to": []}, f"nip:{world.penilai}")
        plain["payload"]["text"], plain["schema_version"] = note + "-polos", 2
        refused = await intake.post("/submissions", content=orjson.dumps(sign_envelope(plain, world.key(
            f"nip:{world.penilai}"))))
        assert refused.status_code == 422 and [r["code"] for r in refused.json()["reasons"]] == ["pdp.not_sealed"]

        employee = bearer(stack, world.employee)

        async def thread() -> list[dict[str, Any]]:
            body = (await scoring.get(f"/api/feedback/{world.employee}/{PERIOD}", headers=employee)).json()
            return list(body["items"])

        items = await wait_for(thread, lambda i: bool(i))
        assert items[0]["text"] == note  # opened for the employee, who may read it

        async def shown_name() -> Any:
            found = await scoring.get(f"/api/appraisals/{world.employee}/{PERIOD}", headers=employee)
            return found.json().get("result", {}).get("name") if found.status_code == 200 else None

        assert await wait_for(shown_name, lambda n: n == name) == name

        # the person's own copy, before erasure: every event of his or her, proofs recomputing the checkpoint
        assert (await cli(stack, "audit", "checkpoint")).returncode == 0
        mine = {str(r["event_id"]) for r in await query(
            stack, "SELECT event_id FROM evidence.events WHERE subject = $1 OR source = $2", world.employee,
            f"nip:{world.employee}")}
        copy = tmp_path / "export.json"
        exported = await cli(stack, "pdp", "export", "--nip", world.employee, "--out", str(copy))
        assert exported.returncode == 0, exported.stderr
        doc = orjson.loads(copy.read_bytes())
        assert {e["event_id"] for e in doc["events"]} >= mine
        assert {comment, note} <= {v for e in doc["events"] for v in e["personal_fields"].values()}
        assert doc["format"] == "objektif-pdp-export-v2"
        assert verify_export(doc) == []
        check_export_proofs(doc, stack_vkey(stack))
        assert comment not in await every_table_text(stack)  # sealed from the start: never stored in the clear

        erased = await cli(stack, "pdp", "erase", "--nip", world.employee, "--reason", "uji UU PDP",
                           "--override", "perintah uji e2e", "--http", str(intake.base_url))
        assert erased.returncode == 0, erased.stdout + erased.stderr
        report = orjson.loads(erased.stdout)
        assert {(u["type"], u["field"]) for u in report["unreadable"]} >= {
            ("behaviour.rated", "feedback"), ("feedback.given", "text"), ("employee.assigned", "name")}
        items = await wait_for(thread, lambda i: bool(i))
        assert items[0]["text"] == pdp.ERASED
        assert await shown_name() == pdp.ERASED

        texts = await every_table_text(stack) + await every_topic_text(stack)
        for secret in (comment, note, note + "-polos", name):
            assert secret not in texts, secret
        after = tmp_path / "after.json"
        assert (await cli(stack, "pdp", "export", "--nip", world.employee, "--out", str(after))).returncode == 0
        assert comment not in after.read_text() and note not in after.read_text()

        verified = await cli(stack, "audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        replayed = await cli(stack, "audit", "replay", "--all")
        assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    finally:
        await scoring.aclose()
        await intake.aclose()
