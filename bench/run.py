"""One benchmark run: its own stack, the baselines, then the pipeline phase by phase, then the offline work.

Order matters on a small machine: baselines run before the services start (nothing else competes); each measured
backlog is signed in full first, then published at the broker's pace (an order of magnitude faster than the
pipeline drains it), and the clock runs from the evidence service's first decision on it until every service has
settled it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from bench import baselines, latency, naive, offline
from bench.drive import Probe, Sampler, probe_now, publish_chunks, wait_settled
from bench.scale_out import SCALE_OUT_PARTITIONS, by_service, processed_total, scale_out_row
from bench.workload import Workload
from contracts.canonical import canonical_bytes
from objektif.sealing import stack_lookup
from objektif.stack import ENV_DATABASE, ENV_KAFKA, SERVICES, Stack


@dataclass(frozen=True)
class Config:
    """What to measure and how much. The defaults fit in about five minutes on two cores."""

    events: int = 20_000  # batch-signed realisations in the bulk phase
    ratings: int = 3_000  # singly signed behaviour ratings in the one-by-one phase
    latency_rate: float = 1000.0  # offered submissions per second in the latency phase
    latency_seconds: float = 15.0
    light_rate: float = 100.0  # a second, light offered load: the latency of the path itself, without a queue
    naive_records: int = 2_000
    naive_seconds: float = 15.0
    baseline_records: int = 50_000  # records for the Kafka and COPY baselines
    verify_records: int = 5_000  # signatures for the Ed25519 baseline
    timeout: float = 1800.0  # per phase
    data_dir: Path | None = None
    keep: bool = False
    profile_dir: Path | None = None  # py-spy profiles of each service during the bulk phase
    #: instances of every service per consumer group. The first count runs every phase as always; each further
    #: one (`--instances 1,2`) runs the setup, bulk and one-by-one phases again on a fresh stack of its own,
    #: compared with the same baselines (`scale_out` in the results)
    instances: tuple[int, ...] = (1,)
    partitions: int | None = None  # per topic; None: the stack's default, or SCALE_OUT_PARTITIONS when scaling out


def _machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "load_average_at_start": os.getloadavg(),
            "broker": "environment" if os.environ.get(ENV_KAFKA) else "embedded Tansu",
            "database": "environment" if os.environ.get(ENV_DATABASE) else "embedded PostgreSQL"}


def _infrastructure_pids(stack: Stack) -> dict[str, int]:
    pids = {}
    if stack._broker_proc is not None:
        pids["broker"] = stack._broker_proc.pid
    for pidfile in stack.data_dir.rglob("postmaster.pid"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            pids["postgres"] = int(pidfile.read_text().splitlines()[0])
    if "postgres" not in pids and (local := local_postmaster(stack.admin_dsn)) is not None:
        pids["postgres"] = local
    return pids


@functools.cache
def local_postmaster(dsn: str) -> int | None:
    """The postmaster of a server of the environment that listens on this machine (its port, on a loopback
    address), so that its CPU counts too; all its backends count, so keep other clients off it meanwhile."""
    parts = urlsplit(dsn)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    port = parts.port or 5432
    with contextlib.suppress(psutil.Error, OSError):
        for c in psutil.net_connections(kind="tcp"):
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid is not None:
                return c.pid
    return None


def _processed(stack: Stack) -> dict[str, float]:
    """Records each service instance has consumed and handled so far (its /metrics)."""
    out = {}
    for name in stack._services:
        port = stack.http_ports.get(name)
        if port is None:
            continue
        with contextlib.suppress(OSError, ValueError), urllib.request.urlopen(
                f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            out[name] = processed_total(response.read().decode())
    return out


def _cpu(sampler: Sampler, stack: Stack) -> dict[str, float]:
    """CPU seconds so far per service, the broker, PostgreSQL (server and its children) and the whole machine."""
    out = sampler.cpu_seconds()
    pg = _infrastructure_pids(stack).get("postgres")
    if pg is not None:
        with contextlib.suppress(psutil.Error):
            server = psutil.Process(pg)
            # the server's own and its reaped children's (a connection that closed mid-phase took its backend's
            # CPU out of the live children's sum: the phase's figure came out short, even negative), and the
            # live children's
            out["postgres"] = sum(server.cpu_times()[:4]) + sum(
                sum(p.cpu_times()[:2]) for p in server.children(recursive=True))
    t = psutil.cpu_times()
    out["machine_busy"] = t.user + t.system + getattr(t, "nice", 0.0) + getattr(t, "irq", 0.0) + getattr(
        t, "softirq", 0.0)
    return out


class Run:
    """The state of one benchmark run; `execute()` returns the results as JSON-ready data."""

    def __init__(self, config: Config, log: Callable[[str], None]) -> None:
        self.c = config
        self.log = log
        self.results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                                        "machine": _machine(), "config": {k: str(v) if isinstance(v, Path) else v
                                                                          for k, v in asdict(config).items()}}
        self.workload = Workload.for_events(config.events)
        self.decided = 0
        self.partitions: int | None = config.partitions

    # --- phases -------------------------------------------------------------------------------------------------

    async def _baselines(self, stack: Stack, value_size: int) -> None:
        c = self.c
        self.log(f"baselines: aiokafka getmany ({c.baseline_records} × {value_size} B)")
        kafka = await baselines.kafka_consume(stack.kafka_bootstrap, c.baseline_records, value_size, stack.partitions)
        self.log(f"  {kafka.per_second:,.0f} records/s")
        self.log("baselines: asyncpg COPY + upsert")
        copy = await baselines.copy_upsert(stack.admin_dsn, c.baseline_records, value_size)
        self.log(f"  {copy.per_second:,.0f} rows/s")
        messages = [canonical_bytes(self.workload.realisation(1 + i % (self.workload.employees - 1), 0, 0,
                                                              tag=f":verify{i}")) for i in range(c.verify_records)]
        ed = baselines.ed25519_verify(messages)
        self.log(f"baselines: Ed25519 verify {ed.per_cpu_second:,.0f}/s on one core ({ed.per_second:,.0f}/s wall)")
        self.results["baselines"] = {"kafka_consume": kafka.to_json(), "copy_upsert": copy.to_json(),
                                     "ed25519_verify": ed.to_json()}

    async def _settle(self, stack: Stack, name: str, count: int, before: Probe | None = None) -> Any:
        self.decided += count
        return await wait_settled(stack.admin_dsn, self.decided, timeout=self.c.timeout, check=stack.check_services,
                                  before=before)

    async def _backlog(self, stack: Stack, sampler: Sampler, name: str, chunks: Any) -> dict[str, Any]:
        """Sign the whole backlog first, then publish it as fast as the broker takes it (far faster than the
        pipeline drains it) and time the pipeline from its first decision until everything has settled."""
        records = [chunk for chunk in chunks]
        sampler.phase = name
        profilers = self._profile_start(stack, name) if self.c.profile_dir else []
        before = await probe_now(stack.admin_dsn)  # the pipeline starts deciding while the rest is published
        scaled = any("#" in name for name in stack._services)
        processed0 = _processed(stack) if scaled else {}
        cpu0, wall0 = _cpu(sampler, stack), time.perf_counter()
        sent = await publish_chunks(stack.kafka_bootstrap, records)
        publish_seconds = time.perf_counter() - wall0
        del records
        settled = await self._settle(stack, name, sent, before)
        cpu1, cpu_wall = _cpu(sampler, stack), time.perf_counter() - wall0
        cpu = {k: cpu1[k] - cpu0.get(k, 0.0) for k in cpu1}
        for p in profilers:
            p.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(60)
        out = {"submissions": sent, "published_per_second": round(sent / publish_seconds, 1),
               "accepted": settled.after.accepted - settled.before.accepted,
               "rejected": settled.after.rejected - settled.before.rejected, "decided": settled.decided,
               "scores": settled.after.scores - settled.before.scores,
               "ledgered": settled.after.ledgered - settled.before.ledgered,
               "seconds": round(settled.seconds, 3), "per_second": round(settled.rate, 1),
               "cpu_seconds": {k: round(v, 2) for k, v in by_service(cpu).items()},
               "cpu_wall_seconds": round(cpu_wall, 2)}
        if scaled:  # each instance's own, and the records each consumed (both halves of a group at work)
            out["cpu_seconds_by_instance"] = {k: round(v, 2) for k, v in cpu.items()}
            processed1 = _processed(stack)
            out["processed_by_instance"] = {k: round(v - processed0.get(k, 0.0)) for k, v in processed1.items()}
        self.log(f"  {sent} submissions: {out['per_second']:,.0f}/s end to end ({out['scores']} scores,"
                 f" {out['ledgered']} leaves, {out['seconds']:.1f} s); CPU s {out['cpu_seconds']}"
                 + (" (each service's instances summed)" if scaled else ""))
        return out

    def _profile_start(self, stack: Stack, name: str) -> list[subprocess.Popen[bytes]]:
        assert self.c.profile_dir is not None
        self.c.profile_dir.mkdir(parents=True, exist_ok=True)
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        procs = []
        for service in SERVICES:
            pid = stack._services[service].pid
            procs.append(subprocess.Popen(
                [py_spy, "record", "-p", str(pid), "-r", "50", "-f", "speedscope",
                 "-o", str(self.c.profile_dir / f"{name}-{service}.json")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return procs

    async def _loaded(self, stack: Stack, sampler: Sampler, into: dict[str, Any]) -> tuple[Any, Any]:
        """The setup, then the bulk and one-by-one backlogs; the setup and memory figures go `into`."""
        w, admin = self.workload, stack.admin_key()
        self.log(f"setup: {w.employees} employees in {w.units} dinas")
        began = time.perf_counter()
        for name, submissions in w.setup_phases(admin, stack_lookup(stack)):
            sampler.phase = "setup"
            await publish_chunks(stack.kafka_bootstrap, [[(s["subject"].encode(), _dumps(s)) for s in submissions]])
            await self._settle(stack, name, len(submissions))
        into["setup"] = {"employees": w.employees, "units": w.units, "submissions": self.decided,
                         "seconds": round(time.perf_counter() - began, 2)}
        self._rss_after("setup", into)
        self.log(f"bulk: {self.c.events} batch-signed realisations (batches of {w.batch})")
        bulk = await self._backlog(stack, sampler, "bulk", w.bulk(limit=self.c.events))
        self._rss_after("bulk", into)
        self.log(f"one by one: {self.c.ratings} singly signed behaviour ratings")
        single = await self._backlog(stack, sampler, "single", [w.ratings(self.c.ratings)])
        self._rss_after("single", into)
        return bulk, single

    async def _pipeline(self, stack: Stack, sampler: Sampler) -> None:
        w, admin = self.workload, stack.admin_key()
        bulk, single = await self._loaded(stack, sampler, self.results)
        sampler.phase = "latency"
        by_rate = []
        for tag, rate in (("lat", self.c.latency_rate), ("light", self.c.light_rate)):
            count = int(rate * self.c.latency_seconds)
            self.log(f"latency: {count} singly signed realisations at {rate:.0f}/s")
            measured = await latency.measure(stack.kafka_bootstrap, stack.partitions, w.live(count, tag), rate)
            await self._settle(stack, "latency", count)
            self.log(f"  {measured.to_json()}")
            by_rate.append(measured)
        lat = by_rate[0]
        self.results["latency_by_rate"] = [m.to_json() for m in by_rate]
        self._rss_after("latency")
        sampler.phase = "naive"
        self.log(f"naive pipeline: up to {self.c.naive_records} submissions or {self.c.naive_seconds:.0f} s")
        admin_key = admin.public_key().public_bytes_raw()
        naive_rate = await naive.run(stack.kafka_bootstrap, stack.admin_dsn, admin_key,
                                     [r for _id, _subject, r in w.live(self.c.naive_records, "naive", batched=True)],
                                     stack.partitions, seconds=self.c.naive_seconds)
        self.log(f"  {naive_rate.per_second:,.1f}/s")
        self.results["throughput"] = {"bulk": bulk, "single": single, "naive": naive_rate.to_json()}
        self.results["latency"] = lat.to_json()
        self.results["latency_samples_ms"] = sorted(round(x, 2) for x in lat.latencies_ms)

    def _rss_after(self, phase: str, into: dict[str, Any] | None = None) -> None:
        rss = {k: round(v / 2**20, 1) for k, v in self.sampler.sample().items()}
        (self.results if into is None else into).setdefault("memory_after_phase", []).append(
            {"phase": phase, "decided_so_far": self.decided, "rss_mb": rss})

    async def _offline(self, stack: Stack) -> None:
        self.log("replay: all read models from the ledger through score_stream")
        rep = await offline.replay(stack.admin_dsn)
        self.results["replay"] = rep.to_json()
        self.log(f"  {self.results['replay']}")
        self.log("audit verify")
        ver = await offline.verify(stack.admin_dsn, stack.checkpoint_key())
        self.results["audit_verify"] = ver.to_json()
        self.log(f"  {self.results['audit_verify']}")

    def _stack(self, data_dir: Path) -> Stack:
        if self.partitions is None:
            return Stack(data_dir.resolve(), database="objektif_bench")
        return Stack(data_dir.resolve(), database="objektif_bench", partitions=self.partitions)

    def _spawn(self, stack: Stack, instances: int) -> None:
        """Every service, `instances` times each in its consumer group (`evidence`, `evidence#2`, …)."""
        stack.spawn_all()
        for n in range(2, instances + 1):
            for service in SERVICES:
                stack.spawn(f"{service}#{n}")
        if instances > 1:
            self.log(f"  {instances} instances of every service per consumer group, {stack.partitions} partitions")

    def _full(self, data_dir: Path, instances: int) -> None:
        """Every phase on one stack, as the benchmark has always run (with `instances` per group)."""
        stack = self._stack(data_dir)
        try:
            stack.start_infrastructure()
            asyncio.run(stack.prepare(fresh=True))
            sample = next(self.workload.bulk(limit=self.workload.batch))
            asyncio.run(self._baselines(stack, sum(len(v) for _k, v in sample) // len(sample)))
            self._spawn(stack, instances)
            self.sampler = Sampler({**{n: p.pid for n, p in stack._services.items()}, **_infrastructure_pids(stack)})
            self.sampler.start()
            try:
                asyncio.run(self._pipeline(stack, self.sampler))
            finally:
                self.sampler.stop()
            for name in list(stack._services):
                stack.stop_service(name)
            asyncio.run(self._offline(stack))
            self.results["memory_peak_mb"] = {k: round(v / 2**20, 1) for k, v in self.sampler.peak.items()}
            self.results["memory_peak_by_phase_mb"] = {
                phase: {k: round(v / 2**20, 1) for k, v in peaks.items()}
                for phase, peaks in self.sampler.phase_peak.items()}
            self.results["rss_timeline"] = [(round(t, 2), {k: round(v / 2**20, 1) for k, v in rss.items()})
                                            for t, rss in self.sampler.timeline[::5]]
        finally:
            stack.stop()

    def _scaled(self, data_dir: Path, instances: int) -> dict[str, Any]:
        """The setup, bulk and one-by-one phases again on a fresh stack (broker and database) with `instances`
        per group; returns its figures (the baselines are the first stack's)."""
        each = "instances of every service" if instances > 1 else "instance of each service"
        self.log(f"scale-out: a fresh stack, {instances} {each} per consumer group")
        self.decided = 0
        into: dict[str, Any] = {}
        stack = self._stack(data_dir)
        try:
            stack.start_infrastructure()
            asyncio.run(stack.prepare(fresh=True))
            self._spawn(stack, instances)
            self.sampler = Sampler({**{n: p.pid for n, p in stack._services.items()}, **_infrastructure_pids(stack)})
            self.sampler.start()
            try:
                into["bulk"], into["single"] = asyncio.run(self._loaded(stack, self.sampler, into))
            finally:
                self.sampler.stop()
            into["memory_peak_mb"] = {k: round(v / 2**20, 1) for k, v in self.sampler.peak.items()}
        finally:
            stack.stop()
        return into

    def execute(self) -> dict[str, Any]:
        """Start a stack, measure everything, stop the stack; returns the results. With more than one count of
        instances, then the loaded phases again on a fresh stack for each further count."""
        counts = self.c.instances
        scaling = len(counts) > 1 or counts[0] > 1
        self.partitions = self.c.partitions or (SCALE_OUT_PARTITIONS if scaling else None)
        if len(counts) > 1 and os.environ.get(ENV_KAFKA):
            # a fresh database on the same broker would consume the previous count's records again
            raise ValueError("--instances with several counts needs the embedded broker (a fresh one per count):"
                             f" unset {ENV_KAFKA}")
        data_dir = self.c.data_dir or Path(tempfile.mkdtemp(prefix="objektif-bench-"))
        started = time.perf_counter()
        others: dict[int, dict[str, Any]] = {}
        try:
            if len(counts) == 1:
                self._full(data_dir, counts[0])
            else:
                self._full(data_dir / f"instances-{counts[0]}", counts[0])
                others = {n: self._scaled(data_dir / f"instances-{n}", n) for n in counts[1:]}
        finally:
            if self.c.data_dir is None and not self.c.keep:
                shutil.rmtree(data_dir, ignore_errors=True)
        if scaling:
            base = self.results["baselines"]
            ratios = (base["copy_upsert"]["per_second"], base["ed25519_verify"]["per_cpu_second"])
            tp = self.results["throughput"]
            rows = [scale_out_row(counts[0], self.partitions or 0, tp["bulk"], tp["single"], *ratios)]
            rows += [scale_out_row(n, self.partitions or 0, r["bulk"], r["single"], *ratios)
                     for n, r in others.items()]
            self.results["scale_out"] = {
                "note": "CPU of a service is the sum over its instances; each count on a fresh stack, the "
                        "baselines measured once, on the first",
                "rows": rows,
                "runs": {str(n): r for n, r in others.items()}}  # each further count's phases in full
        self.results["machine"]["load_average_at_end"] = os.getloadavg()
        self.results["wall_seconds"] = round(time.perf_counter() - started, 1)
        return self.results


def _dumps(envelope: dict[str, Any]) -> bytes:
    import orjson

    return orjson.dumps(envelope)
