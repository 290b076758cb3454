"""`python -m bench` as an operator runs it (`make bench`), at a small size: on its own embedded stack, every
phase runs, every figure is a ratio to a baseline measured in the same run, and the results are written as JSON
and PNG. It asserts what the run did (every submission decided, scored and ledgered; nothing left running),
never how fast: the figures are the benchmark's to report, not the tests' to judge."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.world import leftover_processes

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--events", "2000", "--ratings", "200", "--latency-rate", "100", "--latency-seconds", "2",
         "--light-rate", "20", "--naive-records", "50", "--naive-seconds", "2", "--baseline-records", "2000",
         "--verify-records", "200"]


def test_the_benchmark_runs_every_phase_on_its_own_stack_and_writes_its_figures(tmp_path: Path) -> None:
    out, stack = tmp_path / "results.json", tmp_path / "stack"
    # nothing shared with the other tests: no broker or database from the environment, as on a fresh machine
    env = {k: v for k, v in os.environ.items() if k not in ("OBJEKTIF_KAFKA_BOOTSTRAP", "OBJEKTIF_DATABASE_URL")}
    done = subprocess.run([sys.executable, "-m", "bench", *SMALL, "--json", str(out), "--data-dir", str(stack)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["machine"]["broker"] == "embedded Tansu"
    assert results["machine"]["database"] == "embedded PostgreSQL"

    bulk, single = results["throughput"]["bulk"], results["throughput"]["single"]
    assert bulk["submissions"] == bulk["accepted"] == bulk["decided"] > 1900
    assert bulk["rejected"] == 0 and bulk["scores"] > 0
    assert bulk["ledgered"] == bulk["accepted"] + bulk["scores"]  # every accepted event and score in the ledger
    assert single["submissions"] == single["accepted"] == 200
    for rate in results["latency_by_rate"]:
        assert rate["sent"] == rate["scored"] > 0 and rate["unscored"] == 0  # every submission got its score
    assert results["audit_verify"]["intact"] and results["audit_verify"]["verify_ledger_problems"] == 0
    assert results["replay"]["appraisals"] == results["setup"]["employees"] - 1  # all with a plan: not the Sekda

    baselines = results["baselines"]
    assert {b: baselines[b]["count"] for b in baselines} == {"kafka_consume": 2000, "copy_upsert": 2000,
                                                             "ed25519_verify": 200}
    names = {(f["name"], f["baseline"].split(" (")[0]) for f in results["figures"]}
    assert ("bulk end to end", "asyncpg COPY+upsert") in names and ("bulk end to end", "naive pipeline") in names
    assert any(name.startswith("CPU per bulk submission") for name, _ in names)
    assert ("one-by-one end to end", "Ed25519 verify, one core") in names
    for f in results["figures"]:  # each ratio is rounded to three places
        assert f["ratio"] == pytest.approx(f["value"] / f["baseline_value"] if f["unit"] not in ("ms", "µs")
                                           else f["baseline_value"] / f["value"], rel=0.01, abs=5e-4)
    assert set(results["memory_peak_mb"]) == {"evidence", "scoring", "audit", "broker", "postgres"}
    assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert not leftover_processes(stack)
