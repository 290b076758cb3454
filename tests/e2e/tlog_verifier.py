"""The independent verifier of the tiled log: `aics-tlog` (PyPI, Apache-2.0), a C2SP tlog-tiles, tlog-checkpoint
and signed-note verifier nobody here wrote.

The ledger is one log per partition under one checkpoint (ADR 0013): partition 0's log is served at the root
(`checkpoint`, `tile/…`), partition k's under `p<k>/`, each with an origin of its own (`log_origin`), and the
checkpoint over every partition at `partitions/checkpoint`, a C2SP checkpoint whose leaves are the partitions'
heads (`reference_entry`). `check_ledger` has `aics-tlog` verify every one of them and recomputes the root over the
partitions here.

It requires Python >= 3.12. Where the test environment runs on one, the `test` extra installs it beside
everything else; on an older one (the project supports 3.11) it is installed, pinned, into a virtual
environment of its own inside the test venv, made with the newest Python >= 3.12 found on the machine
(PATH, then pyenv's versions). With no such Python the tests that need it fail and say so: a check that CI
silently skipped would prove nothing.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.audit.domain.checkpoint import Checkpoint, open_checkpoint
from services.audit.domain.tiles import tiles_of
from tests.e2e.world import PARTITIONS_ORIGIN, log_origin
from tests.rfc6962_reference import reference_entry, reference_root

REQUIREMENT = "aics-tlog==0.2.1"
_SIDE = Path(sys.prefix) / "aics-tlog"


def _new_enough(python: str) -> bool:
    try:
        done = subprocess.run([python, "-c", "import sys; sys.exit(sys.version_info < (3, 12))"],
                              capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _python_312() -> str | None:
    found = [p for name in ("python3.14", "python3.13", "python3.12") if (p := shutil.which(name))]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found += sorted(glob.glob(str(pyenv / "versions" / "3.1[2-9]*" / "bin" / "python3")), reverse=True)
    found += sorted(glob.glob("/usr/bin/python3.1[2-9]") + glob.glob("/usr/local/bin/python3.1[2-9]"), reverse=True)
    return next((p for p in found if _new_enough(p)), None)


def verifier() -> Path:
    """The `aics-tlog` executable, installing it into its own venv first when the test venv cannot hold it."""
    beside = Path(sys.executable).parent / "aics-tlog"
    if beside.exists():
        return beside
    exe = _SIDE / "bin" / "aics-tlog"
    if exe.exists():
        return exe
    python = _python_312()
    if python is None:
        pytest.fail(f"{REQUIREMENT} needs Python >= 3.12 and none was found (PATH, pyenv): install one")
    subprocess.run([python, "-m", "venv", "--clear", str(_SIDE)], check=True, timeout=300)
    subprocess.run([str(_SIDE / "bin" / "python"), "-m", "pip", "install", "--quiet", REQUIREMENT],
                   check=True, timeout=600)
    return exe


def run(exe: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """One `aics-tlog` command: its exit code and the one JSON object it prints."""
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300, check=False)
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout)


def audit_tiles(exe: Path, directory: Path, size: int, root: bytes) -> subprocess.CompletedProcess[str]:
    """aics-tlog's `audit_tiles` (its Python API; no CLI command walks the whole tree) over a local copy:
    every tile and every entry bundle authenticated against the trusted size and root."""
    script = ("import sys; from aics_tlog import FileSystemTileReader, audit_tiles; "
              "r = audit_tiles(FileSystemTileReader(sys.argv[1]), int(sys.argv[2]), bytes.fromhex(sys.argv[3])); "
              "print(r.tiles, r.bundles)")
    return subprocess.run([str(exe.parent / "python"), "-c", script, str(directory), str(size), root.hex()],
                          capture_output=True, text=True, timeout=300, check=False)


# --- the ledger's partitions (ADR 0013) ---------------------------------------------------------------------------


def log_url(base: str, part: int) -> str:
    """Where partition ``part``'s log is under ``base`` (a URL ending in ``/``, or a directory): the root itself
    for partition 0, ``p<k>/`` for the others."""
    if part == 0:
        return base
    return f"{base}p{part}/" if "://" in base else str(Path(base) / f"p{part}")


def _read(base: str, path: str) -> str | None:
    """A note under ``base`` (URL or directory); None where none is served (404) or written."""
    if "://" in base:
        got = httpx.get(base + path, timeout=60)
        if got.status_code == 404:
            return None
        assert got.status_code == 200, (path, got.status_code, got.text)
        return got.text
    file = Path(base) / path
    return file.read_text(encoding="utf-8") if file.exists() else None


def _note_path(part: int) -> str:
    return "checkpoint" if part == 0 else f"p{part}/checkpoint"


@dataclass(frozen=True)
class PartitionLog:
    """One partition's log as its verified checkpoint states it (size 0 and the empty root before its first)."""

    part: int
    size: int
    root: bytes


def ledger_root(logs: list[PartitionLog]) -> bytes:
    """The root of the tree over the partitions' heads, recomputed here (RFC 6962; leaf ``u16 part || u64 size ||
    root``)."""
    return reference_root([hashlib.sha256(b"\x00" + reference_entry(g.part, g.size, g.root)).digest() for g in logs])


def check_ledger(exe: Path, base: str, vkey: str, into: Path, attempts: int = 5) -> list[PartitionLog]:
    """The whole ledger at ``base`` checked by `aics-tlog`: the checkpoint over every partition verified under
    ``vkey``; each partition's log, tiles and checkpoint, verified under its own origin; and the RFC 6962 root
    over the partitions' entries recomputed here equal to the signed one. Read again while a checkpoint is
    issued in between (the service signs them all in one transaction, so an unchanged note over every partition
    means the partitions' notes read meanwhile are the ones it signs)."""
    for _ in range(attempts):
        before = _read(base, "partitions/checkpoint")
        assert before is not None, f"no checkpoint over every partition at {base}"
        note = into / "partitions.checkpoint"
        note.write_text(before, encoding="utf-8")
        code, over_all = run(exe, "verify-checkpoint", "--note", str(note), "--log-key", vkey,
                             "--origin", PARTITIONS_ORIGIN)
        assert code == 0, over_all
        logs = []
        for part in range(over_all["size"]):
            if _read(base, _note_path(part)) is None:
                logs.append(PartitionLog(part, 0, hashlib.sha256(b"").digest()))
                continue
            code, report = run(exe, "verify-checkpoint", "--tiles", log_url(base, part), "--log-key", vkey,
                               "--origin", log_origin(part))
            assert code == 0 and report["tiles_ok"] and report["log_ok"], (part, report)
            logs.append(PartitionLog(part, report["size"], base64.b64decode(report["root"])))
        if _read(base, "partitions/checkpoint") != before:
            continue
        assert ledger_root(logs) == base64.b64decode(over_all["root"]), (over_all, logs)
        return logs
    raise AssertionError(f"checkpoints kept being issued while {base} was read")


def download_ledger(base: str, token: str, vkey: str, into: Path, attempts: int = 5) -> dict[int, Checkpoint]:
    """Every partition's log (checkpoint, hash tiles, entry bundles, through the auditors' ``token``) and the
    checkpoint over every partition, from ``base`` into ``into`` in the served layout; the partitions' signed
    checkpoints, by partition (those with none yet left out)."""
    with httpx.Client(base_url=base, timeout=60) as client:
        for _ in range(attempts):
            over_all = client.get("/partitions/checkpoint").text
            count = open_checkpoint(over_all, vkey, origin=PARTITIONS_ORIGIN).size
            notes = {}
            for part in range(count):
                got = client.get("/" + _note_path(part))
                if got.status_code != 404:
                    assert got.status_code == 200, (part, got.text)
                    notes[part] = got.text
            if client.get("/partitions/checkpoint").text == over_all:
                break
        else:
            raise AssertionError(f"checkpoints kept being issued while {base} was read")
        assert client.get("/tile/entries/000").status_code == 401  # events are personal data
        signed = {}
        for part, note in notes.items():
            signed[part] = open_checkpoint(note, vkey, origin=log_origin(part))
            prefix = "" if part == 0 else f"p{part}/"
            for ref in [*tiles_of(signed[part].size), *tiles_of(signed[part].size, entries=True)]:
                got = client.get("/" + prefix + ref.path(), headers={"Authorization": f"Bearer {token}"})
                assert got.status_code == 200, (prefix + ref.path(), got.text)
                (into / prefix / ref.path()).parent.mkdir(parents=True, exist_ok=True)
                (into / prefix / ref.path()).write_bytes(got.content)
            (into / _note_path(part)).parent.mkdir(parents=True, exist_ok=True)
            (into / _note_path(part)).write_text(note, encoding="utf-8")
    (into / "partitions").mkdir(parents=True, exist_ok=True)
    (into / "partitions" / "checkpoint").write_text(over_all, encoding="utf-8")
    return signed
