"""Hostile and broken input: every such submission ends as one rejection with its reasons (poison is answered and
acknowledged, never retried forever), no service falls over, and old submissions replayed change nothing."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.signing import sign_envelope
from tests.faults import summary
from tests.faults.harness import FaultStack, Sent, Submitter, rejection_id, sent_of, services_alive
from tests.faults.invariants import check
from tests.faults.workload import organisations, quiet

pytestmark = pytest.mark.faults


def _deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def _hostile(world: Any, other: Any) -> list[tuple[str, Sent]]:
    """(what, submission) for every kind of bad input; all must be rejected."""
    key = world.employee
    good = world.realisation("96.00")

    def fresh(envelope: dict[str, Any]) -> dict[str, Any]:
        return {**envelope, "event_id": str(uuid.uuid4())}

    tampered = fresh(good)  # the signature covers the event id: it no longer verifies
    altered = {**good, "event_id": str(uuid.uuid4()), "payload": {**good["payload"], "value": "99.99"}}
    unsigned_key = sign_envelope({k: v for k, v in fresh(good).items() if k != "signature"},
                                 Ed25519PrivateKey.generate())
    foreign = other.realisation("97.00")  # a system of another organisation's key, for this employee
    foreign_here = sign_envelope({k: v for k, v in {**foreign, "subject": key, "event_id": str(uuid.uuid4())}
                                  .items() if k != "signature"}, other.key(other.system))
    padding = "x" * (300 * 1024)
    big = sign_envelope({k: v for k, v in fresh(good).items() if k != "signature"} |
                        {"payload": {**good["payload"], "note": padding}}, world.key(world.system))
    huge = orjson.dumps({**fresh(good), "payload": {"blob": "y" * (1536 * 1024)}})
    deep_payload = orjson.dumps({**fresh(good), "payload": {}}).replace(
        b'"payload":{}', b'"payload":' + b'{"a":' * 900 + b"1" + b"}" * 900)
    cases: list[tuple[str, bytes | dict[str, Any]]] = [
        ("not JSON", b"\x00\xffnot json at all"),
        ("empty record", b""),
        ("JSON but not an object", b"[1, 2, 3]"),
        ("invalid UTF-8", b'{"event_id": "\xff\xfe", "type": "realisation.recorded", "subject": "' + key.encode()
         + b'"}'),
        ("invalid UTF-8 inside a signed envelope", orjson.dumps(fresh(good)).replace(b'"96.00"', b'"9\xff.00"')),
        ("deep JSON (100 000 levels)", _deep(100_000)),
        ("deep JSON payload (900 levels)", deep_payload),
        ("oversize (300 KiB, signed)", big),
        ("oversize (1.5 MiB)", huge),
        ("forged: signature of another event id", tampered),
        ("forged: payload altered after signing", altered),
        ("forged: signed by an unregistered key", unsigned_key),
        ("forged: another organisation's system for this employee", foreign_here),
        ("schema: unknown type", {**fresh(good), "type": "realisation.recorded.v9"}),
        ("schema: unknown schema version", {**fresh(good), "schema_version": 99}),
        ("schema: missing signature", {k: v for k, v in fresh(good).items() if k != "signature"}),
    ]
    return [(what, sent_of(body, key, "rejected")) for what, body in cases]


async def test_hostile_input_is_rejected_with_reasons_and_breaks_nothing(
    fault_stack: FaultStack, submitter: Submitter
) -> None:
    started = time.monotonic()
    world, other = await organisations(fault_stack, submitter, 2)
    cases = _hostile(world, other)
    before = len(submitter.sent)
    await submitter.submit([s for _, s in cases])
    # Replays of old submissions, accepted and rejected alike: answered by what they were answered before.
    old = list(submitter.sent.values())[:before]
    await submitter.submit(old)
    marker = sent_of(world.realisation("95.50"), world.employee)
    await submitter.submit([marker])  # same partition as the hostile ones: answered after them
    await submitter.settle(60, check=lambda: services_alive(fault_stack))
    await quiet(fault_stack, check=lambda: services_alive(fault_stack))
    conn = await asyncpg.connect(fault_stack.admin_dsn)
    try:
        rows = {r["event_id"]: r["codes"] for r in await conn.fetch(
            "SELECT event_id, codes FROM evidence.rejections WHERE event_id = ANY($1::uuid[])",
            [rejection_id(s.raw) for _, s in cases])}
    finally:
        await conn.close()
    found = await check(fault_stack, submitter.sent.values())
    summary.record("hostile input", len(cases) + len(old), f"{len(cases)} kinds of bad input, {len(old)} replays",
                   len(cases) + len(old) + 1, found, time.monotonic() - started)
    reasons = {what: rows.get(rejection_id(s.raw)) for what, s in cases}
    assert all(reasons.values()), {w: r for w, r in reasons.items() if not r}
    assert found.ok, found.problems
    services_alive(fault_stack)


async def test_the_http_intake_refuses_floods_and_oversize_bodies_and_stays_up(
    fault_stack: FaultStack, submitter: Submitter
) -> None:
    started = time.monotonic()
    url = f"http://127.0.0.1:{fault_stack.http_ports['evidence']}/submissions"
    garbage = sent_of(b'{"not": "an envelope", "tag": "' + uuid.uuid4().hex.encode() + b'"}', "http", "rejected")
    submitter.remember([garbage])  # it arrives over HTTP, not Kafka
    async with httpx.AsyncClient(timeout=30) as client:
        oversize = await client.post(url, content=b"x" * (9 * 1024 * 1024),
                                     headers={"content-type": "application/x-ndjson"})
        answers = await asyncio.gather(*(client.post(url, content=garbage.raw,
                                                     headers={"content-type": "application/json"})
                                         for _ in range(250)))
    codes = sorted({a.status_code for a in answers})
    await submitter.settle(30, check=lambda: services_alive(fault_stack))
    await quiet(fault_stack, check=lambda: services_alive(fault_stack))
    found = await check(fault_stack, submitter.sent.values())
    summary.record("HTTP flood and oversize body", 251, "250 requests at once, a 9 MiB body", 1, found,
                   time.monotonic() - started, note=f"answers: {oversize.status_code} for the 9 MiB body; "
                   + ", ".join(f"{c} x{sum(a.status_code == c for a in answers)}" for c in codes) + " for the flood")
    assert oversize.status_code == 413
    assert 429 in codes  # the flood was rate limited
    assert all(c < 500 for c in codes), codes
    assert found.ok, found.problems
