"""The evidence service's live path with and without Ed25519 checks ahead of the gate, in one process:
`python -m bench.ab_verify_ahead [--events N] [--blocks B] [--per-block K] [--batch S]`.

The product's `Intake` and `EvidenceStore` on a fresh database, set up as `bench.stages` does; then one intake per
variant on that store, and blocks of singly signed realisations, each block through every variant in turn (the
order reversed every other block; each intake folds the others' blocks, untimed, before its own). Separate runs on
this VM differ by more than the effect; alternating blocks in one process do not (docs/performance.md,
"2026-12-08 (morning)").
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.stages import _through_intake, evidence_intake, through_setup
from bench.workload import Workload
from chassis.collector import settle_collector
from chassis.db import create_pool
from objektif.stack import SERVICES, Stack, with_database
from services.evidence.app.verify_ahead import VerifyAhead


async def measure(stack: Stack, events: int, blocks: int, per_block: int, batch: int) -> dict[str, dict[str, float]]:
    await stack.prepare(fresh=True)
    pool = await create_pool(with_database(stack.admin_dsn, user=SERVICES["evidence"][1]))
    try:
        w = Workload.for_events(events)
        offsets: dict[int, int] = {}
        first = evidence_intake(stack, pool)
        await through_setup(first, stack, pool, w, 2000, offsets)
        threads = {"none": 0, "1 thread": 1, "2 threads": 2}
        # one intake per variant on the same store: each folds the others' events before its batches (catch_up)
        verifiers = [VerifyAhead(n) for n in threads.values()]
        intakes = {name: evidence_intake(stack, pool, v) for name, v in zip(threads, verifiers, strict=True)}
        settle_collector()
        totals = {name: [0.0, 0.0, 0] for name in intakes}
        for b in range(blocks):
            for name in list(intakes) if b % 2 == 0 else list(reversed(intakes)):
                live = [record for _id, _nip, record in w.live(per_block, f"ab{b}{name}")]
                await intakes[name].catch_up()  # not timed: the other variants' blocks
                wall, cpu = time.perf_counter(), time.process_time()
                await _through_intake(intakes[name], live, batch, stack.partitions, offsets)
                totals[name][0] += time.perf_counter() - wall
                totals[name][1] += time.process_time() - cpu
                totals[name][2] += len(live)
        for intake_verify in verifiers:
            intake_verify.close()
        return {name: {"per_second": round(n / wall, 1), "cpu_us_per_event": round(cpu / n * 1e6, 1)}
                for name, (wall, cpu, n) in totals.items()}
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ab_verify_ahead", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=5000, help="the workload's size (employees follow from it)")
    p.add_argument("--blocks", type=int, default=10)
    p.add_argument("--per-block", type=int, default=1000)
    p.add_argument("--batch", type=int, default=20, help="records per handler call (live traffic at 1,000/s)")
    args = p.parse_args(argv)
    stack = Stack(Path(tempfile.mkdtemp(prefix="objektif-ab-")), database="objektif_bench_ab")
    try:
        stack.start_infrastructure()
        results = asyncio.run(measure(stack, args.events, args.blocks, args.per_block, args.batch))
    finally:
        stack.stop()
    for name, r in results.items():
        print(f"{name:<10} {r['per_second']:>8,.0f}/s   {r['cpu_us_per_event']:7.1f} µs CPU per event")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
