"""The tiled log over HTTP, on a real ledger in PostgreSQL: the checkpoint as signed, hash tiles that are the
stored nodes (full ones cached for good, partial ones briefly), entry bundles only for the auditors' token and
withheld once a leaf's bytes are erased, and receipts as tlog-proof files that verify against the note alone."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from audit_app_data import NOW, OTHER_SIGNER, SIGNER, ledger, tamper
from starlette.applications import Starlette

from contracts import topics
from services.audit.adapters import queries
from services.audit.adapters.tiles_web import tile_routes
from services.audit.adapters.web import receipt_routes
from services.audit.app.checkpoints import issue_checkpoint
from services.audit.app.tiles import entries_token
from services.audit.domain.checkpoint import open_checkpoint
from services.audit.domain.merkle import leaf_hash, verify_inclusion
from services.audit.domain.tlog_proof import parse_tlog_proof

TOKEN = entries_token(SIGNER)
SIZE = 300
BODIES = [f"record {i}".encode() for i in range(SIZE)]


def mth(hashes: list[bytes]) -> bytes:
    """RFC 6962 Merkle Tree Hash, recursively (nothing of ours)."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(hashes[:k]) + mth(hashes[k:])).digest()


@pytest.fixture
async def client(pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    """The audit service's receipt and tile routes over the test's ledger, in this event loop."""
    app = Starlette(routes=[*receipt_routes(lambda: pool), *tile_routes(lambda: pool, TOKEN)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://audit") as c:
        yield c


async def checkpointed(pool: asyncpg.Pool, conn: asyncpg.Connection) -> str:
    await ledger(pool, *((topics.EVIDENCE, b) for b in BODIES))
    return (await issue_checkpoint(conn, SIGNER, NOW)).checkpoint.note


async def test_the_checkpoint_is_the_latest_signed_note_and_is_cached_only_briefly(
    pool: asyncpg.Pool, conn: asyncpg.Connection, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/checkpoint")).status_code == 404
    note = await checkpointed(pool, conn)
    got = await client.get("/checkpoint")
    assert got.status_code == 200
    assert got.text == note
    assert got.headers["content-type"] == "text/plain; charset=utf-8"
    assert got.headers["cache-control"] == "public, max-age=5"
    assert open_checkpoint(got.text, SIGNER.verifier_key(), origin=SIGNER.name).size == SIZE


async def test_hash_tiles_are_the_leaf_hashes_and_the_hashes_of_full_tiles_below(
    pool: asyncpg.Pool, conn: asyncpg.Connection, client: httpx.AsyncClient
) -> None:
    await checkpointed(pool, conn)
    leaves = [leaf_hash(b) for b in BODIES]
    full = await client.get("/tile/0/000")
    assert full.content == b"".join(leaves[:256])
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert full.headers["content-type"] == "application/octet-stream"
    partial = await client.get("/tile/0/001.p/44")
    assert partial.content == b"".join(leaves[256:])
    assert partial.headers["cache-control"] == "public, max-age=60"
    assert (await client.get("/tile/0/001.p/3")).content == b"".join(leaves[256:259])
    assert (await client.get("/tile/1/000.p/1")).content == mth(leaves[:256])
    for missing in ("/tile/0/001", "/tile/0/001.p/45", "/tile/0/002.p/1", "/tile/1/000", "/tile/0/1", "/tile/x"):
        assert (await client.get(missing)).status_code == 404, missing


async def test_entry_bundles_open_to_the_auditors_token_only(
    pool: asyncpg.Pool, conn: asyncpg.Connection, client: httpx.AsyncClient
) -> None:
    await checkpointed(pool, conn)
    for headers in ({}, {"Authorization": "Bearer " + entries_token(OTHER_SIGNER)}, {"Authorization": TOKEN}):
        refused = await client.get("/tile/entries/000", headers=headers)
        assert refused.status_code == 401
        assert "Bearer" in refused.headers["www-authenticate"]
    got = await client.get("/tile/entries/001.p/44", headers={"Authorization": f"Bearer {TOKEN}"})
    assert got.status_code == 200
    assert got.headers["content-encoding"] == "gzip"  # httpx asked for it and decoded it
    assert got.headers["cache-control"].startswith("private")
    assert got.content == b"".join(len(b).to_bytes(2, "big") + b for b in BODIES[256:])
    closed = Starlette(routes=tile_routes(lambda: pool, None))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=closed), base_url="http://audit") as c:
        assert (await c.get("/tile/entries/000", headers={"Authorization": f"Bearer {TOKEN}"})).status_code == 401
        assert (await c.get("/tile/0/000")).status_code == 200


async def test_a_bundle_holding_an_erased_leaf_is_withheld_while_its_tile_still_proves_it(
    pool: asyncpg.Pool, conn: asyncpg.Connection, client: httpx.AsyncClient
) -> None:
    await checkpointed(pool, conn)
    await tamper(conn, "leaf_data", "DELETE FROM audit.leaf_data WHERE idx = $1", 7)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    withheld = await client.get("/tile/entries/000", headers=auth)
    assert withheld.status_code == 410
    assert "[7]" in withheld.text
    assert (await client.get("/tile/entries/001.p/44", headers=auth)).status_code == 200
    assert (await client.get("/tile/0/000")).content[7 * 32 : 8 * 32] == leaf_hash(BODIES[7])


async def test_a_receipt_downloads_as_a_tlog_proof_that_verifies_against_its_note(
    pool: asyncpg.Pool, conn: asyncpg.Connection, client: httpx.AsyncClient
) -> None:
    note = await checkpointed(pool, conn)
    leaf = (await queries.leaves(conn, 261, 262))[0]
    got = await client.get(f"/receipts/{leaf.event_id}.tlog-proof")
    assert got.status_code == 200
    assert got.headers["content-disposition"] == f'attachment; filename="{leaf.event_id}.tlog-proof"'
    proof = parse_tlog_proof(got.text)
    assert (proof.index, proof.checkpoint) == (261, note)
    signed = open_checkpoint(proof.checkpoint, SIGNER.verifier_key())
    verify_inclusion(261, signed.size, leaf_hash(BODIES[261]), list(proof.proof), signed.root)
    assert (await client.get(f"/receipts/{leaf.event_id}")).json()["leaf_index"] == 261
    assert (await client.get("/receipts/not-an-id.tlog-proof")).status_code == 400


def test_the_entries_token_is_the_checkpoint_keys_own_and_reveals_nothing_else() -> None:
    assert entries_token(SIGNER) == TOKEN != entries_token(OTHER_SIGNER)
    assert len(TOKEN) == 43  # 32 bytes, unpadded base64url
