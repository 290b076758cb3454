"""`verify` recomputes everything from the stored leaves and names the first bad leaf; `export` writes exactly
the bytes hashed, so a root computed from it by an independent implementation equals the signed one."""

from __future__ import annotations

import base64
import hashlib
import io

import asyncpg
import orjson
from audit_app_data import NOW, OTHER_SIGNER, SIGNER, body, evidence, filled, ledger, realisation, tamper

from chassis.kafka import Position
from contracts import topics
from services.audit.adapters import queries
from services.audit.adapters.ledger import INLINE_LEAVES, Ledger, entry_of
from services.audit.app.checkpoints import issue_checkpoint
from services.audit.app.export import export_leaves
from services.audit.app.verify import verify_ledger


def independent_root(leaf_hashes: list[bytes]) -> bytes:
    """RFC 6962 §2.1 Merkle Tree Hash, written from the RFC's recursive definition and nothing of ours."""
    if not leaf_hashes:
        return hashlib.sha256(b"").digest()
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = 1 << ((len(leaf_hashes) - 1).bit_length() - 1)  # largest power of two smaller than n
    return hashlib.sha256(
        b"\x01" + independent_root(leaf_hashes[:k]) + independent_root(leaf_hashes[k:])
    ).digest()


async def test_an_intact_ledger_verifies_with_its_checkpoints(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 9)
    await issue_checkpoint(conn, SIGNER, NOW)
    await ledger(pool, *evidence(*(realisation(f"more{i}", 20 + i, "1") for i in range(4))))
    await issue_checkpoint(conn, SIGNER, NOW)
    seen: list[int] = []
    report = await verify_ledger(conn, [SIGNER.verifier_key()], batch=4, progress=seen.append)
    assert report.ok, report.problems
    assert (report.tree_size, report.leaves_checked, report.checkpoints_checked) == (13, 13, 2)
    assert sum(seen) == 13
    assert len(seen) == 4


async def test_a_body_changed_behind_the_trigger_is_named_by_index_and_event(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    events = await filled(pool, 12)
    await issue_checkpoint(conn, SIGNER, NOW)
    forged = events[7].model_copy(update={"payload": {**events[7].payload, "value": "100"}})
    await tamper(
        conn,
        "leaf_data",
        "UPDATE audit.leaf_data SET body = $1 WHERE idx = 7",
        orjson.dumps(forged.model_dump(mode="json")),
    )
    report = await verify_ledger(conn, [SIGNER.verifier_key()], batch=5)
    assert not report.ok
    first = report.first_bad_leaf
    assert first is not None
    assert (first.leaf_index, first.event_id, first.kind) == (
        7,
        events[7].event_id,
        "leaf.bytes",
    )


async def test_a_rewritten_leaf_hash_breaks_the_chain_the_nodes_and_the_signed_root(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    events = await filled(pool, 6)
    await issue_checkpoint(conn, SIGNER, NOW)
    await tamper(conn, "leaves", "UPDATE audit.leaves SET leaf_hash = $1 WHERE idx = 3", b"\x05" * 32)
    report = await verify_ledger(conn, [SIGNER.verifier_key()])
    kinds = {p.kind for p in report.problems}
    assert {"leaf.bytes", "leaf.chain", "node", "checkpoint.root", "head.root"} <= kinds
    assert report.first_bad_leaf is not None
    assert report.first_bad_leaf.event_id == events[3].event_id


async def test_an_index_row_that_lies_about_its_event_is_found(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    events = await filled(pool, 3)
    await tamper(conn, "leaves", "UPDATE audit.leaves SET subject = '199901012020011001' WHERE idx = 1")
    report = await verify_ledger(conn, [])
    assert [(p.kind, p.leaf_index, p.event_id) for p in report.problems] == [
        ("leaf.index", 1, events[1].event_id)
    ]


async def test_a_deleted_leaf_and_a_checkpoint_by_an_untrusted_key_are_reported(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 4)
    await issue_checkpoint(conn, OTHER_SIGNER, NOW)
    await tamper(conn, "leaf_data", "DELETE FROM audit.leaf_data WHERE idx = 2")
    await tamper(conn, "leaves", "DELETE FROM audit.leaves WHERE idx = 2")
    report = await verify_ledger(conn, [SIGNER.verifier_key()])
    kinds = [p.kind for p in report.problems]
    assert "checkpoint.signature" in kinds
    assert "leaf.missing" in kinds
    assert report.first_bad_leaf is not None
    assert report.first_bad_leaf.leaf_index == 2


async def test_erased_bytes_leave_every_proof_and_the_root_intact(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 5)
    await issue_checkpoint(conn, SIGNER, NOW)
    await tamper(conn, "leaf_data", "DELETE FROM audit.leaf_data WHERE idx = 1")  # a lawful erasure (UU PDP)
    report = await verify_ledger(conn, [SIGNER.verifier_key()])
    assert report.ok
    assert report.erased == 1


async def test_the_root_of_the_export_by_an_independent_implementation_is_the_signed_root(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 7)
    await ledger(pool, (topics.REJECTIONS, b"not json at all \xff"))  # an unreadable record is ledgered too
    signed = (await issue_checkpoint(conn, SIGNER, NOW)).checkpoint
    buffer = io.BytesIO()
    summary = await export_leaves(conn, buffer.write, batch=3)
    lines = [orjson.loads(line) for line in buffer.getvalue().splitlines()]
    assert [line["index"] for line in lines] == list(range(8))
    assert summary.leaves == 8
    hashes = [hashlib.sha256(b"\x00" + base64.b64decode(line["body"])).digest() for line in lines]
    assert [h.hex() for h in hashes] == [line["leaf_hash"] for line in lines]
    assert independent_root(hashes) == signed.root == summary.root
    assert base64.b64decode(lines[-1]["body"]) == b"not json at all \xff"
    assert lines[-1]["topic"] == topics.REJECTIONS


async def test_the_independent_root_agrees_with_the_head_at_every_small_size(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    leaves = []
    for i in range(17):
        await ledger(pool, *evidence(realisation(f"s{i}", i + 1, str(i))))
        leaf = (await queries.leaves(conn, i, i + 1))[0]
        leaves.append(leaf.leaf_hash)
        assert independent_root(leaves) == (await queries.head(conn)).root


async def test_small_and_large_batches_write_the_same_ledger_whichever_way_they_are_written(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    # a batch of up to INLINE_LEAVES new leaves is written by one statement; a larger one is COPYed first
    small = [realisation(f"small{i}", i + 1, "1") for i in range(3)]
    large = [realisation(f"large{i}", 10 + i, "2") for i in range(INLINE_LEAVES + 37)]
    after = [realisation(f"after{i}", 500 + i, "3") for i in range(5)]
    await ledger(pool, *evidence(*small))
    await ledger(pool, *evidence(*large, small[0]))  # a duplicate inside a large batch is skipped
    await Ledger(pool).append([entry_of(topics.EVIDENCE, body(e)) for e in after],
                              [Position(topics.EVIDENCE, 2, 41)])
    await issue_checkpoint(conn, SIGNER, NOW)
    report = await verify_ledger(conn, [SIGNER.verifier_key()])
    assert report.ok, report.problems
    assert report.tree_size == len(small) + len(large) + len(after)
    rows = await conn.fetch("SELECT l.event_id, l.leaf_hash, d.body FROM audit.leaves l"
                            " JOIN audit.leaf_data d USING (idx) ORDER BY idx")
    assert [r["event_id"] for r in rows] == [e.event_id for e in (*small, *large, *after)]
    assert all(bytes(r["leaf_hash"]) == hashlib.sha256(b"\x00" + bytes(r["body"])).digest() for r in rows)
    head = await queries.head(conn)
    assert head.root == independent_root([bytes(r["leaf_hash"]) for r in rows])
    assert await conn.fetchval("SELECT next_offset FROM audit.consumer_positions"
                               " WHERE topic = $1 AND partition = 2", topics.EVIDENCE) == 41
