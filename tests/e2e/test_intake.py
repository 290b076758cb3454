"""End to end through the real broker and PostgreSQL (issue 6, "Done when"): kcat and librdkafka's Python client
publish submissions signed by a script that knows only docs/signing.md; every forgery or overreach ends as one
rejection with its own reason code, every valid one as one accepted event, and nothing is lost. The HTTP intake
answers the same way synchronously, and `objektif publish` reports what became of each line of a file."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from confluent_kafka import Producer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from objektif.sealing import sealed
from objektif.stack import Stack
from services.evidence.domain import MAX_BYTES
from tests.e2e.world import World, kcat_produce, query, query_value, wait_for

pytestmark = pytest.mark.e2e

#: The gate's default size limit, as docs/signing.md §5 states it.
LIMIT = MAX_BYTES


# --- a departmental system's signer, written from docs/signing.md alone -------------------------------------


def signing_bytes(envelope: dict[str, Any]) -> bytes:
    """§2: canonical JSON of the envelope without `signature`, `sequence` and `recorded_at`."""
    unsigned = {k: v for k, v in envelope.items() if k not in ("signature", "sequence", "recorded_at")}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(envelope: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """§3: one Ed25519 signature, standard base64."""
    return {**envelope, "signature": base64.b64encode(key.sign(signing_bytes(envelope))).decode("ascii")}


def key_id(key: Ed25519PrivateKey) -> str:
    """§1: the first 16 hex digits of SHA-256 over the raw public key."""
    return hashlib.sha256(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


def wire(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope, ensure_ascii=False).encode("utf-8")


def envelope(type_: str, subject: str, source: str, payload: dict[str, Any], at: datetime,
             period: str = "2025-Q3") -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "type": type_, "schema_version": 1, "occurred_at": at.isoformat(),
            "source": source, "subject": subject, "period": period, "payload": payload}


def realisation(world: World, subject: str, iki: str = "aps", value: str = "98") -> dict[str, Any]:
    doc = f"https://dapodik.example/{world.tag}/{subject}/{iki}/{value}"
    return envelope("realisation.recorded", subject, world.system, {
        "iki_id": iki, "value": value,
        "evidence": {"source_system": world.system, "document": doc,
                     "content_hash": "sha256:" + hashlib.sha256(doc.encode()).hexdigest()}},
        datetime(2025, 8, 1, 9, 0, tzinfo=UTC))


def rating(rater: str, subject: str, relation: str) -> dict[str, Any]:
    return envelope("behaviour.rated", subject, f"nip:{rater}", {
        "rater_nip": rater, "relation": relation, "value": "kolaboratif", "score": 3},
        datetime(2025, 8, 2, 9, 0, tzinfo=UTC))


def librdkafka_produce(bootstrap: str, messages: list[tuple[str, bytes]]) -> None:
    """Publish with confluent-kafka (librdkafka), waiting for every delivery report."""
    failures: list[str] = []
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "message.max.bytes": 4 * 1024 * 1024})
    for key, value in messages:
        producer.produce("objektif.submissions.v1", value=value, key=key.encode(),
                         on_delivery=lambda err, _msg: failures.append(str(err)) if err else None)
    assert producer.flush(30) == 0, "librdkafka did not deliver everything within 30 s"
    assert failures == []


async def accept_all(stack: Stack, envelopes: list[dict[str, Any]]) -> None:
    """Publish (librdkafka) and wait until every one is accepted."""
    librdkafka_produce(stack.kafka_bootstrap, [(e["subject"], wire(e)) for e in envelopes])
    ids = [e["event_id"] for e in envelopes]
    await wait_for(lambda: query_value(stack, "SELECT count(*) FROM evidence.events WHERE event_id = ANY($1::uuid[])",
                                       ids), lambda n: n == len(ids))


async def answers_for(stack: Stack, sent: list[bytes], since: datetime) -> list[tuple[str, tuple[str, ...]]]:
    """For each message sent: ("accepted", ()) or ("rejected", codes), read from the evidence store; every
    message must have exactly one row (`("missing"|"several", …)` otherwise)."""
    rejections = await query(stack, "SELECT codes, value FROM evidence.rejections WHERE recorded_at >= $1", since)
    refused: dict[bytes, list[tuple[str, ...]]] = {}
    for row in rejections:
        original = base64.b64decode(orjson.loads(row["value"])["payload"]["original_b64"])
        refused.setdefault(original, []).append(tuple(row["codes"]))
    out = []
    for raw in sent:
        try:
            event_id = str(uuid.UUID(orjson.loads(raw)["event_id"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            event_id = None
        accepted = await query_value(stack, "SELECT count(*) FROM evidence.events WHERE event_id = $1::uuid",
                                     event_id) if event_id else 0
        rejected = refused.get(raw[:LIMIT], [])
        rows = accepted + len(rejected)
        if rows != 1:
            out.append(("missing" if rows == 0 else "several", ()))
        else:
            out.append(("accepted", ()) if accepted else ("rejected", rejected[0]))
    return out


async def test_each_forgery_or_overreach_from_kcat_and_librdkafka_ends_as_one_rejection_with_its_own_code(
    stack: Stack,
) -> None:
    world, elsewhere = World(stack), World(stack)
    await asyncio.gather(world.setup(), elsewhere.setup())
    now = datetime.now(UTC)
    admin, system = stack.admin_key(), world.key(world.system)
    employee, peer, penilai = (world.key(f"nip:{n}") for n in (world.employee, world.peer, world.penilai))
    # the peer's key is withdrawn; the employee's result was delivered 20 days ago (§2.4 allows 14)
    await accept_all(stack, [
        sign(envelope("source.key.revoked", f"nip:{world.peer}", "admin",
                      {"source_id": f"nip:{world.peer}", "key_id": key_id(peer), "reason": "laptop hilang"}, now),
             admin),
        sign(envelope("result.delivered", world.employee, world.system, {"evaluation": "periodik"},
                      now - timedelta(days=20)), system),
    ])
    since = datetime.now(UTC)

    tampered = sign(realisation(world, world.employee, value="97"), system)
    tampered["payload"]["value"] = "99"
    by_kcat: dict[str, bytes] = {
        "valid": wire(sign(realisation(world, world.employee), system)),
        "signature.invalid": wire(tampered),
        "scope.indicator": wire(sign(realisation(world, world.employee, iki="ipm"), system)),
        "objection.late": wire(sign(sealed(envelope("objection.filed", world.employee, f"nip:{world.employee}",
                                                    {"reasons": "Nilai saya tidak sesuai bukti."}, now),
                                           world.data_key), employee)),
        "oversize": wire({**realisation(world, world.employee), "padding": "x" * (LIMIT + 1)}),
    }
    by_librdkafka: dict[str, bytes] = {
        "valid": wire(sign(rating(world.penilai, world.employee, "atasan"), penilai)),
        "key.revoked": wire(sign(rating(world.peer, world.employee, "rekan"), peer)),
        "scope.unit": wire(sign(realisation(world, elsewhere.employee), system)),
        "rater.self_as_atasan": wire(sign(rating(world.employee, world.employee, "atasan"), employee)),
        "rater.not_in_relation": wire(sign(rating(world.employee, world.peer, "atasan"), employee)),
        "not_json": f"<submission tag='{world.tag}'>bukan JSON</submission>".encode(),
    }
    kcat_produce(stack.kafka_bootstrap, [(world.employee, raw) for raw in by_kcat.values()])
    librdkafka_produce(stack.kafka_bootstrap, [(world.employee, raw) for raw in by_librdkafka.values()])

    sent = [*by_kcat.values(), *by_librdkafka.values()]
    expected = [("accepted", ()) if name == "valid" else ("rejected", (name,))
                for name in [*by_kcat, *by_librdkafka]]
    answers = await wait_for(lambda: answers_for(stack, sent, since),
                             lambda got: all(a[0] in ("accepted", "rejected") for a in got))
    assert answers == expected


async def test_the_http_intake_answers_202_422_413_and_idempotently_and_records_each_submission_once(
    stack: Stack,
) -> None:
    world = World(stack)
    await world.setup()
    system = world.key(world.system)
    since = datetime.now(UTC)
    valid = wire(sign(realisation(world, world.employee, value="98.5"), system))
    forged = wire(sign(realisation(world, world.employee, value="98.5"), world.key(f"nip:{world.employee}")))
    oversize = wire({**realisation(world, world.employee), "padding": "y" * (2 * LIMIT)})
    url = f"http://127.0.0.1:{stack.http_ports['evidence']}"
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        first = await client.post("/submissions", content=valid, headers={"content-type": "application/json"})
        again = await client.post("/submissions", content=valid, headers={"content-type": "application/json"})
        refused = await client.post("/submissions", content=forged)
        too_big = await client.post("/submissions", content=oversize)
        document = (await client.get("/openapi.json")).json()

    assert first.status_code == 202
    assert first.json()["status"] == "accepted"
    assert first.json()["event_id"] == orjson.loads(valid)["event_id"]
    sequence = first.json()["sequence"]
    assert await query_value(stack, "SELECT pos FROM evidence.events WHERE event_id = $1::uuid",
                             first.json()["event_id"]) == sequence
    assert (again.status_code, again.json()) == (202, {**first.json(), "status": "duplicate"})
    assert refused.status_code == 422
    assert [r["code"] for r in refused.json()["reasons"]] == ["signature.invalid"]
    assert refused.json()["reasons"][0]["message_id"] and refused.json()["reasons"][0]["message_en"]
    assert too_big.status_code == 413
    assert [r["code"] for r in too_big.json()["reasons"]] == ["oversize"]
    assert document["paths"]["/submissions"]["post"]["operationId"] == "submit"
    # each submission is one row; the one sent twice is still one; rejections reach the ledger like Kafka ones
    assert await answers_for(stack, [valid, forged, oversize], since) == [
        ("accepted", ()), ("rejected", ("signature.invalid",)), ("rejected", ("oversize",))]
    rejection_ids = [r["event_id"] for r in await query(
        stack, "SELECT event_id, value FROM evidence.rejections WHERE recorded_at >= $1", since)
        if base64.b64decode(orjson.loads(r["value"])["payload"]["original_b64"]) in (forged, oversize[:LIMIT])]
    assert len(rejection_ids) == 2
    await wait_for(lambda: query_value(stack, "SELECT count(*) FROM audit.leaves WHERE event_id = ANY($1::uuid[])",
                                       rejection_ids), lambda n: n == 2)


async def run_publish(stack: Stack, file: Path, report: Path, *options: str) -> tuple[int | None, str]:
    """`objektif publish FILE --report REPORT` as a process: its exit code and what it printed (stderr)."""
    how = options or ("--bootstrap", stack.kafka_bootstrap, "--wait", "60")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "objektif.cli", "publish", str(file), "--report", str(report), *how,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await process.communicate()
    return process.returncode, err.decode(errors="replace")


async def test_objektif_publish_reports_each_line_of_a_file_and_exits_0_when_all_are_answered(
    stack: Stack, tmp_path: Path,
) -> None:
    world = World(stack)
    await world.setup()
    system = world.key(world.system)
    valid = sign(realisation(world, world.employee, value="97.5"), system)
    lines = [
        wire(valid),
        wire(sign(realisation(world, world.employee, iki="ipm"), system)),
        f"bukan json {world.tag}".encode(),
        wire(valid),
    ]
    file, report = tmp_path / "submissions.jsonl", tmp_path / "report.jsonl"
    file.write_bytes(b"\n".join(lines) + b"\n")
    code, summary = await run_publish(stack, file, report)
    assert code == 0, summary[-3000:]
    rows = [orjson.loads(line) for line in report.read_bytes().splitlines()]
    assert [(r["line"], r["status"], r["codes"]) for r in rows] == [
        (1, "accepted", []), (2, "rejected", ["scope.indicator"]), (3, "rejected", ["not_json"]),
        (4, "duplicate", [])]
    assert rows[3]["sequence"] == rows[0]["sequence"]
    assert "scope.indicator" in summary
    assert "accepted" in summary

    # the same file again: the acceptance stands (duplicate), the same refusals answer again, exit 0
    code, summary = await run_publish(stack, file, report)
    assert code == 0, summary[-3000:]
    rows = [orjson.loads(line) for line in report.read_bytes().splitlines()]
    assert [r["status"] for r in rows] == ["duplicate", "rejected", "rejected", "duplicate"]

    # over HTTP the answers come in the responses
    fresh = sign(realisation(world, world.employee, value="98"), system)
    file.write_bytes(wire(fresh) + b"\n" + lines[1] + b"\n")
    code, summary = await run_publish(stack, file, report, "--http",
                                      f"http://127.0.0.1:{stack.http_ports['evidence']}")
    assert code == 0, summary[-3000:]
    rows = [orjson.loads(line) for line in report.read_bytes().splitlines()]
    assert [(r["status"], r["codes"]) for r in rows] == [("accepted", []), ("rejected", ["scope.indicator"])]

    # not waiting for answers leaves lines unanswered: exit 1
    file.write_bytes(wire(sign(realisation(world, world.employee, value="98.25"), system)) + b"\n")
    code, summary = await run_publish(stack, file, report, "--bootstrap", stack.kafka_bootstrap, "--wait", "0")
    assert code == 1, summary[-3000:]
    assert [orjson.loads(line)["status"] for line in report.read_bytes().splitlines()] == ["no answer"]
