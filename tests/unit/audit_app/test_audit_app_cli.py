"""`objektif audit …` against a database given by --database-url: each command prints what the auditor needs,
and `verify` exits non-zero naming the first bad leaf. The scoring core is replaced by the test's stand-in
here; the end-to-end test replays with the real one."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import orjson
import pytest
from audit_app_data import NIP, PERIOD, SIGNER, CountingScorer, evidence, ledger, realisation, score, tamper
from typer.testing import CliRunner

from chassis.db import create_pool
from chassis.partitions import PARTITIONS, partition_of
from contracts import topics
from objektif.cli import app
from objektif.commands import audit as audit_command
from services.audit.adapters import queries
from services.audit.app.replay import content_hash
from services.audit.domain.checkpoint import open_checkpoint
from services.audit.domain.merkle import (
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from services.audit.domain.partitions import partition_origin, partitions_origin, partitions_root, verify_partition

SEED_B64 = base64.b64encode(hashlib.sha256(b"audit app test key, not a secret").digest()).decode()
E1, E2 = realisation("cli-e1", 1, "4"), realisation("cli-e2", 2, "5")
#: The partition the employee's leaves go to (ADR 0013): all four leaves of the fixture's ledger.
PART = partition_of(NIP)


@pytest.fixture
async def dsn(pool: asyncpg.Pool, audit_schema: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A small ledger (two realisations, two results), the test key as the checkpoint key, the stand-in
    scorer."""
    await ledger(
        pool, *evidence(E1), (topics.SCORES, score([E1])), *evidence(E2), (topics.SCORES, score([E1, E2]))
    )
    monkeypatch.setenv("OBJEKTIF_AUDIT_CHECKPOINT_KEY", SEED_B64)
    monkeypatch.setenv("OBJEKTIF_AUDIT_CHECKPOINT_ORIGIN", SIGNER.name)
    monkeypatch.setattr(audit_command, "CoreScorer", CountingScorer)
    return audit_schema


def run(dsn: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", *args, "--database-url", dsn], catch_exceptions=False)
    return result.exit_code, result.stdout


def on(dsn: str, action: Callable[[asyncpg.Pool], Awaitable[object]]) -> None:
    """Run ``action`` on a pool of its own (the CLI runs its own event loop, so the fixtures' pool cannot
    serve)."""

    async def main() -> None:
        pool = await create_pool(dsn)
        try:
            await action(pool)
        finally:
            await pool.close()

    asyncio.run(main())


def idx_of(dsn: str, event: uuid.UUID) -> int:
    """The ledger index (`idx`, the ordering key `--until` takes) of the leaf holding ``event``."""
    found: list[int] = []

    async def look(pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn:
            leaf = await queries.leaf_by_event(conn, event)
        assert leaf is not None
        found.append(leaf.idx)

    on(dsn, look)
    return found[0]


async def change_body(pool: asyncpg.Pool) -> None:
    """Rewrite E2's bytes (leaf 2 of partition PART) behind the triggers."""
    async with pool.acquire() as conn:
        await tamper(conn, "leaf_data", "UPDATE audit.leaf_data SET body = $1 WHERE idx = "
                     "(SELECT idx FROM audit.leaves WHERE event_id = $2)", b"{}", E2.event_id)


def test_checkpoint_proof_and_consistency_print_what_a_third_party_checks(dsn: str) -> None:
    code, out = run(dsn, "checkpoint", "--json")
    assert code == 0
    first = orjson.loads(out)
    over_all = open_checkpoint(first["note"], first["vkey"], origin=partitions_origin(SIGNER.name))
    assert (over_all.size, over_all.root.hex(), first["size"], first["fresh"]) == (PARTITIONS, first["root"], 4, True)
    sizes = [p["size"] for p in first["partitions"]]
    roots = [bytes.fromhex(p["root"]) for p in first["partitions"]]
    assert sizes == [4 if p == PART else 0 for p in range(PARTITIONS)]
    assert partitions_root(sizes, roots) == over_all.root
    [own] = first["signed"]  # only the partition that grew is signed on its own
    signed = open_checkpoint(own["note"], first["vkey"], origin=partition_origin(SIGNER.name, PART))
    assert (own["part"], signed.size, signed.root) == (PART, 4, roots[PART])

    code, out = run(dsn, "proof", str(E2.event_id), "--json")
    assert code == 0
    receipt = orjson.loads(out)
    assert (receipt["partition"], receipt["leaf_index"], receipt["tree_size"]) == (PART, 2, 4)
    assert open_checkpoint(receipt["checkpoint"], first["vkey"]) == signed
    body = orjson.dumps(E2.model_dump(mode="json", exclude_none=True), option=orjson.OPT_SORT_KEYS)
    verify_inclusion(2, 4, leaf_hash(body), [bytes.fromhex(h) for h in receipt["proof"]], signed.root)
    step = receipt["partitions"]  # the second step: the partition's head under the checkpoint over every one
    assert (step["index"], step["size"]) == (PART, PARTITIONS)
    assert open_checkpoint(step["checkpoint"], first["vkey"]) == over_all
    verify_partition(PART, 4, signed.root, PARTITIONS, [bytes.fromhex(h) for h in step["proof"]], over_all.root)

    code, out = run(dsn, "consistency", "1", "4", "--partition", str(PART), "--json")
    proof = orjson.loads(out)
    assert code == 0
    verify_consistency(
        1, 4, bytes.fromhex(proof["root1"]), signed.root, [bytes.fromhex(h) for h in proof["proof"]]
    )
    assert run(dsn, "consistency", "1", "4", "--json")[0] == 1  # partition 0 holds none of these leaves


def test_the_exported_bytes_give_the_checkpoint_root(dsn: str, tmp_path: Path) -> None:
    """Each partition's lines, in order, give its root; those roots give the root of the checkpoint over every
    partition (ADR 0013)."""
    out_file = tmp_path / "ledger.jsonl"
    assert run(dsn, "export", "--out", str(out_file))[0] == 0
    lines = [orjson.loads(line) for line in out_file.read_bytes().splitlines()]
    checkpoint = orjson.loads(run(dsn, "checkpoint", "--json")[1])
    by_part: dict[int, list[bytes]] = {p: [] for p in range(PARTITIONS)}
    for line in lines:
        assert line["position"] == len(by_part[line["partition"]])  # partition by partition, in tree order
        by_part[line["partition"]].append(leaf_hash(base64.b64decode(line["body"])))
    sizes = [len(by_part[p]) for p in range(PARTITIONS)]
    roots = [root_from_leaf_hashes(by_part[p]) for p in range(PARTITIONS)]
    assert sizes == [p["size"] for p in checkpoint["partitions"]]
    assert [r.hex() for r in roots] == [p["root"] for p in checkpoint["partitions"]]
    assert partitions_root(sizes, roots).hex() == checkpoint["root"]


def test_verify_passes_then_names_the_leaf_changed_behind_the_trigger(dsn: str) -> None:
    assert run(dsn, "checkpoint")[0] == 0
    code, out = run(dsn, "verify", "--vkey", SIGNER.verifier_key())
    assert code == 0, out
    on(dsn, change_body)
    code, out = run(dsn, "verify", "--vkey", SIGNER.verifier_key())
    assert code == 1
    assert f"partition {PART}, index 2, event {E2.event_id}" in out
    code, out = run(dsn, "verify", "--json")
    assert code == 1
    first = orjson.loads(out)["first_bad_leaf"]
    assert (first["partition"], first["leaf_index"], first["event_id"]) == (PART, 2, str(E2.event_id))


def test_replay_reports_a_match_and_exits_non_zero_on_a_mismatch(dsn: str, pool: asyncpg.Pool) -> None:
    first_score = idx_of(dsn, score([E1]).event_id)  # `--until` is a ledger index (idx), not a tree position
    code, out = run(dsn, "replay", "--nip", NIP, "--period", PERIOD, "--until", str(first_score), "--json")
    assert code == 0
    [outcome] = orjson.loads(out)["outcomes"]
    assert (outcome["events"], outcome["score_index"], outcome["match"]) == (1, first_score, True)
    code, out = run(dsn, "replay", "--all")
    assert code == 0
    assert "2 published results replayed; 0 differ" in out
    forged = score([E1, E2], {**CountingScorer().appraise([E1, E2]), "total": "99"})
    forged = forged.model_copy(update={"event_id": realisation("forged", 9, "0").event_id})
    on(dsn, lambda pool: ledger(pool, (topics.SCORES, forged)))
    code, out = run(dsn, "replay", "--nip", NIP, "--period", PERIOD)
    assert code == 1
    assert 'total: published "99" → replayed "9"' in out


def test_rebuild_prints_the_content_hash_and_the_dossier_is_one_offline_page(
    dsn: str, tmp_path: Path
) -> None:
    last = idx_of(dsn, score([E1, E2]).event_id)
    code, out = run(dsn, "rebuild", "--until", str(last), "--json")
    assert code == 0
    rebuilt = orjson.loads(out)
    assert (rebuilt["until"], rebuilt["evidence_events"], rebuilt["appraisals"]) == (last, 2, 1)
    assert rebuilt["content_hash"] == content_hash([CountingScorer().appraise([E1, E2])])
    assert rebuilt["matches_published"]
    code, out = run(dsn, "rebuild", "--until", str(last))
    assert code == 0
    assert rebuilt["content_hash"] in out
    page = tmp_path / "dossier.html"
    assert run(dsn, "dossier", "--nip", NIP, "--period", PERIOD, "--out", str(page))[0] == 0
    html = page.read_text(encoding="utf-8")
    assert str(E2.event_id) in html
    assert "dapodik.example/cli-e2" in html
    assert f"<td>p{PART}/2</td>" in html  # E2's leaf, named by partition and position
    assert "Berkas Keberatan" in html
    assert "src=" not in html
    assert "href=" not in html


def test_without_data_or_a_reachable_database_the_commands_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OBJEKTIF_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["audit", "verify", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "objektif demo" in result.stderr
    result = CliRunner().invoke(app, ["audit", "verify", "--database-url", "postgresql://nobody@127.0.0.1:1/x"])
    assert result.exit_code == 2
    assert "cannot use the database" in result.stderr
