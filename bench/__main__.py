"""`python -m bench [--events N] [--json OUT] [--plot OUT.png] …`: see bench/README.md."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from bench import Config, run_bench
from bench.scale_out import parse_instances


def parser() -> argparse.ArgumentParser:
    """The command line; every option maps onto a `bench.Config` field."""
    d = Config()
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--events", type=int, default=d.events, help="batch-signed submissions in the bulk phase "
                   "(200000 and 1000000 for the big runs)")
    p.add_argument("--ratings", type=int, default=d.ratings, help="singly signed submissions, one-by-one phase")
    p.add_argument("--latency-rate", type=float, default=d.latency_rate, help="offered submissions/s")
    p.add_argument("--latency-seconds", type=float, default=d.latency_seconds)
    p.add_argument("--light-rate", type=float, default=d.light_rate, help="a second, light offered load (/s)")
    p.add_argument("--naive-records", type=int, default=d.naive_records)
    p.add_argument("--naive-seconds", type=float, default=d.naive_seconds)
    p.add_argument("--baseline-records", type=int, default=d.baseline_records)
    p.add_argument("--verify-records", type=int, default=d.verify_records)
    p.add_argument("--timeout", type=float, default=d.timeout, help="seconds allowed per phase")
    p.add_argument("--data-dir", type=Path, default=None, help="keep the stack's data and logs here")
    p.add_argument("--profile", type=Path, default=None, help="write py-spy profiles of the services "
                   "(speedscope JSON) for the bulk and one-by-one phases into this directory")
    p.add_argument("--instances", type=_instances, default=d.instances, help="instances of every service per "
                   "consumer group: 2, or 1,2 to measure the setup, bulk and one-by-one phases at each count, each "
                   "on a fresh stack, against the same baselines (6 partitions per topic for all)")
    p.add_argument("--partitions", type=int, default=d.partitions, help="partitions per topic (default: the "
                   "stack's, or 6 with more than one instance)")
    p.add_argument("--json", type=Path, default=Path("bench/out/results.json"), help="results file")
    p.add_argument("--plot", type=Path, default=None, help="PNG (default: beside the JSON)")
    return p


def _instances(text: str) -> tuple[int, ...]:
    try:
        return parse_instances(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    config = Config(events=args.events, ratings=args.ratings, latency_rate=args.latency_rate,
                    latency_seconds=args.latency_seconds, light_rate=args.light_rate, naive_records=args.naive_records,
                    naive_seconds=args.naive_seconds, baseline_records=args.baseline_records,
                    verify_records=args.verify_records, timeout=args.timeout, data_dir=args.data_dir,
                    profile_dir=args.profile, instances=args.instances, partitions=args.partitions)

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # so that the stack's `finally` stops what the run started

    signal.signal(signal.SIGTERM, stop)
    run_bench(config, args.json, args.plot or args.json.with_suffix(".png"), log=lambda m: print(m, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
