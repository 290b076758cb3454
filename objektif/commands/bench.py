"""`objektif bench`: the benchmark suite (bench/, issue 7) from the console command.

The suite lives in the repository's `bench` package (it is not part of the service wheel); this command runs it
when the repository is on the path, as in a development checkout (`pip install -e .`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def bench(
    json_out: Annotated[Path, typer.Option("--json", help="where to write the results (JSON)")] = Path(
        "bench/out/results.json"),
    plot_out: Annotated[Path | None, typer.Option("--plot", help="PNG plot (default: beside the JSON)")] = None,
    events: Annotated[int, typer.Option(help="batch-signed submissions in the bulk phase (e.g. 200000)")] = 20_000,
    ratings: Annotated[int, typer.Option(help="singly signed submissions in the one-by-one phase")] = 3_000,
    latency_seconds: Annotated[float, typer.Option(help="duration of the 1k ev/s latency phase")] = 15.0,
    profile: Annotated[Path | None, typer.Option(help="write py-spy profiles of the services here")] = None,
    instances: Annotated[str, typer.Option(help="instances of every service per consumer group: 2, or 1,2 for "
                                           "the bulk and one-by-one phases at each (fresh stacks, 6 partitions)")]
    = "1",
) -> None:
    """Measure baselines and the pipeline in one run on a stack of its own; write JSON and a PNG plot."""
    try:
        from bench import Config, run_bench
        from bench.scale_out import parse_instances
    except ImportError as exc:  # installed from the wheel, without the repository
        raise typer.BadParameter("the bench package is not importable: run from a repository checkout") from exc
    try:
        counts = parse_instances(instances)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    config = Config(events=events, ratings=ratings, latency_seconds=latency_seconds, profile_dir=profile,
                    instances=counts)
    run_bench(config, json_out, plot_out or json_out.with_suffix(".png"), log=typer.echo)


def register(app: typer.Typer) -> None:
    """Add `objektif bench` to the CLI."""
    app.command("bench")(bench)
