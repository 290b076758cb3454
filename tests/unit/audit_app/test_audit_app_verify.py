"""`verify` recomputes everything from the stored leaves, partition by partition, and names the first bad leaf by
its partition and position; `export` writes exactly the bytes hashed, so the roots computed from it by an
independent implementation, each partition's and the one over every partition, equal the signed ones."""

from __future__ import annotations

import base64
import hashlib
import io

import asyncpg
import orjson
from audit_app_data import (
    NIP,
    NOW,
    OTHER_NIP,
    OTHER_SIGNER,
    SIGNER,
    P,
    Q,
    body,
    evidence,
    filled,
    ledger,
    nip_in,
    others,
    realisation,
    tamper,
)

from chassis.kafka import Position
from chassis.partitions import PARTITIONS, partition_of
from contracts import topics
from services.audit.adapters import queries
from services.audit.adapters.ledger import INLINE_LEAVES, Ledger, entry_of
from services.audit.app.checkpoints import issue_checkpoint
from services.audit.app.export import export_leaves
from services.audit.app.verify import verify_ledger
from services.audit.domain.checkpoint import open_checkpoint
from tests.rfc6962_reference import reference_partitions_root, reference_root


async def idx_at(conn: asyncpg.Connection, part: int, pos: int) -> int:
    """The ledger index (idx) of the leaf at ``pos`` in partition ``part``."""
    idx = await conn.fetchval("SELECT idx FROM audit.leaves WHERE part = $1 AND pos = $2", part, pos)
    assert idx is not None
    return int(idx)


async def test_an_intact_ledger_verifies_with_its_checkpoints(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 9)
    await issue_checkpoint(conn, SIGNER, NOW)
    await ledger(pool, *evidence(*(realisation(f"more{i}", 20 + i, "1") for i in range(4))), *others(3))
    last = await issue_checkpoint(conn, SIGNER, NOW)
    seen: list[int] = []
    report = await verify_ledger(conn, [SIGNER.verifier_key()], batch=4, progress=seen.append)
    assert report.ok, report.problems
    # partitions' checkpoints P@9, P@13, Q@3, and two over every partition
    assert (report.tree_size, report.leaves_checked, report.checkpoints_checked) == (16, 16, 5)
    assert report.root == last.partitions.root
    assert sum(seen) == 16
    assert sorted(seen) == [1, 3, 4, 4, 4]  # batches of 4 within each partition: P's 13, then Q's 3


async def test_a_body_changed_behind_the_trigger_is_named_by_index_and_event(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await ledger(pool, *others(4))  # another partition's leaves first: the ledger's idx is not the position
    events = await filled(pool, 12)
    await issue_checkpoint(conn, SIGNER, NOW)
    forged = events[7].model_copy(update={"payload": {**events[7].payload, "value": "100"}})
    await tamper(
        conn,
        "leaf_data",
        "UPDATE audit.leaf_data SET body = $1 WHERE idx = $2",
        orjson.dumps(forged.model_dump(mode="json")),
        await idx_at(conn, P, 7),
    )
    report = await verify_ledger(conn, [SIGNER.verifier_key()], batch=5)
    assert not report.ok
    first = report.first_bad_leaf
    assert first is not None
    assert (first.partition, first.leaf_index, first.event_id, first.kind) == (
        P,
        7,
        events[7].event_id,
        "leaf.bytes",
    )
    assert f"leaf 7 of partition {P}" in first.message
    assert {p.partition for p in report.problems} == {P}


async def test_a_rewritten_leaf_hash_breaks_the_chain_the_nodes_and_the_signed_root(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await ledger(pool, *others(5))
    events = await filled(pool, 6)
    await issue_checkpoint(conn, SIGNER, NOW)
    await tamper(conn, "leaves", "UPDATE audit.leaves SET leaf_hash = $1 WHERE part = $2 AND pos = 3", b"\x05" * 32, P)
    report = await verify_ledger(conn, [SIGNER.verifier_key()])
    kinds = {p.kind for p in report.problems}
    assert {"leaf.bytes", "leaf.chain", "node", "checkpoint.root", "head.root"} <= kinds
    # the root at size 6 is refused against both P's own checkpoint and the one over every partition
    signed = [p.message for p in report.problems if p.kind == "checkpoint.root"]
    assert len(signed) == 2 and any("over every partition" in m for m in signed)
    assert {p.partition for p in report.problems} == {P}  # Q's leaves are intact
    assert report.first_bad_leaf is not None
    assert (report.first_bad_leaf.partition, report.first_bad_leaf.leaf_index) == (P, 3)
    assert report.first_bad_leaf.event_id == events[3].event_id


async def test_an_index_row_that_lies_about_its_event_is_found(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await ledger(pool, *others(2))
    events = await filled(pool, 3)
    await tamper(conn, "leaves", "UPDATE audit.leaves SET subject = '199901012020011001' WHERE part = $1 AND pos = 1",
                 P)
    report = await verify_ledger(conn, [])
    assert [(p.kind, p.partition, p.leaf_index, p.event_id) for p in report.problems] == [
        ("leaf.index", P, 1, events[1].event_id)
    ]


async def test_a_deleted_leaf_and_a_checkpoint_by_an_untrusted_key_are_reported(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await ledger(pool, *others(3))
    await filled(pool, 4)
    await issue_checkpoint(conn, OTHER_SIGNER, NOW)
    idx = await idx_at(conn, P, 2)
    await tamper(conn, "leaf_data", "DELETE FROM audit.leaf_data WHERE idx = $1", idx)
    await tamper(conn, "leaves", "DELETE FROM audit.leaves WHERE idx = $1", idx)
    report = await verify_ledger(conn, [SIGNER.verifier_key()])
    kinds = [p.kind for p in report.problems]
    assert "checkpoint.signature" in kinds
    assert "partitions.signature" in kinds
    assert "leaf.missing" in kinds
    assert report.first_bad_leaf is not None
    assert (report.first_bad_leaf.partition, report.first_bad_leaf.leaf_index) == (P, 2)


async def test_erased_bytes_leave_every_proof_and_the_root_intact(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await ledger(pool, *others(2))
    await filled(pool, 5)
    issued = await issue_checkpoint(conn, SIGNER, NOW)
    # a lawful erasure (UU PDP), in each partition
    for part, pos in ((P, 1), (Q, 0)):
        await tamper(conn, "leaf_data", "DELETE FROM audit.leaf_data WHERE idx = $1", await idx_at(conn, part, pos))
    report = await verify_ledger(conn, [SIGNER.verifier_key()])
    assert report.ok, report.problems
    assert report.erased == 2
    assert report.root == issued.partitions.root


async def test_the_root_of_the_export_by_an_independent_implementation_is_the_signed_root(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await filled(pool, 7)
    await ledger(pool, (topics.REJECTIONS, b"not json at all \xff"))  # an unreadable record is ledgered too
    await ledger(pool, *others(3, nip_in(0), "zero"))
    issued = await issue_checkpoint(conn, SIGNER, NOW)
    buffer = io.BytesIO()
    summary = await export_leaves(conn, buffer.write, batch=3)
    lines = [orjson.loads(line) for line in buffer.getvalue().splitlines()]
    assert summary.leaves == len(lines) == 11
    # partition by partition, each in tree order; the ledger's index stays each leaf's identity
    assert [(line["partition"], line["position"]) for line in lines] == sorted(
        (line["partition"], line["position"]) for line in lines)
    assert len({line["index"] for line in lines}) == 11
    hashes = [hashlib.sha256(b"\x00" + base64.b64decode(line["body"])).digest() for line in lines]
    assert [h.hex() for h in hashes] == [line["leaf_hash"] for line in lines]
    vkey = SIGNER.verifier_key()
    signed = {c.part: open_checkpoint(c.note, vkey) for c in issued.signed}
    unreadable = partition_of("unknown")
    heads: dict[int, tuple[int, bytes]] = {}
    for part, n in ((P, 7), (unreadable, 1), (0, 3)):
        mine = [h for h, line in zip(hashes, lines, strict=True) if line["partition"] == part]
        assert [line["position"] for line in lines if line["partition"] == part] == list(range(n))
        assert reference_root(mine) == signed[part].root and signed[part].size == n
        heads[part] = (n, reference_root(mine))
    assert sorted(signed) == sorted(heads)
    over_all = open_checkpoint(issued.partitions.note, vkey)
    assert reference_partitions_root(heads, PARTITIONS) == over_all.root == issued.partitions.root == summary.root
    rejected = [line for line in lines if line["topic"] == topics.REJECTIONS]
    assert [base64.b64decode(line["body"]) for line in rejected] == [b"not json at all \xff"]
    assert rejected[0]["partition"] == unreadable


async def test_the_independent_root_agrees_with_the_head_at_every_small_size(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    nips = {P: NIP, Q: OTHER_NIP, 0: nip_in(0)}
    leaves: dict[int, list[bytes]] = {part: [] for part in nips}
    for i in range(17):
        part = list(nips)[i % 3 if i < 9 else 0]  # interleaved, then one partition runs on alone
        await ledger(pool, *evidence(realisation(f"s{i}", i + 1, str(i), nips[part])))
        pos = len(leaves[part])
        leaf = (await queries.leaves(conn, part, pos, pos + 1))[0]
        leaves[part].append(leaf.leaf_hash)
        for p, hashes in leaves.items():
            head = await queries.head(conn, p)
            assert (head.size, head.root) == (len(hashes), reference_root(hashes))
        assert await queries.ledger_size(conn) == i + 1
    heads = {p: (len(h), reference_root(h)) for p, h in leaves.items()}
    assert reference_partitions_root(heads, PARTITIONS) == (await verify_ledger(conn, [])).root


async def test_small_and_large_batches_write_the_same_ledger_whichever_way_they_are_written(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    # a batch of up to INLINE_LEAVES new leaves is written by one statement; a larger one is COPYed first
    small = [realisation(f"small{i}", i + 1, "1", (NIP, OTHER_NIP)[i % 2]) for i in range(3)]
    large = [realisation(f"large{i}", 10 + i, "2", (NIP, OTHER_NIP)[i % 3 == 0]) for i in range(INLINE_LEAVES + 37)]
    after = [realisation(f"after{i}", 500 + i, "3", (NIP, OTHER_NIP)[i % 2]) for i in range(5)]
    await ledger(pool, *evidence(*small))
    await ledger(pool, *evidence(*large, small[0]))  # a duplicate inside a large batch is skipped
    await Ledger(pool).append([entry_of(topics.EVIDENCE, body(e)) for e in after],
                              [Position(topics.EVIDENCE, 2, 41)])
    issued = await issue_checkpoint(conn, SIGNER, NOW)
    report = await verify_ledger(conn, [SIGNER.verifier_key()])
    assert report.ok, report.problems
    assert report.tree_size == len(small) + len(large) + len(after)
    heads: dict[int, tuple[int, bytes]] = {}
    for part in (P, Q):
        rows = await conn.fetch("SELECT l.event_id, l.leaf_hash, l.pos, l.idx, d.body FROM audit.leaves l"
                                " JOIN audit.leaf_data d USING (idx) WHERE l.part = $1 ORDER BY pos", part)
        expected = [e.event_id for e in (*small, *large, *after) if partition_of(e.subject) == part]
        assert [r["event_id"] for r in rows] == expected
        assert [r["pos"] for r in rows] == list(range(len(expected)))
        idxs = [r["idx"] for r in rows]
        assert idxs == sorted(idxs) and len(set(idxs)) == len(idxs)  # the ledger's order agrees with the tree's
        assert all(bytes(r["leaf_hash"]) == hashlib.sha256(b"\x00" + bytes(r["body"])).digest() for r in rows)
        head = await queries.head(conn, part)
        assert (head.size, head.root) == (len(rows), reference_root([bytes(r["leaf_hash"]) for r in rows]))
        heads[part] = (head.size, head.root)
    assert reference_partitions_root(heads, PARTITIONS) == issued.partitions.root == report.root
    assert await conn.fetchval("SELECT count(*) FROM audit.leaves WHERE part NOT IN ($1, $2)", P, Q) == 0
    assert await conn.fetchval("SELECT next_offset FROM audit.consumer_positions"
                               " WHERE topic = $1 AND partition = 2", topics.EVIDENCE) == 41
