"""`objektif demo` as a user runs it: to the end with the printed table, and killed midway without leftovers."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.world import leftover_processes

pytestmark = pytest.mark.e2e

DEMO = [sys.executable, "-m", "objektif.cli", "demo"]


def test_the_demo_runs_the_whole_pipeline_and_prints_results(data_dir: Path) -> None:
    done = subprocess.run([*DEMO, "--data-dir", str(data_dir), "--database", "objektif_demo_test"],
                          capture_output=True, text=True, timeout=420)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "ditolak 0" in out  # every demo submission is authentic, authorised and valid
    assert "Penilaian kinerja ASN" in out and "Kurva distribusi per unit" in out
    assert "Read model = pure replay of the evidence: ya" in out
    assert "Keberatan (§2.4) — keputusan Atasan" in out and "Kurang/Misconduct" in out  # the objection's outcome
    assert "utuh / intact" in out and ", 0 differ" in out  # the ledger verifies; every result replays
    for unit in ("disdik", "dinkes", "dinsos", "diskominfo", "kec-candisari"):
        assert unit in out
    assert not leftover_processes(data_dir)


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
