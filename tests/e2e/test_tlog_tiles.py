"""The ledger read by a verifier nobody here wrote (issue 19): `aics-tlog` checks the running audit service's
tiled log (c2sp.org/tlog-tiles) under the checkpoint key, a copy of it downloaded into a directory tile by tile,
and a receipt downloaded as a c2sp.org/tlog-proof@v1 file, offline; one byte flipped in a tile, an entry or a
proof, and it refuses."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import httpx
import pytest

from objektif.stack import Stack
from services.audit.app.checkpoints import DEFAULT_ORIGIN
from services.audit.domain.checkpoint import Checkpoint, open_checkpoint
from services.audit.domain.tiles import TILE_WIDTH, TileRef, tiles_of
from tests.e2e.test_audit import OBJEKTIF, audit, scored_world, stack_vkey
from tests.e2e.tlog_verifier import audit_tiles, run, verifier
from tests.e2e.world import World, query_value, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def aics_tlog() -> Path:
    """The `aics-tlog` executable (installed on first use where the test venv cannot hold it)."""
    return verifier()


@pytest.fixture(scope="module")
async def ledgered(stack: Stack) -> tuple[World, str, int]:
    """An employee's realisations scored and ledgered, and a checkpoint the service signed over the first one:
    the world, that event's id and its leaf index."""
    world, ids = await scored_world(stack, ("91.00", "92.50"))
    index = await query_value(stack, "SELECT idx FROM audit.leaves WHERE event_id = $1::uuid", ids[0])
    await wait_for(lambda: query_value(stack, "SELECT max(size) FROM audit.checkpoints"),
                   lambda size: size is not None and size > index, timeout=30)
    return world, ids[0], index


def base_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.http_ports['audit']}/"


async def leaf_bytes(stack: Stack, index: int) -> bytes:
    return bytes(await query_value(stack, "SELECT body FROM audit.leaf_data WHERE idx = $1", index))


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


async def test_aics_tlog_verifies_the_served_log_and_an_event_in_it_from_the_tiles(
    stack: Stack, ledgered: tuple[World, str, int], aics_tlog: Path, tmp_path: Path
) -> None:
    _world, _event, index = ledgered
    key = ("--log-key", stack_vkey(stack), "--origin", DEFAULT_ORIGIN)
    code, report = run(aics_tlog, "verify-checkpoint", "--tiles", base_url(stack), *key)
    assert code == 0, report
    assert report["tiles_ok"] and report["log_ok"] and report["size"] > index
    leaf = tmp_path / "event.json"
    leaf.write_bytes(await leaf_bytes(stack, index))
    code, report = run(aics_tlog, "verify-inclusion", "--tiles", base_url(stack), "--index", str(index),
                       "--leaf", str(leaf), *key)
    assert code == 0, report
    code, report = run(aics_tlog, "verify-inclusion", "--tiles", base_url(stack), "--index", str(index + 1),
                       "--leaf", str(leaf), *key)
    assert code == 1, report  # the same event is not the next leaf


async def test_a_downloaded_copy_of_the_log_verifies_whole_and_fails_on_one_flipped_byte(
    stack: Stack, ledgered: tuple[World, str, int], aics_tlog: Path, tmp_path: Path
) -> None:
    _world, _event, index = ledgered
    token = subprocess.run([OBJEKTIF, "audit", "tiles-token", "--data-dir", str(stack.data_dir)],  # noqa: ASYNC221
                           capture_output=True, text=True, timeout=120, check=True).stdout.strip()
    copy = tmp_path / "log"
    async with httpx.AsyncClient(base_url=base_url(stack), timeout=30) as client:
        note = (await client.get("/checkpoint")).text
        signed = open_checkpoint(note, stack_vkey(stack), origin=DEFAULT_ORIGIN)
        assert (await client.get("/tile/entries/000")).status_code == 401  # events are personal data
        refs = [*tiles_of(signed.size), *tiles_of(signed.size, entries=True)]
        for ref in refs:
            got = await client.get("/" + ref.path(), headers={"Authorization": f"Bearer {token}"})
            assert got.status_code == 200, (ref.path(), got.text)
            (copy / ref.path()).parent.mkdir(parents=True, exist_ok=True)
            (copy / ref.path()).write_bytes(got.content)
    (copy / "checkpoint").write_text(note, encoding="utf-8")
    whole = audit_tiles(aics_tlog, copy, signed.size, signed.root)
    assert whole.returncode == 0, whole.stderr
    key = ("--log-key", stack_vkey(stack), "--origin", DEFAULT_ORIGIN)
    # Without --leaf the verifier takes the entry from its bundle, proven against the level 0 tile.
    inclusion = ("verify-inclusion", "--tiles", str(copy), "--index", str(index), *key)
    code, report = run(aics_tlog, *inclusion)
    assert code == 0, report
    assert run(aics_tlog, "verify-checkpoint", "--tiles", str(copy), *key)[0] == 0

    tile = copy / _holding(signed, index).path()
    flip(tile, (index % TILE_WIDTH) * 32 + 7)
    code, report = run(aics_tlog, *inclusion)
    assert code == 1 and "TileVerificationError" in report["error"], report
    assert audit_tiles(aics_tlog, copy, signed.size, signed.root).returncode != 0
    flip(tile, (index % TILE_WIDTH) * 32 + 7)
    assert run(aics_tlog, *inclusion)[0] == 0

    bundle = copy / _holding(signed, index, entries=True).path()
    flip(bundle, len(bundle.read_bytes()) - 2)  # inside the bundle's last entry
    last = min(signed.size, (index // TILE_WIDTH + 1) * TILE_WIDTH) - 1
    code, report = run(aics_tlog, "verify-inclusion", "--tiles", str(copy), "--index", str(last), *key)
    assert code == 1 and "does not match its level 0 tile" in report["error"], report


def _holding(signed: Checkpoint, index: int, *, entries: bool = False) -> TileRef:
    """The level 0 tile (or entry bundle) of the checkpointed tree that holds leaf ``index``."""
    return next(r for r in tiles_of(signed.size, entries=entries) if r.index == index // TILE_WIDTH)


async def test_a_receipt_downloaded_as_a_tlog_proof_verifies_offline_and_a_changed_one_does_not(
    stack: Stack, ledgered: tuple[World, str, int], aics_tlog: Path, tmp_path: Path
) -> None:
    _world, event_id, index = ledgered
    async with httpx.AsyncClient(base_url=base_url(stack), timeout=30) as client:
        served = await client.get(f"/receipts/{event_id}.tlog-proof")
    assert served.status_code == 200, served.text
    written = tmp_path / f"{event_id}.tlog-proof"
    done = audit(stack, "proof", event_id, "--tlog-proof", str(written))
    assert done.returncode == 0, done.stderr
    leaf = tmp_path / "event.json"
    leaf.write_bytes(await leaf_bytes(stack, index))
    for text in (served.text, written.read_text(encoding="utf-8")):
        proof, note = _split(text, tmp_path)
        assert _check(aics_tlog, stack, leaf, index, proof, note) == 0
    # Offline means from these files alone: a changed proof hash, or another event's bytes, fail.
    lines = proof.read_text().splitlines()
    if lines:
        hashed = bytearray(base64.b64decode(lines[0]))
        hashed[0] ^= 0x80
        proof.write_text("\n".join([base64.b64encode(bytes(hashed)).decode(), *lines[1:]]) + "\n")
        assert _check(aics_tlog, stack, leaf, index, proof, note) == 1
        proof.write_text("\n".join(lines) + "\n")
    other = tmp_path / "other.json"
    other.write_bytes(leaf.read_bytes().replace(b"91.00", b"99.00"))
    assert other.read_bytes() != leaf.read_bytes()
    assert _check(aics_tlog, stack, other, index, proof, note) == 1


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


def _check(exe: Path, stack: Stack, leaf: Path, index: int, proof: Path, note: Path) -> int:
    code, report = run(exe, "verify-inclusion", "--leaf", str(leaf), "--index", str(index), "--proof", str(proof),
                       "--checkpoint", str(note), "--log-key", stack_vkey(stack), "--origin", DEFAULT_ORIGIN)
    assert code == 1 or report["checkpoint_verified"], report
    return code
