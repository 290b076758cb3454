"""The evidence service's live path with and without Ed25519 checks ahead of the gate, in one process:
`python -m bench.ab_verify_ahead [--events N] [--blocks B] [--per-block K] [--batch S]`.

One intake (the product's `Intake` and `EvidenceStore` on a fresh database), set up as `bench.stages` does; then
blocks of singly signed realisations, each block through every variant in turn (the order reversed every other
block), the variant swapped by giving the intake another `VerifyAhead`. Separate runs on this VM differ by more
than the effect; alternating blocks in one process do not (docs/performance.md, "2026-12-08 (morning)").
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import orjson

from bench.stages import _through_intake
from bench.workload import Workload, nip_of
from chassis.collector import settle_collector
from chassis.db import create_pool
from objektif.stack import SERVICES, Stack, with_database
from services.evidence.adapters.pdp_keys import DataKeys, kek_from_text
from services.evidence.adapters.store import EvidenceStore, utc_now
from services.evidence.app.intake import Intake
from services.evidence.app.verify_ahead import VerifyAhead
from services.evidence.domain import initial_state


async def measure(stack: Stack, events: int, blocks: int, per_block: int, batch: int) -> dict[str, dict[str, float]]:
    await stack.prepare(fresh=True)
    pool = await create_pool(with_database(stack.admin_dsn, user=SERVICES["evidence"][1]))
    try:
        w = Workload.for_events(events)
        admin = stack.admin_key()
        data_keys = DataKeys(pool, kek_from_text(stack.pdp_kek()))
        variants = {"none": None, "1 thread": VerifyAhead(1), "2 threads": VerifyAhead(2)}
        intake = Intake(EvidenceStore(pool), initial_state([admin.public_key().public_bytes_raw()]), clock=utc_now,
                        data_keys=data_keys)
        public = {nip_of(i): (await data_keys.data_key(nip_of(i))).public_key for i in range(w.employees)}
        offsets: dict[int, int] = {}
        for _name, submissions in w.setup_phases(admin, public.__getitem__):
            values = [(s["subject"].encode(), orjson.dumps(s)) for s in submissions]
            await _through_intake(intake, values, 2000, stack.partitions, offsets)
        settle_collector()
        totals = {name: [0.0, 0.0, 0] for name in variants}
        for b in range(blocks):
            for name in list(variants) if b % 2 == 0 else list(reversed(variants)):
                live = [record for _id, _nip, record in w.live(per_block, f"ab{b}{name}")]
                intake._verify = variants[name]  # the benchmark's one reach inside: the same intake, another pool
                wall, cpu = time.perf_counter(), time.process_time()
                await _through_intake(intake, live, batch, stack.partitions, offsets)
                totals[name][0] += time.perf_counter() - wall
                totals[name][1] += time.process_time() - cpu
                totals[name][2] += len(live)
        for verify in variants.values():
            if verify is not None:
                verify.close()
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
