"""The tiled log over HTTP, on a real ledger in PostgreSQL: the checkpoint as signed, hash tiles that are the
stored nodes (full ones cached for good, partial ones briefly), entry bundles only for the auditors' token and
withheld once a leaf's bytes are erased, and receipts as tlog-proof files that verify against the note alone.
Each partition's tree is a log of its own (ADR 0013): partition 0 at the root, partition k under /p<k>, and the
checkpoint over every partition at /partitions/checkpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from audit_app_data import NOW, ORIGIN, OTHER_SIGNER, PERIOD, SIGNER, T0, body, event_id, ledger, tamper
from starlette.applications import Starlette

from chassis.partitions import PARTITIONS, partition_of
from contracts import topics
from contracts.envelope import Envelope
from services.audit.adapters import checkpoint_rows, queries
from services.audit.adapters.tiles_web import tile_routes
from services.audit.adapters.web import receipt_routes
from services.audit.app.checkpoints import issue_checkpoint
from services.audit.app.tiles import entries_token
from services.audit.domain.checkpoint import open_checkpoint
from services.audit.domain.merkle import leaf_hash, verify_inclusion
from services.audit.domain.partitions import partition_origin, partitions_origin
from services.audit.domain.tlog_proof import parse_tlog_proof
from tests.rfc6962_reference import reference_entry, reference_root

TOKEN = entries_token(SIGNER)
SIZE = 300
#: Partition 0's leaves: events about an employee whose NIP falls in partition 0 (served at the root).
NIP_0 = "198001012005011006"
#: Partition 7's: records no envelope reads (subject "unknown"), ledgered as `invalid` (served under /p7).
OTHER = 7


def _event(i: int) -> Envelope:
    return Envelope(event_id=event_id(f"tile-{i}"), type="realisation.recorded", occurred_at=T0, recorded_at=T0,
                    source="system.test", subject=NIP_0, period=PERIOD, payload={"iki_id": "aps", "value": str(i)})


BODIES = {0: [body(_event(i)) for i in range(SIZE)], OTHER: [f"record {i}".encode() for i in range(SIZE)]}
PREFIX = {0: "", OTHER: f"/p{OTHER}"}
BOTH = pytest.mark.parametrize("part", [0, OTHER])


def test_the_two_logs_lie_in_the_partitions_named() -> None:
    assert partition_of(NIP_0) == 0 and partition_of("unknown") == OTHER


@pytest.fixture
async def client(pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    """The audit service's receipt and tile routes over the test's ledger, in this event loop."""
    app = Starlette(routes=[*receipt_routes(lambda: pool), *tile_routes(lambda: pool, TOKEN)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://audit") as c:
        yield c


async def checkpointed(pool: asyncpg.Pool, conn: asyncpg.Connection) -> dict[int, str]:
    """Both partitions' leaves, interleaved in batches, then a checkpoint; each partition's note by partition."""
    for i in range(0, SIZE, 100):
        await ledger(pool, *((topics.EVIDENCE, b) for part in (0, OTHER) for b in BODIES[part][i:i + 100]))
    signed = (await issue_checkpoint(conn, SIGNER, NOW)).signed
    assert sorted(c.part for c in signed) == [0, OTHER]
    return {c.part: c.note for c in signed}


@BOTH
async def test_the_checkpoint_is_the_latest_signed_note_and_is_cached_only_briefly(
    pool: asyncpg.Pool, conn: asyncpg.Connection, client: httpx.AsyncClient, part: int
) -> None:
    assert (await client.get(f"{PREFIX[part]}/checkpoint")).status_code == 404
    assert (await client.get("/partitions/checkpoint")).status_code == 404
    notes = await checkpointed(pool, conn)
    got = await client.get(f"{PREFIX[part]}/checkpoint")
    assert got.status_code == 200
    assert got.text == notes[part]
    assert got.headers["content-type"] == "text/plain; charset=utf-8"
    assert got.headers["cache-control"] == "public, max-age=5"
    signed = open_checkpoint(got.text, SIGNER.verifier_key(), origin=partition_origin(ORIGIN, part))
    assert (signed.size, signed.root) == (SIZE, reference_root([leaf_hash(b) for b in BODIES[part]]))
    assert signed.origin == (ORIGIN if part == 0 else f"{ORIGIN}/p{OTHER}")


async def test_the_checkpoint_over_every_partition_signs_each_partitions_size_and_root(
    pool: asyncpg.Pool, conn: asyncpg.Connection, client: httpx.AsyncClient
) -> None:
    await checkpointed(pool, conn)
    got = await client.get("/partitions/checkpoint")
    assert got.status_code == 200
    assert got.headers["cache-control"] == "public, max-age=5"
    latest = await checkpoint_rows.latest_partitions(conn)
    assert latest is not None and got.text == latest.note
    over_all = open_checkpoint(got.text, SIGNER.verifier_key(), origin=partitions_origin(ORIGIN))
    # Its leaves, from the partitions' own notes as served (an empty partition has none: size 0, the empty root).
    entries = []
    for part in range(PARTITIONS):
        note = await client.get(f"/p{part}/checkpoint" if part else "/checkpoint")
        if part in (0, OTHER):
            signed = open_checkpoint(note.text, SIGNER.verifier_key(), origin=partition_origin(ORIGIN, part))
            size, root = signed.size, signed.root
        else:
            assert note.status_code == 404, part
            size, root = 0, reference_root([])
        entries.append(leaf_hash(reference_entry(part, size, root)))
    assert (over_all.size, over_all.root) == (PARTITIONS, reference_root(entries))
    for missing in ("/p0/checkpoint", f"/p{PARTITIONS}/checkpoint", "/p1/tile/0/000", "/px/checkpoint"):
        assert (await client.get(missing)).status_code == 404, missing


@BOTH
async def test_hash_tiles_are_the_leaf_hashes_and_the_hashes_of_full_tiles_below(
    pool: asyncpg.Pool, conn: asyncpg.Connection, client: httpx.AsyncClient, part: int
) -> None:
    await checkpointed(pool, conn)
    at = PREFIX[part]
    leaves = [leaf_hash(b) for b in BODIES[part]]
    full = await client.get(f"{at}/tile/0/000")
    assert full.content == b"".join(leaves[:256])
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert full.headers["content-type"] == "application/octet-stream"
    partial = await client.get(f"{at}/tile/0/001.p/44")
    assert partial.content == b"".join(leaves[256:])
    assert partial.headers["cache-control"] == "public, max-age=60"
    assert (await client.get(f"{at}/tile/0/001.p/3")).content == b"".join(leaves[256:259])
    assert (await client.get(f"{at}/tile/1/000.p/1")).content == reference_root(leaves[:256])
    for missing in ("/tile/0/001", "/tile/0/001.p/45", "/tile/0/002.p/1", "/tile/1/000", "/tile/0/1", "/tile/x"):
        assert (await client.get(at + missing)).status_code == 404, at + missing


@BOTH
async def test_entry_bundles_open_to_the_auditors_token_only(
    pool: asyncpg.Pool, conn: asyncpg.Connection, client: httpx.AsyncClient, part: int
) -> None:
    await checkpointed(pool, conn)
    at = PREFIX[part]
    for headers in ({}, {"Authorization": "Bearer " + entries_token(OTHER_SIGNER)}, {"Authorization": TOKEN}):
        refused = await client.get(f"{at}/tile/entries/000", headers=headers)
        assert refused.status_code == 401
        assert "Bearer" in refused.headers["www-authenticate"]
    got = await client.get(f"{at}/tile/entries/001.p/44", headers={"Authorization": f"Bearer {TOKEN}"})
    assert got.status_code == 200
    assert got.headers["content-encoding"] == "gzip"  # httpx asked for it and decoded it
    assert got.headers["cache-control"].startswith("private")
    assert got.content == b"".join(len(b).to_bytes(2, "big") + b for b in BODIES[part][256:])
    closed = Starlette(routes=tile_routes(lambda: pool, None))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=closed), base_url="http://audit") as c:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert (await c.get(f"{at}/tile/entries/000", headers=auth)).status_code == 401
        assert (await c.get(f"{at}/tile/0/000")).status_code == 200


async def test_a_bundle_holding_an_erased_leaf_is_withheld_while_its_tile_still_proves_it(
    pool: asyncpg.Pool, conn: asyncpg.Connection, client: httpx.AsyncClient
) -> None:
    await checkpointed(pool, conn)
    erased = (await queries.leaves(conn, OTHER, 7, 8))[0]  # leaf 7 of partition 7's tree
    assert erased.body == BODIES[OTHER][7]
    await tamper(conn, "leaf_data", "DELETE FROM audit.leaf_data WHERE idx = $1", erased.idx)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    withheld = await client.get(f"/p{OTHER}/tile/entries/000", headers=auth)
    assert withheld.status_code == 410
    assert "[7]" in withheld.text
    assert (await client.get(f"/p{OTHER}/tile/entries/001.p/44", headers=auth)).status_code == 200
    assert (await client.get("/tile/entries/000", headers=auth)).status_code == 200  # partition 0's leaf 7 is held
    assert (await client.get(f"/p{OTHER}/tile/0/000")).content[7 * 32 : 8 * 32] == leaf_hash(BODIES[OTHER][7])


@BOTH
async def test_a_receipt_downloads_as_a_tlog_proof_that_verifies_against_its_note(
    pool: asyncpg.Pool, conn: asyncpg.Connection, client: httpx.AsyncClient, part: int
) -> None:
    notes = await checkpointed(pool, conn)
    leaf = (await queries.leaves(conn, part, 261, 262))[0]
    assert leaf.body == BODIES[part][261]
    got = await client.get(f"/receipts/{leaf.event_id}.tlog-proof")
    assert got.status_code == 200
    assert got.headers["content-disposition"] == f'attachment; filename="{leaf.event_id}.tlog-proof"'
    proof = parse_tlog_proof(got.text)
    served = (await client.get(f"{PREFIX[part]}/checkpoint")).text
    assert (proof.index, proof.checkpoint) == (261, notes[part]) == (261, served)
    signed = open_checkpoint(proof.checkpoint, SIGNER.verifier_key(), origin=partition_origin(ORIGIN, part))
    verify_inclusion(261, signed.size, leaf_hash(BODIES[part][261]), list(proof.proof), signed.root)
    receipt = (await client.get(f"/receipts/{leaf.event_id}")).json()
    assert (receipt["partition"], receipt["leaf_index"], receipt["tree_size"]) == (part, 261, SIZE)
    # The second step: the partition's head as entry `part` of the tree the note over every partition signs.
    step = receipt["partitions"]
    over_all = open_checkpoint((await client.get("/partitions/checkpoint")).text, SIGNER.verifier_key(),
                               origin=partitions_origin(ORIGIN))
    assert (step["index"], step["size"], step["root"]) == (part, over_all.size, over_all.root.hex())
    verify_inclusion(part, over_all.size, leaf_hash(reference_entry(part, signed.size, signed.root)),
                     [bytes.fromhex(h) for h in step["proof"]], over_all.root)
    assert (await client.get("/receipts/not-an-id.tlog-proof")).status_code == 400


def test_the_entries_token_is_the_checkpoint_keys_own_and_reveals_nothing_else() -> None:
    assert entries_token(SIGNER) == TOKEN != entries_token(OTHER_SIGNER)
    assert len(TOKEN) == 43  # 32 bytes, unpadded base64url
