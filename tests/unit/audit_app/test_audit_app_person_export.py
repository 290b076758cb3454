"""A person's UU PDP export from the ledger (services/audit/app/person_export.py, issue 18): under the latest
checkpoint it holds exactly the leaves about the person and those he or she wrote about others, another person's
sealed text never shown in the decoded envelope, each event's proof recomputing its partition's root and that
partition's proof the root of the checkpoint over every partition (ADR 0013), a tampered one caught; over HTTP
(services/audit/adapters/person_web.py) the auditors' token opens it and nothing else does."""

from __future__ import annotations

import base64
import copy
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from audit_app_data import (
    NIP,
    NOW,
    ORIGIN,
    OTHER_NIP,
    PERIOD,
    SIGNER,
    T0,
    body,
    event_id,
    ledger,
    realisation,
    score,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from starlette.applications import Starlette

from chassis.partitions import PARTITIONS, partition_of
from contracts import pdp, topics
from contracts.envelope import Envelope
from contracts.merkle import leaf_hash, root_from_inclusion
from objektif.pdp import verify_export
from services.audit.adapters.person_web import person_routes
from services.audit.app.checkpoints import issue_checkpoint
from services.audit.app.person_export import OTHERS, gather
from services.audit.domain.checkpoint import open_checkpoint
from services.audit.domain.partitions import entry, partition_origin, partitions_origin

TOKEN = "auditors-token-for-the-test"
A, B = NIP, OTHER_NIP
KEY_A, KEY_B = X25519PrivateKey.generate(), X25519PrivateKey.generate()
SECRET_OF_B = "alasan penilaian yang hanya B boleh baca"


def sealed_event(name: str, type_: str, subject: str, source: str, payload: dict[str, Any],
                 key: X25519PrivateKey, **extra: Any) -> Envelope:
    """An event whose personal fields are sealed to `key` (the subject's data key), as producers submit them."""
    doc = {"event_id": str(event_id(name)), "type": type_, "occurred_at": T0.isoformat(), "source": source,
           "subject": subject, "period": PERIOD, "payload": payload, **extra}
    return Envelope.model_validate(pdp.seal_payload(doc, pdp.raw_public(key)))


def rating_by_a_about_b(name: str = "rating-a-b") -> Envelope:
    return sealed_event(name, "rating.pejabat_penilai", B, f"nip:{A}",
                        {"rater_nip": A, "rating_hasil_kerja": "Sesuai Ekspektasi", "justification": SECRET_OF_B},
                        KEY_B)


def feedback_by_b_about_a() -> Envelope:
    return sealed_event("feedback-b-a", "feedback.given", A, f"nip:{B}",
                        {"from_nip": B, "text": "umpan balik untuk A"}, KEY_A)


def rejection_about(nip: str) -> Envelope:
    original = orjson.dumps({"type": "realisation.recorded", "subject": nip})
    return Envelope(
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"rejection:{nip}"), type="submission.rejected", occurred_at=T0,
        recorded_at=T0, source="objektif.evidence", subject=nip, period=PERIOD,
        payload={"submission_event_id": None, "original_b64": base64.b64encode(original).decode(),
                 "reasons": [{"code": "schema.invalid", "message_id": "tidak sah", "message_en": "invalid"}],
                 "received_from": "system.test", "received_at": T0.isoformat()})


async def two_people_ledger(pool: asyncpg.Pool, conn: asyncpg.Connection) -> dict[str, Envelope]:
    """A's and B's events, a checkpoint over them, then one more of each kind after it."""
    own = realisation("a1", 1, "5")
    made = {
        "own": own, "feedback": feedback_by_b_about_a(), "rating": rating_by_a_about_b(),
        "rejection": rejection_about(A), "score": score([own]),
        "of_b": realisation("b1", 1, "3", nip=B),
        # The prefilter's bytes, but not as the source: not something A wrote.
        "decoy": realisation("b2", 2, "4", nip=B).model_copy(update={"correlation_id": f"nip:{A}"}),
        "rejection_of_b": rejection_about(B),
    }
    await ledger(pool, (topics.EVIDENCE, made["own"]), (topics.EVIDENCE, made["of_b"]),
                 (topics.EVIDENCE, made["feedback"]), (topics.EVIDENCE, made["rating"]),
                 (topics.EVIDENCE, made["decoy"]), (topics.REJECTIONS, made["rejection"]),
                 (topics.REJECTIONS, made["rejection_of_b"]), (topics.SCORES, made["score"]))
    await issue_checkpoint(conn, SIGNER, NOW)
    made["late"], made["late_rating"] = realisation("a-late", 2, "7"), rating_by_a_about_b("rating-late")
    await ledger(pool, (topics.EVIDENCE, made["late"]), (topics.EVIDENCE, made["late_rating"]))
    return made


async def test_a_persons_export_holds_exactly_the_leaves_about_and_by_them_under_the_checkpoint(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    made = await two_people_ledger(pool, conn)
    doc = await gather(conn, A)
    assert (doc["format"], doc["nip"], doc["source"]) == ("objektif-pdp-export-v2", A, "ledger")
    assert doc["checkpoint"]["size"] == 8 and f"nip:{A}" in doc["completeness"]
    pa, pb = partition_of(A), partition_of(B)
    assert pa != pb  # A's leaves and B's lie in two partitions' trees
    assert doc["checkpoint"]["count"] == PARTITIONS
    assert [(p["part"], p["size"]) for p in doc["checkpoint"]["partitions"]] == sorted([(pa, 4), (pb, 4)])
    ids = [e["event_id"] for e in doc["events"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == {str(made[k].event_id) for k in ("own", "feedback", "rating", "rejection", "score")}
    by_id = {e["event_id"]: e for e in doc["events"]}
    # Each partition's leaves in the order of its tree: A's own in A's partition, the rating A wrote in B's.
    assert [(by_id[str(made[k].event_id)]["partition"], by_id[str(made[k].event_id)]["leaf_index"])
            for k in ("own", "feedback", "rejection", "score", "rating")] == [(pa, 0), (pa, 1), (pa, 2), (pa, 3),
                                                                              (pb, 1)]
    assert [r["event_id"] for r in doc["results"]] == [str(made["score"].event_id)]
    result, scored = doc["results"][0], by_id[str(made["score"].event_id)]
    assert result["result"]["total"] == "5"
    assert (result["partition"], result["leaf_index"]) == (scored["partition"], scored["leaf_index"]) == (pa, 3)
    assert by_id[str(made["rejection"].event_id)]["topic"] == topics.REJECTIONS
    feedback = by_id[str(made["feedback"].event_id)]
    assert feedback["personal_fields"] == {"text": made["feedback"].payload["text"]}
    assert pdp.open_sealed(feedback["personal_fields"]["text"], KEY_A) == "umpan balik untuk A"


async def test_another_persons_sealed_text_is_replaced_in_the_envelope_but_the_leaf_bytes_stay_verbatim(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    made = await two_people_ledger(pool, conn)
    doc = await gather(conn, A)
    rating = next(e for e in doc["events"] if e["event_id"] == str(made["rating"].event_id))
    sealed = made["rating"].payload["justification"]
    assert pdp.is_sealed(sealed) and sealed not in orjson.dumps(rating["envelope"]).decode()
    assert rating["envelope"]["payload"]["justification"] == OTHERS
    assert rating["personal_fields"] == {"justification": OTHERS}
    assert (rating["subject"], rating["source"]) == (B, f"nip:{A}")
    assert base64.b64decode(rating["leaf_bytes_b64"]) == body(made["rating"])


async def test_every_proof_in_the_export_recomputes_the_checkpoint_root(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await two_people_ledger(pool, conn)
    for nip in (A, B):
        doc = await gather(conn, nip)
        assert verify_export(doc) == []
        checkpoint = doc["checkpoint"]
        # The roots the proofs reach are the ones signed: over every partition, and each partition's own.
        over_all = open_checkpoint(checkpoint["note"], SIGNER.verifier_key(), origin=partitions_origin(ORIGIN))
        root, count = bytes.fromhex(checkpoint["root"]), checkpoint["count"]
        assert (over_all.size, over_all.root) == (count, root) == (PARTITIONS, root)
        trees = {}
        for p in checkpoint["partitions"]:
            signed = open_checkpoint(p["note"], SIGNER.verifier_key(), origin=partition_origin(ORIGIN, p["part"]))
            assert (signed.size, signed.root.hex()) == (p["size"], p["root"])
            trees[p["part"]] = (p["size"], signed.root)
        assert sum(size for size, _ in trees.values()) == checkpoint["size"]
        for e in doc["events"]:
            assert leaf_hash(base64.b64decode(e["leaf_bytes_b64"])).hex() == e["leaf_hash"]
            size, tree_root = trees[e["partition"]]
            path = [bytes.fromhex(p) for p in e["inclusion_proof"]]
            assert root_from_inclusion(bytes.fromhex(e["leaf_hash"]), e["leaf_index"], size, path) == tree_root
            step = [bytes.fromhex(p) for p in e["partition_proof"]]
            head = leaf_hash(entry(e["partition"], size, tree_root))
            assert root_from_inclusion(head, e["partition"], count, step) == root
    b_doc = await gather(conn, B)
    assert len(b_doc["events"]) == 5  # b1, the rating, the decoy, B's rejection; the feedback B wrote about A
    sizes = {p["part"]: p["size"] for p in b_doc["checkpoint"]["partitions"]}
    assert all(e["leaf_index"] < sizes[e["partition"]] for e in b_doc["events"])


async def test_a_tampered_export_fails_its_verification(pool: asyncpg.Pool, conn: asyncpg.Connection) -> None:
    await two_people_ledger(pool, conn)
    doc = await gather(conn, A)
    assert verify_export(doc) == []
    first = doc["events"][0]["event_id"]

    def flipped(hex_: str) -> str:
        return f"{int(hex_[0], 16) ^ 1:x}{hex_[1:]}"

    def tampered(change: str) -> list[str]:
        bad = copy.deepcopy(doc)
        e, checkpoint = bad["events"][0], bad["checkpoint"]
        if change == "bytes":
            e["leaf_bytes_b64"] = base64.b64encode(base64.b64decode(e["leaf_bytes_b64"]) + b" ").decode()
        elif change == "inclusion":
            e["inclusion_proof"][0] = flipped(e["inclusion_proof"][0])
        elif change == "position":
            e["leaf_index"] += 1
        elif change == "partition_proof":
            e["partition_proof"][-1] = flipped(e["partition_proof"][-1])
        elif change == "partition_root":
            part = next(p for p in checkpoint["partitions"] if p["part"] == e["partition"])
            part["root"] = flipped(part["root"])
        elif change == "partition_size":
            next(p for p in checkpoint["partitions"] if p["part"] == e["partition"])["size"] -= 1
        elif change == "moved":
            e["partition"] = next(p["part"] for p in checkpoint["partitions"] if p["part"] != e["partition"])
        elif change == "root":
            checkpoint["root"] = flipped(checkpoint["root"])
        return verify_export(bad)

    assert tampered("bytes") == [f"{first}: leaf bytes do not hash to the leaf hash"]
    assert tampered("inclusion") == [f"{first}: inclusion proof does not give its partition's root"]
    assert tampered("position") == [f"{first}: inclusion proof does not give its partition's root"]
    assert tampered("partition_proof") == [f"{first}: its partition's proof does not give the checkpoint root"]
    assert f"{first}: inclusion proof does not give its partition's root" in tampered("partition_root")
    assert f"{first}: inclusion proof does not give its partition's root" in tampered("moved")
    # A smaller size can leave a left leaf's path valid, but the entry signed over every partition holds the size.
    assert f"{first}: its partition's proof does not give the checkpoint root" in tampered("partition_size")
    part = doc["events"][0]["partition"]
    assert {p.split(":")[0] for p in tampered("partition_size")} == {
        e["event_id"] for e in doc["events"] if e["partition"] == part}
    problems = tampered("root")
    assert len(problems) == len(doc["events"])
    assert all(p.endswith(": its partition's proof does not give the checkpoint root") for p in problems)


async def test_without_a_checkpoint_nothing_is_exported(pool: asyncpg.Pool, conn: asyncpg.Connection) -> None:
    await ledger(pool, (topics.EVIDENCE, realisation("a1", 1, "5")))
    doc = await gather(conn, A)
    assert doc["checkpoint"] is None and doc["events"] == [] and doc["results"] == []


@pytest.fixture
async def client(pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=person_routes(lambda: pool, TOKEN))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://audit") as c:
        yield c


async def test_the_auditors_token_opens_the_export_and_nothing_else_does(
    pool: asyncpg.Pool, conn: asyncpg.Connection, client: httpx.AsyncClient
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert (await client.get(f"/people/{A}/export.json", headers=auth)).status_code == 404
    made = await two_people_ledger(pool, conn)
    answer = await client.get(f"/people/{A}/export.json", headers=auth)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["cache-control"] == "no-store"
    assert answer.json() == orjson.loads(orjson.dumps(await gather(conn, A)))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        refused = await client.get(f"/people/{A}/export.json", headers=headers)
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorised"
        assert str(made["own"].event_id) not in refused.text
    bad = await client.get("/people/123/export.json", headers=auth)
    assert bad.status_code == 400 and bad.json()["error"] == "bad_request"


async def test_without_a_token_configured_or_a_pool_the_export_is_refused(pool: asyncpg.Pool) -> None:
    for routes, status in ((person_routes(lambda: pool, None), 401), (person_routes(lambda: None, TOKEN), 503)):
        app = Starlette(routes=routes)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://audit") as c:
            answer = await c.get(f"/people/{A}/export.json", headers={"Authorization": f"Bearer {TOKEN}"})
            assert answer.status_code == status
