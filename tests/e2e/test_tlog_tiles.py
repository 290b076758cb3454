"""The ledger read by a verifier nobody here wrote (issue 19): `aics-tlog` checks the running audit service's
tiled logs (c2sp.org/tlog-tiles; one per partition under one checkpoint over every partition, ADR 0013) under
the checkpoint key, a copy of them downloaded into a directory tile by tile, and a receipt downloaded as a
c2sp.org/tlog-proof@v1 file, offline, with its second step (the partition's head under the checkpoint over every
partition); one byte flipped in a tile, an entry or a proof, and it refuses."""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from objektif.stack import Stack
from services.audit.domain.checkpoint import Checkpoint
from services.audit.domain.tiles import TILE_WIDTH, TileRef, tiles_of
from tests.e2e.test_audit import OBJEKTIF, audit, scored_world
from tests.e2e.tlog_verifier import audit_tiles, check_ledger, download_ledger, log_url, run, verifier
from tests.e2e.world import PARTITIONS_ORIGIN, World, checkpointed, log_origin, query, stack_vkey
from tests.rfc6962_reference import reference_entry

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def aics_tlog() -> Path:
    """The `aics-tlog` executable (installed on first use where the test venv cannot hold it)."""
    return verifier()


@dataclass(frozen=True)
class Ledgered:
    """An event under a checkpoint: its id, its ledger index (the key of its bytes), its partition and its
    position in that partition's log."""

    world: World
    event_id: str
    idx: int
    part: int
    index: int


@pytest.fixture(scope="module")
async def ledgered(stack: Stack) -> Ledgered:
    """An employee's realisations scored and ledgered, and a checkpoint over every partition the service signed
    over the first one."""
    world, ids = await scored_world(stack, ("91.00", "92.50"))
    await checkpointed(stack, ids[0])
    (row,) = await query(stack, "SELECT idx, part, pos FROM audit.leaves WHERE event_id = $1::uuid", ids[0])
    return Ledgered(world, ids[0], row["idx"], row["part"], row["pos"])


def base_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.http_ports['audit']}/"


async def leaf_bytes(stack: Stack, idx: int) -> bytes:
    (row,) = await query(stack, "SELECT body FROM audit.leaf_data WHERE idx = $1", idx)
    return bytes(row["body"])


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


async def test_aics_tlog_verifies_the_served_log_and_an_event_in_it_from_the_tiles(
    stack: Stack, ledgered: Ledgered, aics_tlog: Path, tmp_path: Path
) -> None:
    # every partition's log, and the checkpoint over every partition recomputed from their heads
    logs = check_ledger(aics_tlog, base_url(stack), stack_vkey(stack), tmp_path)
    assert len(logs) == 12 and logs[ledgered.part].size > ledgered.index
    # the event's partition's log, at its own prefix under its own origin
    url = log_url(base_url(stack), ledgered.part)
    key = ("--log-key", stack_vkey(stack), "--origin", log_origin(ledgered.part))
    code, report = run(aics_tlog, "verify-checkpoint", "--tiles", url, *key)
    assert code == 0, report
    assert report["tiles_ok"] and report["log_ok"] and report["size"] > ledgered.index
    leaf = tmp_path / "event.json"
    leaf.write_bytes(await leaf_bytes(stack, ledgered.idx))
    code, report = run(aics_tlog, "verify-inclusion", "--tiles", url, "--index", str(ledgered.index),
                       "--leaf", str(leaf), *key)
    assert code == 0, report
    code, report = run(aics_tlog, "verify-inclusion", "--tiles", url, "--index", str(ledgered.index + 1),
                       "--leaf", str(leaf), *key)
    assert code == 1, report  # the same event is not the next leaf
    other = (ledgered.part + 1) % 12  # nor is it in another partition's log, under that one's origin
    code, report = run(aics_tlog, "verify-inclusion", "--tiles", log_url(base_url(stack), other),
                       "--index", str(ledgered.index), "--leaf", str(leaf), "--log-key", stack_vkey(stack),
                       "--origin", log_origin(other))
    assert code == 1, report


async def test_a_downloaded_copy_of_the_log_verifies_whole_and_fails_on_one_flipped_byte(
    stack: Stack, ledgered: Ledgered, aics_tlog: Path, tmp_path: Path
) -> None:
    index = ledgered.index
    token = subprocess.run([OBJEKTIF, "audit", "tiles-token", "--data-dir", str(stack.data_dir)],  # noqa: ASYNC221
                           capture_output=True, text=True, timeout=120, check=True).stdout.strip()
    copy = tmp_path / "log"
    signed = download_ledger(base_url(stack), token, stack_vkey(stack), copy)
    for part, checkpoint in signed.items():  # every tile and entry bundle of every partition
        whole = audit_tiles(aics_tlog, Path(log_url(str(copy), part)), checkpoint.size, checkpoint.root)
        assert whole.returncode == 0, (part, whole.stderr)
    logs = check_ledger(aics_tlog, str(copy), stack_vkey(stack), tmp_path)  # the copy, whole, offline
    assert {g.part: (g.size, g.root) for g in logs if g.size} == {p: (c.size, c.root) for p, c in signed.items()}

    mine, part = signed[ledgered.part], Path(log_url(str(copy), ledgered.part))
    key = ("--log-key", stack_vkey(stack), "--origin", log_origin(ledgered.part))
    # Without --leaf the verifier takes the entry from its bundle, proven against the level 0 tile.
    inclusion = ("verify-inclusion", "--tiles", str(part), "--index", str(index), *key)
    code, report = run(aics_tlog, *inclusion)
    assert code == 0, report

    tile = part / _holding(mine, index).path()
    flip(tile, (index % TILE_WIDTH) * 32 + 7)
    code, report = run(aics_tlog, *inclusion)
    assert code == 1 and "TileVerificationError" in report["error"], report
    assert audit_tiles(aics_tlog, part, mine.size, mine.root).returncode != 0
    flip(tile, (index % TILE_WIDTH) * 32 + 7)
    assert run(aics_tlog, *inclusion)[0] == 0

    bundle = part / _holding(mine, index, entries=True).path()
    flip(bundle, len(bundle.read_bytes()) - 2)  # inside the bundle's last entry
    last = min(mine.size, (index // TILE_WIDTH + 1) * TILE_WIDTH) - 1
    code, report = run(aics_tlog, "verify-inclusion", "--tiles", str(part), "--index", str(last), *key)
    assert code == 1 and "does not match its level 0 tile" in report["error"], report


def _holding(signed: Checkpoint, index: int, *, entries: bool = False) -> TileRef:
    """The level 0 tile (or entry bundle) of the checkpointed tree that holds leaf ``index``."""
    return next(r for r in tiles_of(signed.size, entries=entries) if r.index == index // TILE_WIDTH)


async def test_a_receipt_downloaded_as_a_tlog_proof_verifies_offline_and_a_changed_one_does_not(
    stack: Stack, ledgered: Ledgered, aics_tlog: Path, tmp_path: Path
) -> None:
    event_id, index, origin = ledgered.event_id, ledgered.index, log_origin(ledgered.part)
    async with httpx.AsyncClient(base_url=base_url(stack), timeout=30) as client:
        served = await client.get(f"/receipts/{event_id}.tlog-proof")
        receipt = (await client.get(f"/receipts/{event_id}")).json()
    assert served.status_code == 200, served.text
    written = tmp_path / f"{event_id}.tlog-proof"
    done = audit(stack, "proof", event_id, "--tlog-proof", str(written))
    assert done.returncode == 0, done.stderr
    leaf = tmp_path / "event.json"
    leaf.write_bytes(await leaf_bytes(stack, ledgered.idx))
    for text in (served.text, written.read_text(encoding="utf-8")):
        proof, note = _split(text, tmp_path)
        assert _check(aics_tlog, stack, leaf, index, proof, note, origin) == 0
    # Offline means from these files alone: a changed proof hash, or another event's bytes, fail.
    lines = proof.read_text().splitlines()
    if lines:
        hashed = bytearray(base64.b64decode(lines[0]))
        hashed[0] ^= 0x80
        proof.write_text("\n".join([base64.b64encode(bytes(hashed)).decode(), *lines[1:]]) + "\n")
        assert _check(aics_tlog, stack, leaf, index, proof, note, origin) == 1
        proof.write_text("\n".join(lines) + "\n")
    other = tmp_path / "other.json"
    other.write_bytes(leaf.read_bytes().replace(b"91.00", b"99.00"))
    assert other.read_bytes() != leaf.read_bytes()
    assert _check(aics_tlog, stack, other, index, proof, note, origin) == 1

    # The second step, as aics-tlog sees it: the partition's head, as its signed note states it, is entry `part`
    # of the checkpoint over every partition (the JSON receipt carries both notes and this step's proof).
    mine = tmp_path / "partition.note"
    mine.write_text(receipt["checkpoint"], encoding="utf-8")
    code, report = run(aics_tlog, "verify-checkpoint", "--note", str(mine), "--log-key", stack_vkey(stack),
                       "--origin", origin)
    assert code == 0, report
    size, root = report["size"], base64.b64decode(report["root"])
    assert (size, root.hex()) == (receipt["tree_size"], receipt["root"])
    head = tmp_path / "partition.entry"
    head.write_bytes(reference_entry(ledgered.part, size, root))
    step = receipt["partitions"]
    over_all, steps = tmp_path / "partitions.note", tmp_path / "partitions.b64"
    over_all.write_text(step["checkpoint"], encoding="utf-8")
    steps.write_text("".join(base64.b64encode(bytes.fromhex(h)).decode() + "\n" for h in step["proof"]))
    second = ("verify-inclusion", "--leaf", str(head), "--index", str(ledgered.part), "--proof", str(steps),
              "--checkpoint", str(over_all), "--log-key", stack_vkey(stack), "--origin", PARTITIONS_ORIGIN)
    code, report = run(aics_tlog, *second)
    assert code == 0 and report["checkpoint_verified"], report
    head.write_bytes(reference_entry(ledgered.part, size - 1, root))
    assert run(aics_tlog, *second)[0] == 1  # a head the checkpoint over every partition does not hold


def _split(text: str, into: Path) -> tuple[Path, Path]:
    """The proof lines and the checkpoint of a tlog-proof file, read by the spec's layout (not by our parser):
    the header, ``index N``, one base64 hash a line, a blank line, the signed checkpoint verbatim."""
    head, checkpoint = text.split("\n\n", 1)
    lines = head.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1" and lines[1].startswith("index ")
    proof, note = into / "proof.b64", into / "checkpoint.note"
    proof.write_text("".join(line + "\n" for line in lines[2:]))
    note.write_text(checkpoint, encoding="utf-8")
    return proof, note


def _check(exe: Path, stack: Stack, leaf: Path, index: int, proof: Path, note: Path, origin: str) -> int:
    code, report = run(exe, "verify-inclusion", "--leaf", str(leaf), "--index", str(index), "--proof", str(proof),
                       "--checkpoint", str(note), "--log-key", stack_vkey(stack), "--origin", origin)
    assert code == 1 or report["checkpoint_verified"], report
    return code
