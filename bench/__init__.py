"""Objektif's benchmark suite (issue 7): baselines and the pipeline measured in one run, on its own stack.

`python -m bench` (or `make bench`, `objektif bench`) starts the embedded stack (or uses the servers named by
OBJEKTIF_KAFKA_BOOTSTRAP / OBJEKTIF_DATABASE_URL), measures, and writes JSON and a PNG. See bench/README.md.
Benchmarks measure; they assert nothing (STYLE.md): the tests assert behaviour.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.run import Config


def run_bench(config: Config, json_out: Path | None, plot_out: Path | None,
              log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the benchmark; write its results as JSON to `json_out` and the plot to `plot_out` (when given)."""
    from bench.report import figures, plot, summary
    from bench.run import Run

    results = Run(config, log).execute()
    results["figures"] = [f.to_json() for f in figures(results)]
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(results, indent=1, default=str) + "\n")
        log(f"results: {json_out}")
    if plot_out is not None:
        plot(results, plot_out)
        log(f"plot: {plot_out}")
    log(summary(results))
    return results


__all__ = ["Config", "run_bench"]
