"""`objektif demo` as a user runs it: to the end with the printed table, and killed midway without leftovers; then
its log checked as an auditor would (issue 19): `objektif audit serve` serves what the demo left behind as C2SP
tiled logs (one per partition under one checkpoint over every partition, ADR 0013), and the independent verifier
`aics-tlog` checks the served tiles and the checkpoint over every partition, a demo result's inclusion, a receipt
downloaded as a c2sp.org/tlog-proof@v1 file (offline), and a copy of the whole ledger, refusing it with one byte
flipped; and its quarter exported with `objektif export siasn` as schema-valid SIASN records (docs/siasn.md). One
demo run serves every test of the module."""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jsonschema
import orjson
import pytest

from contracts import siasn as siasn_contract
from contracts.generate import SCHEMA_DIR
from objektif import candisari
from objektif.stack import ENV_DATABASE, Stack, free_port, wait_for_port, with_database
from services.audit.app.checkpoints import DEFAULT_ORIGIN
from services.audit.domain.checkpoint import Checkpoint, NoteSigner
from services.audit.domain.tiles import TILE_WIDTH, tiles_of
from tests.e2e.test_tlog_tiles import _holding, _split, flip
from tests.e2e.tlog_verifier import audit_tiles, check_ledger, download_ledger, ledger_root, log_url, run, verifier
from tests.e2e.world import check_receipt, leftover_processes, log_origin

pytestmark = pytest.mark.e2e

CLI = [sys.executable, "-m", "objektif.cli"]
DEMO = [*CLI, "demo"]


@dataclass(frozen=True)
class DemoRun:
    """A finished `objektif demo`: where it left its data, the database it used, and what it printed."""

    data_dir: Path
    database: str
    done: subprocess.CompletedProcess[str]

    def database_args(self) -> list[str]:
        """How `objektif audit …` finds the demo's database: on the environment's server by DSN; else the
        embedded PostgreSQL in the data directory (the commands start it), whose database is the default one."""
        server = os.environ.get(ENV_DATABASE)
        return ["--database-url", with_database(server, database=self.database)] if server else []


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoRun]:
    """`objektif demo` run once for the module, in a data directory of its own (outside pytest's 0700 root: the
    embedded PostgreSQL runs as its own user and must reach it)."""
    data_dir = Path(tempfile.mkdtemp(prefix="objektif-demo-"))
    data_dir.chmod(0o755)
    # the embedded PostgreSQL belongs to this data directory alone, so its database can keep the default name
    database = "objektif_demo_test" if os.environ.get(ENV_DATABASE) else "objektif"
    try:
        done = subprocess.run([*DEMO, "--data-dir", str(data_dir), "--database", database],
                              capture_output=True, text=True, timeout=420)
        yield DemoRun(data_dir, database, done)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def test_the_demo_runs_the_whole_pipeline_and_prints_results(demo: DemoRun) -> None:
    done = demo.done
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "ditolak 0" in out  # every demo submission is authentic, authorised and valid
    assert "Penilaian kinerja ASN" in out and "Kurva distribusi per unit" in out
    assert "Read model = pure replay of the evidence: ya" in out
    assert "Keberatan (§2.4) — keputusan Atasan" in out and "Kurang/Misconduct" in out  # the objection's outcome
    assert "utuh / intact" in out and ", 0 differ" in out  # the ledger verifies; every result replays
    for unit in ("disdik", "dinkes", "dinsos", "diskominfo", "kec-candisari"):
        assert unit in out
    assert not leftover_processes(demo.data_dir)


def test_a_killed_demo_leaves_no_process_behind(data_dir: Path) -> None:
    proc = subprocess.Popen([*DEMO, "--data-dir", str(data_dir), "--database", "objektif_demo_killed"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    seen = ""
    for line in proc.stdout:  # wait until the services run and the first phase went through
        seen += line
        if "registrasi sumber" in line:
            break
    assert "registrasi sumber" in seen, seen[-3000:]
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    time.sleep(1)
    assert leftover_processes(data_dir) == []


# --- the demo's results as SIASN takes them (issue 19, docs/siasn.md) ------------------------------------------


def test_the_demo_quarter_exports_as_schema_valid_siasn_records_with_the_angka_kredit_koefisien(
    demo: DemoRun, tmp_path: Path
) -> None:
    assert demo.done.returncode == 0, demo.done.stdout[-3000:] + demo.done.stderr[-3000:]
    assert "Angka kredit jabatan fungsional" in demo.done.stdout  # the demo prints each credit and its formula
    data = candisari.build()
    teacher = next(p for p in data.people if p.jabatan == "Guru Ahli Muda")
    ids = tmp_path / "siasn-ids.csv"
    ids.write_text(f"nip,pns_id\n{teacher.nip},A8ACA7397AEB3912E040640A040269BB\n", encoding="utf-8")
    out = tmp_path / "siasn.json"
    done = subprocess.run([*CLI, "export", "siasn", "--period", candisari.PERIOD, "--ids", str(ids), "--out", str(out),
                           "--data-dir", str(demo.data_dir), *demo.database_args()],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    records = orjson.loads(out.read_bytes())
    schema = orjson.loads((SCHEMA_DIR / siasn_contract.SCHEMA_NAME).read_bytes())
    validator = jsonschema.Draft202012Validator(schema)
    for record in records:
        assert not list(validator.iter_errors(record)), record
    appraised = {p.nip for p in data.people if p.penilai is not None}  # every unit closed its quarter
    assert {r["nip"] for r in records} == appraised and f"{len(appraised)} pegawai" in done.stderr
    by_nip = {r["nip"]: r for r in records}
    assert by_nip[teacher.nip]["pnsDinilaiId"] == "A8ACA7397AEB3912E040640A040269BB"
    assert by_nip[teacher.nip]["koefisienId"] == "ahli-muda"
    jenjang = {p.nip: p.jenjang for p in data.people}
    assert all((r["koefisienId"] is None) == (jenjang[r["nip"]] is None) for r in records)
    penilai = {p.nip: p for p in data.people}
    for r in records:
        rater = penilai[penilai[r["nip"]].penilai or ""]
        assert (r["penilaiNipNrp"], r["penilaiNama"], r["penilaiJabatanNama"], r["statusPenilai"]) == (
            rater.nip, rater.name, rater.jabatan, "ASN")
        assert r["penilaiUnorNama"] == data.units[rater.unit_id]
        assert (r["bulanMulaiPenilaian"], r["bulanSelesaiPenilaian"], r["periodikId"]) == (7, 9, "2")


# --- the demo's log, checked by a verifier nobody here wrote ---------------------------------------------------


@dataclass(frozen=True)
class ServedLog:
    """The demo's ledger served by `objektif audit serve`, what the demo printed of its last checkpoint (the
    leaves over every partition, the root over the partitions), the checkpoint key as an auditor is given it,
    and the auditors' token for the entry bundles."""

    url: str
    size: int
    root_hex: str
    vkey: str
    token: str


@pytest.fixture(scope="module")
def served(demo: DemoRun) -> Iterator[ServedLog]:
    """`objektif audit serve` over the finished demo's data, stopped (and checked to leave nothing behind) after
    the module."""
    assert demo.done.returncode == 0, demo.done.stdout[-3000:] + demo.done.stderr[-3000:]
    printed = re.search(r"Audit: checkpoint (\d+) daun / leaves, root ([0-9a-f]{64})", demo.done.stdout)
    assert printed, demo.done.stdout[-3000:]
    data = ["--data-dir", str(demo.data_dir), *demo.database_args()]
    token = subprocess.run([*CLI, "audit", "tiles-token", "--data-dir", str(demo.data_dir)],
                           capture_output=True, text=True, timeout=120, check=True).stdout.strip()
    # the key an operator publishes: the verifier key `objektif audit checkpoint --json` prints
    vkey = NoteSigner.from_private_bytes(Stack(demo.data_dir).checkpoint_key(), DEFAULT_ORIGIN).verifier_key()
    port = free_port()
    proc = subprocess.Popen([*CLI, "audit", "serve", *data, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port("127.0.0.1", port, timeout=90)
        assert proc.poll() is None
        yield ServedLog(f"http://127.0.0.1:{port}/", int(printed[1]), printed[2], vkey, token)
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output[-3000:]
    assert "Ledger served on" in output, output[-3000:]
    time.sleep(1)
    assert leftover_processes(demo.data_dir) == []


@pytest.fixture(scope="module")
def aics_tlog() -> Path:
    """The `aics-tlog` executable (installed on first use where the test venv cannot hold it)."""
    return verifier()


@dataclass(frozen=True)
class LogCopy:
    """The demo's ledger downloaded tile by tile into a directory, every partition's log (checkpoint, hash tiles,
    entry bundles) and the checkpoint over every partition; each partition's signed checkpoint and the leaves'
    bytes read from its bundles."""

    path: Path
    signed: dict[int, Checkpoint]
    leaves: dict[int, list[bytes]]

    def log(self, part: int) -> Path:
        """Where partition ``part``'s log is in the copy."""
        return Path(log_url(str(self.path), part))


@pytest.fixture(scope="module")
def copy(served: ServedLog, tmp_path_factory: pytest.TempPathFactory) -> LogCopy:
    into = tmp_path_factory.mktemp("demo-log")
    signed = download_ledger(served.url, served.token, served.vkey, into)
    leaves: dict[int, list[bytes]] = {}
    for part, checkpoint in signed.items():  # c2sp.org/tlog-tiles: each entry a uint16 length, then bytes
        leaves[part] = []
        for ref in tiles_of(checkpoint.size, entries=True):
            bundle, at = (Path(log_url(str(into), part)) / ref.path()).read_bytes(), 0
            while at < len(bundle):
                length = int.from_bytes(bundle[at:at + 2], "big")
                leaves[part].append(bundle[at + 2:at + 2 + length])
                at += 2 + length
        assert len(leaves[part]) == checkpoint.size
    assert sum(c.size for c in signed.values()) == served.size  # every leaf the demo checkpointed at its end
    return LogCopy(into, signed, leaves)


def demo_result(copy: LogCopy) -> tuple[int, int, dict[str, object]]:
    """The partition, index and envelope of a published result (`score.computed`) of the demo: the last one in
    the first partition that holds one after another leaf."""
    return next((part, i, e) for part in sorted(copy.leaves) for i in reversed(range(1, len(copy.leaves[part])))
                if (e := orjson.loads(copy.leaves[part][i]))["type"] == "score.computed")


def test_aics_tlog_verifies_the_demos_log_and_a_result_in_it_from_the_served_tiles(
    served: ServedLog, copy: LogCopy, aics_tlog: Path, tmp_path: Path
) -> None:
    # every partition's log, tiles and checkpoint, and the checkpoint over every partition recomputed from them
    logs = check_ledger(aics_tlog, served.url, served.vkey, tmp_path)
    # the very ledger the demo checkpointed and verified at its end
    assert (sum(g.size for g in logs), ledger_root(logs).hex()) == (served.size, served.root_hex)
    part, index, _result = demo_result(copy)
    url = log_url(served.url, part)
    key = ("--log-key", served.vkey, "--origin", log_origin(part))
    code, report = run(aics_tlog, "verify-checkpoint", "--tiles", url, *key)
    assert code == 0, report
    assert report["tiles_ok"] and report["log_ok"]
    assert (report["size"], base64.b64decode(report["root"])) == (logs[part].size, logs[part].root)
    leaf = tmp_path / "result.json"
    leaf.write_bytes(copy.leaves[part][index])
    code, report = run(aics_tlog, "verify-inclusion", "--tiles", url, "--index", str(index),
                       "--leaf", str(leaf), *key)
    assert code == 0, report
    code, report = run(aics_tlog, "verify-inclusion", "--tiles", url, "--index", str(index - 1),
                       "--leaf", str(leaf), *key)
    assert code == 1, report  # the result is not the leaf before it
    other = tmp_path / "other.json"
    other.write_bytes(copy.leaves[part][index].replace(b'"predikat":"', b'"predikat":"X', 1))
    assert other.read_bytes() != leaf.read_bytes()
    code, report = run(aics_tlog, "verify-inclusion", "--tiles", url, "--index", str(index),
                       "--leaf", str(other), *key)
    assert code == 1, report  # a changed result is not in the log


def test_a_receipt_of_a_demo_result_downloaded_as_a_tlog_proof_verifies_offline(
    served: ServedLog, copy: LogCopy, aics_tlog: Path, tmp_path: Path
) -> None:
    part, index, result = demo_result(copy)
    got = httpx.get(f"{served.url}receipts/{result['event_id']}.tlog-proof", timeout=60)
    assert got.status_code == 200, got.text
    assert got.text.split("\n")[1] == f"index {index}"
    proof, note = _split(got.text, tmp_path)
    leaf = tmp_path / "result.json"
    leaf.write_bytes(copy.leaves[part][index])
    # the JSON receipt's second step: the partition's head under the demo's last checkpoint over every partition
    receipt = httpx.get(f"{served.url}receipts/{result['event_id']}", timeout=60).json()
    check_receipt(receipt, served.vkey)
    assert (receipt["partition"], receipt["leaf_index"]) == (part, index)
    assert receipt["partitions"]["root"] == served.root_hex

    def check(leaf_file: Path) -> int:  # from these files alone: no --tiles, nothing fetched
        code, report = run(aics_tlog, "verify-inclusion", "--leaf", str(leaf_file), "--index", str(index),
                           "--proof", str(proof), "--checkpoint", str(note), "--log-key", served.vkey,
                           "--origin", log_origin(part))
        assert code == 1 or report["checkpoint_verified"], report
        return code

    assert check(leaf) == 0
    lines = proof.read_text().splitlines()
    assert lines  # a demo-sized tree has a path of several hashes
    hashed = bytearray(base64.b64decode(lines[0]))
    hashed[0] ^= 0x80
    proof.write_text("\n".join([base64.b64encode(bytes(hashed)).decode(), *lines[1:]]) + "\n")
    assert check(leaf) == 1
    proof.write_text("\n".join(lines) + "\n")
    assert check(leaf) == 0
    other = tmp_path / "other.json"
    other.write_bytes(copy.leaves[part][index - 1])
    assert check(other) == 1  # another event's bytes at this index


def test_a_downloaded_copy_of_the_demos_log_verifies_whole_and_a_tampered_tile_fails(
    served: ServedLog, copy: LogCopy, aics_tlog: Path, tmp_path: Path
) -> None:
    for part, checkpoint in copy.signed.items():  # every tile and entry bundle of every partition
        whole = audit_tiles(aics_tlog, copy.log(part), checkpoint.size, checkpoint.root)
        assert whole.returncode == 0, (part, whole.stderr)
    logs = check_ledger(aics_tlog, str(copy.path), served.vkey, tmp_path)  # the copy, whole, offline
    assert ledger_root(logs).hex() == served.root_hex
    part, index, _result = demo_result(copy)
    signed, log = copy.signed[part], copy.log(part)
    key = ("--log-key", served.vkey, "--origin", log_origin(part))
    # without --leaf the verifier takes the entry from its bundle, proven against the level 0 tile
    inclusion = ("verify-inclusion", "--tiles", str(log), "--index", str(index), *key)
    code, report = run(aics_tlog, *inclusion)
    assert code == 0, report

    tile = log / _holding(signed, index).path()
    flip(tile, (index % TILE_WIDTH) * 32 + 7)  # one bit of the result's own leaf hash
    code, report = run(aics_tlog, *inclusion)
    assert code == 1 and "TileVerificationError" in report["error"], report
    assert audit_tiles(aics_tlog, log, signed.size, signed.root).returncode != 0
    flip(tile, (index % TILE_WIDTH) * 32 + 7)
    assert run(aics_tlog, *inclusion)[0] == 0

    bundle = log / _holding(signed, index, entries=True).path()
    flip(bundle, len(bundle.read_bytes()) - 2)  # inside the bundle's last entry
    last = min(signed.size, (index // TILE_WIDTH + 1) * TILE_WIDTH) - 1
    code, report = run(aics_tlog, "verify-inclusion", "--tiles", str(log), "--index", str(last), *key)
    assert code == 1 and "does not match its level 0 tile" in report["error"], report
    assert audit_tiles(aics_tlog, log, signed.size, signed.root).returncode != 0
    flip(bundle, len(bundle.read_bytes()) - 2)
