"""Each service's batch handler on its own, without the broker: `python -m bench.stages [--events N]`.

The end-to-end figures say how fast the pipeline is; these say where the time goes, and they move less when
other work shares the machine, because they count this process's CPU time per event. Each stage runs the
service's own use case and adapter against PostgreSQL (its own least-privilege role, a fresh database), fed
with the batches the broker would hand it (`batch` records, the services' `batch_max_records`):

- evidence: `Intake.handle` on the batch-signed bulk (the gate, one transaction per batch);
- scoring: `Projector.handle` on the accepted events as published (read back from the evidence store);
- audit: `Ledger.append` on the accepted events and the score events.

PostgreSQL's own CPU is reported beside, when the server is the embedded one or runs on this machine (then all of
its processes count: keep other clients off it while measuring).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import psutil

from bench.run import local_postmaster
from bench.workload import Workload, nip_of
from chassis.collector import batch_collection, settle_collector
from chassis.db import create_pool
from chassis.kafka import Position, partition_of
from chassis.partitions import PARTITIONS
from contracts import topics
from objektif.stack import SERVICES, Stack, with_database
from services.audit.adapters.ledger import Ledger, entry_of
from services.evidence.adapters.store import EvidenceStore, utc_now
from services.evidence.app.intake import Intake
from services.evidence.app.verify_ahead import DEFAULT_THREADS, VerifyAhead
from services.evidence.domain import initial_state
from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.adapters.store import DEFAULT_CACHE_EVENTS, ScoringStore
from services.scoring.app.fold_cache import DEFAULT_FOLDED_EVENTS, FoldCache
from services.scoring.app.project import Projector


@dataclass(frozen=True, slots=True)
class Record:
    """What the handlers read of an aiokafka ConsumerRecord."""

    topic: str
    partition: int
    offset: int
    value: bytes


def _records(topic: str, values: Sequence[tuple[bytes, bytes]], partitions: int, offsets: dict[int, int],
             ) -> list[Record]:
    out = []
    for key, value in values:
        p = partition_of(key, range(partitions))  # the producer's partition: the same in every run
        out.append(Record(topic, p, offsets.get(p, 0), value))
        offsets[p] = offsets.get(p, 0) + 1
    return out


#: Realisations sent one by one after the bulk (`_live`), by default.
LIVE_EVENTS = 2000


def _positions(records: Sequence[Record]) -> tuple[Position, ...]:
    last: dict[tuple[str, int], int] = {}
    for r in records:
        last[(r.topic, r.partition)] = r.offset
    return tuple(Position(t, p, o + 1) for (t, p), o in sorted(last.items()))


def _pg_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        server = psutil.Process(pid)
        return sum(sum(p.cpu_times()[:2]) for p in [server, *server.children(recursive=True)])
    except psutil.Error:
        return 0.0


async def _timed(name: str, count: int, pg: int | None, run: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    wall, cpu, pg0 = time.perf_counter(), time.process_time(), _pg_cpu(pg)
    await run()
    wall, cpu, pg_cpu = time.perf_counter() - wall, time.process_time() - cpu, _pg_cpu(pg) - pg0
    out = {"events": count, "seconds": round(wall, 3), "per_second": round(count / wall, 1),
           "cpu_us_per_event": round(cpu / count * 1e6, 1), "postgres_cpu_us_per_event": round(pg_cpu / count * 1e6, 1)}
    print(f"{name:<15} {count:>8} events {out['per_second']:>10,.0f}/s   this process"
          f" {out['cpu_us_per_event']:7.1f} µs/event   PostgreSQL {out['postgres_cpu_us_per_event']:7.1f} µs/event",
          flush=True)
    return out


async def _through_intake(intake: Intake, values: Sequence[tuple[bytes, bytes]], batch: int, partitions: int,
                          offsets: dict[int, int]) -> None:
    """Feed submissions to the evidence handler in batches of `batch`, as its consumer would."""
    for start in range(0, len(values), batch):
        records = _records(topics.SUBMISSIONS, values[start:start + batch], partitions, offsets)
        with batch_collection():
            await intake.handle([r.value for r in records], _positions(records), received_from="bench")


async def _through_projector(projector: Projector, values: Sequence[tuple[bytes, bytes]], batch: int,
                             partitions: int, offsets: dict[int, int]) -> None:
    """Feed accepted events to the scoring handler in batches of `batch`."""
    for start in range(0, len(values), batch):
        records = _records(topics.EVIDENCE, values[start:start + batch], partitions, offsets)
        with batch_collection():
            await projector.handle(records, _positions(records))


async def _through_ledger(ledger: Ledger, ledgered: Sequence[tuple[str, bytes]], batch: int) -> None:
    """Feed (topic, value) pairs to the audit handler in batches of `batch`."""
    for start in range(0, len(ledgered), batch):
        with batch_collection():
            await ledger.append([entry_of(t, v) for t, v in ledgered[start:start + batch]], ())


async def _heads(conn: asyncpg.Connection, table: str) -> dict[int, int]:
    """The last position in each partition of a partitioned table (chassis/partitions.py)."""
    return {r["part"]: r["n"] for r in await conn.fetch(f"SELECT part, max(n) AS n FROM {table} GROUP BY part")}


async def _since(conn: asyncpg.Connection, table: str, heads: Mapping[int, int]) -> list[asyncpg.Record]:
    """The rows of a partitioned table past `heads`, in `pos` order (for evidence, the order they were recorded in)."""
    parts = list(range(PARTITIONS))
    return await conn.fetch(
        f"""SELECT t.key, t.value FROM {table} AS t JOIN unnest($1::smallint[], $2::bigint[]) AS h (part, n)
            ON t.part = h.part AND t.n > h.n ORDER BY t.part, t.n""",
        parts, [heads.get(p, 0) for p in parts])


async def _live(stack: Stack, pg: int | None, w: Workload, intake: Intake, projector: Projector, ledger: Ledger,
                offsets: dict[int, int], evidence_offsets: dict[int, int], batch: int, count: int) -> dict[str, Any]:
    """The latency phase's traffic through each stage after the bulk: singly signed realisations spread over
    the employees, in the small batches a consumer fetches at 1,000/s (`batch` records), so every event
    re-appraises an employee whose history is already there."""
    live = [record for _id, _nip, record in w.live(count, "stages")]
    conn = await asyncpg.connect(stack.admin_dsn)
    done = await _heads(conn, "evidence.events")
    results: dict[str, Any] = {"batch": batch}

    results["evidence"] = await _timed("evidence, live", len(live), pg,
                                       lambda: _through_intake(intake, live, batch, stack.partitions, offsets))
    accepted = [(r["key"].encode(), r["value"]) for r in await _since(conn, "evidence.events", done)]
    scored = await _heads(conn, "scoring.outbox")

    results["scoring"] = await _timed("scoring, live", len(accepted), pg, lambda: _through_projector(
        projector, accepted, batch, stack.partitions, evidence_offsets))
    scores = [r["value"] for r in await _since(conn, "scoring.outbox", scored)]
    await conn.close()
    ledgered = [(topics.EVIDENCE, v) for _k, v in accepted] + [(topics.SCORES, v) for v in scores]

    results["audit"] = await _timed("audit, live", len(ledgered), pg, lambda: _through_ledger(ledger, ledgered, batch))
    return results


def evidence_intake(stack: Stack, pool: asyncpg.Pool, verify: VerifyAhead | None = None) -> Intake:
    """The evidence service's intake on `pool`, as its composition root builds it (the stack's keys)."""
    from services.evidence.adapters.pdp_keys import DataKeys, kek_from_text

    return Intake(EvidenceStore(pool), initial_state([stack.admin_key().public_key().public_bytes_raw()]),
                  clock=utc_now, data_keys=DataKeys(pool, kek_from_text(stack.pdp_kek())), verify=verify)


async def through_setup(intake: Intake, stack: Stack, pool: asyncpg.Pool, w: Workload, batch: int,
                        offsets: dict[int, int]) -> None:
    """The workload's setup (sources, units, people, plans) through `intake`, each person's data key made first."""
    from services.evidence.adapters.pdp_keys import DataKeys, kek_from_text

    data_keys = DataKeys(pool, kek_from_text(stack.pdp_kek()))
    public = {nip_of(i): (await data_keys.data_key(nip_of(i))).public_key for i in range(w.employees)}
    for _name, submissions in w.setup_phases(stack.admin_key(), public.__getitem__):
        values = [(s["subject"].encode(), orjson.dumps(s)) for s in submissions]
        await _through_intake(intake, values, batch, stack.partitions, offsets)


async def measure(stack: Stack, events: int, batch: int, live_batch: int = 20, live: int = LIVE_EVENTS,
                  caches: Mapping[str, int] | None = None, verify_threads: int | None = None) -> dict[str, Any]:
    """Prepare a fresh database, run the setup through the intake, then time each stage. `caches` sets the
    scoring caches' bounds (`folded_cache_events`, `parsed_cache_events`: the service's settings; defaults else);
    `verify_threads` the evidence service's (`OBJEKTIF_EVIDENCE_VERIFY_THREADS`; its default else)."""
    verify_threads = DEFAULT_THREADS if verify_threads is None else verify_threads
    await stack.prepare(fresh=True)
    pg = next((int(p.read_text().splitlines()[0]) for p in stack.data_dir.rglob("postmaster.pid")), None)
    pools = {name: await create_pool(with_database(stack.admin_dsn, user=role)) for name, (_m, role, _p)
             in SERVICES.items()}
    if pg is None:  # a server of the environment: its postmaster, when it runs on this machine
        pg = local_postmaster(stack.admin_dsn)
    w = Workload.for_events(events)
    intake = evidence_intake(stack, pools["evidence"], VerifyAhead(verify_threads))
    offsets: dict[int, int] = {}
    await through_setup(intake, stack, pools["evidence"], w, batch, offsets)
    bulk = [record for chunk in w.bulk(limit=events) for record in chunk]
    settle_collector()  # as each service does once it has started
    results: dict[str, Any] = {"employees": w.employees, "batch": batch}

    results["evidence"] = await _timed("evidence", len(bulk), pg,
                                       lambda: _through_intake(intake, bulk, batch, stack.partitions, offsets))
    conn = await asyncpg.connect(stack.admin_dsn)
    accepted = [(r["key"].encode(), r["value"]) for r in await conn.fetch(
        "SELECT key, value FROM evidence.events ORDER BY pos")]
    caches = caches or {}
    store = ScoringStore(pools["scoring"], cache_events=caches.get("parsed_cache_events", DEFAULT_CACHE_EVENTS))
    projector = Projector(store, load_default_policies(),
                          FoldCache(caches.get("folded_cache_events", DEFAULT_FOLDED_EVENTS)))
    evidence_offsets: dict[int, int] = {}

    results["scoring"] = await _timed("scoring", len(accepted), pg, lambda: _through_projector(
        projector, accepted, batch, stack.partitions, evidence_offsets))
    scores = [(r["key"].encode(), r["value"]) for r in await conn.fetch(
        "SELECT key, value FROM scoring.outbox ORDER BY part, n")]
    await conn.close()
    results["scores"] = len(scores)
    ledger = Ledger(pools["audit"])
    ledgered = [(topics.EVIDENCE, v) for _k, v in accepted] + [(topics.SCORES, v) for _k, v in scores]

    results["audit"] = await _timed("audit", len(ledgered), pg, lambda: _through_ledger(ledger, ledgered, batch))
    served = dict(store.served)
    results["scoring"]["served"] = served
    results["live"] = await _live(stack, pg, w, intake, projector, ledger, offsets, evidence_offsets, live_batch, live)
    results["live"]["scoring"]["served"] = {tier: n - served[tier] for tier, n in store.served.items()}
    print(f"scoring served (employees by tier): bulk {served}, live {results['live']['scoring']['served']}")
    for pool in pools.values():
        await pool.close()
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=20_000)
    p.add_argument("--batch", type=int, default=2000, help="records per handler call (batch_max_records)")
    p.add_argument("--live-batch", type=int, default=20,
                   help="records per handler call after the bulk (what a consumer fetches at 1,000/s)")
    p.add_argument("--live", type=int, default=LIVE_EVENTS, help="singly signed realisations after the bulk")
    p.add_argument("--folded-cache-events", type=int, default=DEFAULT_FOLDED_EVENTS,
                   help="scoring's fold cache bound (OBJEKTIF_SCORING_FOLDED_CACHE_EVENTS)")
    p.add_argument("--parsed-cache-events", type=int, default=DEFAULT_CACHE_EVENTS,
                   help="scoring's parsed stream cache bound (OBJEKTIF_SCORING_PARSED_CACHE_EVENTS)")
    p.add_argument("--verify-threads", type=int, default=None,
                   help="evidence Ed25519 threads (OBJEKTIF_EVIDENCE_VERIFY_THREADS; default: the service's, 0)")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    caches = {"folded_cache_events": args.folded_cache_events, "parsed_cache_events": args.parsed_cache_events}
    data_dir = Path(tempfile.mkdtemp(prefix="objektif-stages-"))
    stack = Stack(data_dir, database="objektif_bench_stages")
    try:
        stack.start_infrastructure()
        results = asyncio.run(measure(stack, args.events, args.batch, args.live_batch, args.live, caches,
                                      args.verify_threads))
        results["caches"] = caches
        results["verify_threads"] = DEFAULT_THREADS if args.verify_threads is None else args.verify_threads
    finally:
        stack.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
