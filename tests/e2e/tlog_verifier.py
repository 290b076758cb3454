"""The independent verifier of the tiled log: `aics-tlog` (PyPI, Apache-2.0), a C2SP tlog-tiles, tlog-checkpoint
and signed-note verifier nobody here wrote.

It requires Python >= 3.12. Where the test environment runs on one, the `test` extra installs it beside
everything else; on an older one (the project supports 3.11) it is installed, pinned, into a virtual
environment of its own inside the test venv, made with the newest Python >= 3.12 found on the machine
(PATH, then pyenv's versions). With no such Python the tests that need it fail and say so: a check that CI
silently skipped would prove nothing.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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
