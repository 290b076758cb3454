"""The scale-out comparison's figures (issue 17; docs/performance.md, "Scaling out"): `objektif bench
--instances 1,2` measures the pipeline with one and with two instances of every service per consumer group, in
one run; these pure helpers parse the flag and turn each count's measurements into the reported row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Partitions per topic when any count of `Config.instances` is above one: the same for every count, so that
#: one instance and two are compared on the same topics (each of two instances then holds three per topic).
SCALE_OUT_PARTITIONS = 6

#: The processes whose CPU per submission the scale-out comparison reports, and the machine's.
CPU_COLUMNS = ("evidence", "scoring", "audit", "broker", "postgres", "machine_busy")


def parse_instances(text: str) -> tuple[int, ...]:
    """`--instances`: "1" or "1,2" (counts of instances per consumer group, each at least one, no repeats)."""
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"--instances: comma-separated whole numbers, like 1,2 (not {text!r})") from None
    if any(n < 1 for n in counts) or len(set(counts)) != len(counts):
        raise ValueError(f"--instances: each count at least 1, none twice (not {text!r})")
    return counts


def by_service(per_process: Mapping[str, float]) -> dict[str, float]:
    """Sum the figures of a service's instances (`scoring`, `scoring#2`) under the service's name; other
    processes (the broker, PostgreSQL, the machine) as they are."""
    out: dict[str, float] = {}
    for name, value in per_process.items():
        service = name.partition("#")[0]
        out[service] = out.get(service, 0.0) + value
    return out


def micros_per_submission(cpu_seconds: Mapping[str, float], submissions: int) -> dict[str, float]:
    """CPU seconds over a phase as microseconds per submission, rounded to one place."""
    return {k: round(v / submissions * 1e6, 1) if submissions else 0.0 for k, v in cpu_seconds.items()}


def processed_total(exposition: str) -> float:
    """Records an instance consumed and handled so far, all topics (`objektif_events_processed_total` in its
    Prometheus text)."""
    total = 0.0
    for line in exposition.splitlines():
        if line.startswith("objektif_events_processed_total"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def scale_out_row(instances: int, partitions: int, bulk: Mapping[str, Any], single: Mapping[str, Any],
                  copy_upsert_per_second: float, ed25519_per_cpu_second: float) -> dict[str, Any]:
    """One count's figures: submissions/s end to end, the ratios to the run's COPY+upsert baseline (and, one by
    one, to Ed25519 on one core, as the headline figures), and CPU µs per submission per service (its instances
    summed), the broker, PostgreSQL and the machine."""
    row: dict[str, Any] = {"instances": instances, "partitions": partitions}
    for phase, measured in (("bulk", bulk), ("single", single)):
        cpu = {k: measured["cpu_seconds"][k] for k in CPU_COLUMNS if k in measured["cpu_seconds"]}
        row[phase] = {"submissions": measured["submissions"], "per_second": measured["per_second"],
                      "ratio_to_copy_upsert": round(measured["per_second"] / copy_upsert_per_second, 4),
                      "cpu_us_per_submission": micros_per_submission(cpu, measured["submissions"])}
        if phase == "single":
            row[phase]["ratio_to_ed25519"] = round(measured["per_second"] / ed25519_per_cpu_second, 4)
        if "processed_by_instance" in measured:
            row[phase]["processed_by_instance"] = measured["processed_by_instance"]
    return row
