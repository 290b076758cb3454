"""The gate benchmark times accepted submissions only: its setup is accepted under today's rules (a sealed name,
UU PDP) and each of its timed loops asserts every decision is an acceptance, so a rule change cannot turn it into
a benchmark of rejections."""

from __future__ import annotations

import pytest

from bench import bench_evidence_gate


def test_the_gate_benchmark_runs_on_accepted_submissions(capsys: pytest.CaptureFixture[str]) -> None:
    bench_evidence_gate.main(20)
    out = capsys.readouterr().out
    assert "decide_batch, batch-signed (100/batch)" in out
    assert "raw Ed25519 verify" in out
