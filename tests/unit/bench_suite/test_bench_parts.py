"""The benchmark's own parts behave (bench/ measures; these tests only check that what it measures is right)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from bench.baselines import Rate
from bench.drive import Probe
from bench.latency import Tracker, percentile
from bench.report import figures
from bench.workload import Workload, bench_key, nip_of, sign_batch_fast, sign_single
from contracts import pdp
from contracts.envelope import NIP_PATTERN
from contracts.signing import sign_batch, sign_envelope
from services.evidence.domain import Accepted, decide_batch_and_evolve, initial_state


@pytest.mark.parametrize("size", [1, 2, 7, 8, 13])
def test_the_fast_batch_signer_writes_exactly_what_the_contract_signer_writes(size: int) -> None:
    w = Workload(employees=20, units=2)
    plains = [w.realisation(1 + i % 19, i % 13, i % 3, tag=f":t{i}") for i in range(size)]
    key = bench_key("sistem")
    assert sign_batch_fast(plains, key) == sign_batch(plains, key)


def test_single_signatures_are_those_of_the_contract_signer() -> None:
    plain = Workload(employees=20, units=2).realisation(3, 4, 1)
    assert sign_single(plain, bench_key("x")) == sign_envelope(plain, bench_key("x"))


def test_nips_are_distinct_and_well_formed() -> None:
    nips = [nip_of(i) for i in range(30_000)]
    assert len(set(nips)) == len(nips)
    assert all(re.match(NIP_PATTERN, n) for n in nips)


def test_the_gate_accepts_every_submission_of_the_workload() -> None:
    w = Workload.for_events(1200, batch=100)
    admin = bench_key("admin")
    state = initial_state([admin.public_key().public_bytes_raw()])
    now = datetime(2025, 10, 1, tzinfo=UTC)
    data_key = X25519PrivateKey.generate().public_key().public_bytes_raw()
    sealed_to = {nip_of(i): frozenset({pdp.kid_of(data_key)}) for i in range(w.employees)}  # one key for all
    raws = [[orjson.dumps(s) for s in subs] for _name, subs in w.setup_phases(admin, lambda _nip: data_key)]
    raws += [[v for _k, v in chunk] for chunk in w.bulk()]
    raws.append([v for _k, v in w.ratings(200)])
    raws.append([v for _id, _s, (_k, v) in w.live(50, "t")])
    raws.append([v for _id, _s, (_k, v) in w.live(50, "b", batched=True)])
    decided = 0
    for batch in raws:
        decisions, state = decide_batch_and_evolve(batch, state, received_at=now, received_from="test",
                                                   sealed_to=sealed_to)
        assert [d for d in decisions if not isinstance(d, Accepted)] == []
        decided += len(decisions)
    assert decided >= 1200 + 2 * w.employees


def test_the_bulk_stops_at_its_limit_and_counts_its_size() -> None:
    w = Workload(employees=30, units=3, batch=40)
    assert sum(len(c) for c in w.bulk()) == w.bulk_size()
    assert sum(len(c) for c in w.bulk(limit=101)) == 101


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50.0, 99.0, 100.0)
    assert percentile([], 99) == 0.0


def test_a_score_covers_every_earlier_submission_of_its_employee_once() -> None:
    records = [("a1", "A", (b"", b"")), ("b1", "B", (b"", b"")), ("a2", "A", (b"", b"")), ("a3", "A", (b"", b""))]
    tracker = Tracker(records)
    for n, (event_id, *_rest) in enumerate(records):
        tracker.sent(event_id, float(n))
    tracker.scored("a2", 10.0)
    tracker.scored("a2", 11.0)  # a score repeated: nothing counted twice
    tracker.scored("not-ours", 12.0)
    assert sorted(tracker.latencies) == [8000.0, 10000.0]
    tracker.scored("a3", 13.0)
    assert len(tracker.latencies) == 3


def test_settled_needs_every_stage_to_have_caught_up() -> None:
    done = Probe(accepted=10, rejected=2, evidence_relayed=10, rejections_relayed=2, scoring_consumed=10,
                 scores=4, scores_relayed=4, ledgered=16)
    assert done.settled(12)
    assert not done.settled(13)
    assert not Probe(**{**done.__dict__, "ledgered": 15}).settled(12)
    assert not Probe(**{**done.__dict__, "scores_relayed": 3}).settled(12)
    assert not Probe(**{**done.__dict__, "scoring_consumed": 9}).settled(12)


def test_each_figure_is_a_ratio_to_its_baseline_and_latency_is_inverted() -> None:
    results = {
        "baselines": {"kafka_consume": {"per_second": 100_000.0}, "copy_upsert": {"per_second": 40_000.0},
                      "ed25519_verify": {"per_second": 10_000.0}},
        "throughput": {"bulk": {"per_second": 20_000.0}, "single": {"per_second": 7_000.0},
                       "naive": {"per_second": 100.0}},
        "latency": {"p99_ms": 500.0}, "replay": {"events_per_second": 60_000.0},
        "audit_verify": {"leaves_per_second": 150_000.0},
    }
    got = {(f.name, f.baseline_name.split(" (")[0]): (f.ratio, f.met) for f in figures(results)}
    assert got[("bulk end to end", "asyncpg COPY+upsert")] == (0.5, True)
    assert got[("bulk end to end", "naive pipeline")] == (200.0, True)
    assert got[("one-by-one end to end", "Ed25519 verify, one core")] == (0.7, True)
    assert got[("p99 submission→score", "target")] == (0.5, False)
    assert got[("replay from the ledger", "target")] == (0.6, False)
    assert got[("audit verify", "target")] == (0.5, False)
    assert len(got) == 6  # no CPU figure without the phase's CPU


def test_cpu_per_bulk_submission_sums_the_products_processes_and_not_the_machine() -> None:
    bulk = {"per_second": 1.0, "submissions": 1000,
            "cpu_seconds": {"evidence": 0.03, "scoring": 0.02, "audit": 0.01, "broker": 0.005, "postgres": 0.035,
                            "machine_busy": 0.5}}
    results = {
        "baselines": {"kafka_consume": {"per_second": 1.0}, "copy_upsert": {"per_second": 1.0},
                      "ed25519_verify": {"per_second": 1.0}},
        "throughput": {"bulk": bulk, "single": {"per_second": 1.0}, "naive": {"per_second": 1.0}},
        "latency": {"p99_ms": 1.0}, "replay": {"events_per_second": 1.0}, "audit_verify": {"leaves_per_second": 1.0},
    }
    cpu = next(f for f in figures(results) if f.name.startswith("CPU per bulk submission"))
    assert (cpu.name, round(cpu.value, 6), cpu.baseline, cpu.ratio, cpu.met) == (
        "CPU per bulk submission", 100.0, 75.0, 0.75, False)
    del bulk["cpu_seconds"]["postgres"]
    cpu = next(f for f in figures(results) if f.name.startswith("CPU per bulk submission"))
    assert cpu.name == "CPU per bulk submission (PostgreSQL not measured)" and round(cpu.value, 6) == 65.0


def test_the_ed25519_baseline_is_one_cores_rate_per_cpu_second() -> None:
    rate = Rate(count=5_000, seconds=1.5, cpu_seconds=0.5)  # descheduled for two thirds of the wall time
    assert (rate.per_second, rate.per_cpu_second) == (5_000 / 1.5, 10_000.0)
    results = {
        "baselines": {"kafka_consume": {"per_second": 1.0}, "copy_upsert": {"per_second": 1.0},
                      "ed25519_verify": rate.to_json()},
        "throughput": {"bulk": {"per_second": 1.0}, "single": {"per_second": 8_000.0},
                       "naive": {"per_second": 1.0}},
        "latency": {"p99_ms": 1.0}, "replay": {"events_per_second": 1.0},
        "audit_verify": {"leaves_per_second": 1.0},
    }
    single = next(f for f in figures(results) if f.name == "one-by-one end to end")
    assert (single.baseline, single.ratio, single.met) == (10_000.0, 0.8, True)
