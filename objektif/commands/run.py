"""`objektif demo`, `objektif up`, `objektif serve`: running the stack."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from objektif.stack import ENV_DATABASE, ENV_KAFKA, SERVICES, Stack

DataDir = Annotated[Path, typer.Option("--data-dir", help="where the embedded stack keeps its data and logs")]
DEFAULT_DATA_DIR = Path(os.environ.get("OBJEKTIF_DATA_DIR", ".objektif"))
Database = Annotated[str, typer.Option("--database", help="database name on the PostgreSQL server")]


def _terminate_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so `finally` blocks stop what we started (no stray processes)."""

    def handler(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def demo(data_dir: DataDir = DEFAULT_DATA_DIR, database: Database = "objektif", timeout: float = 240.0) -> None:
    """Run the whole pipeline on the Candisari dataset, print the appraisals and the units' curves, then stop."""
    from objektif import candisari
    from objektif.demo import phases
    from objektif.pipeline import publish, wait_until_caught_up
    from objektif.report import print_audit, print_report
    from objektif.sealing import stack_lookup
    from services.evidence.adapters.pdp_keys import kek_from_text

    console = Console(width=None if sys.stdout.isatty() else 160)
    _terminate_on_sigterm()
    stack = Stack(data_dir.resolve(), database=database)
    started = time.monotonic()
    try:
        console.print(f"[bold]Objektif demo[/] — Kecamatan Candisari, periode {candisari.PERIOD}")
        stack.start_infrastructure()
        broker = "environment" if os.environ.get(ENV_KAFKA) else "embedded Tansu"
        console.print(f"  broker   {stack.kafka_bootstrap} ({broker})")
        console.print(f"  database {'environment' if os.environ.get(ENV_DATABASE) else 'embedded PostgreSQL'}"
                      f" ({stack.database}, fresh)")
        asyncio.run(stack.prepare(fresh=True))
        stack.spawn_all()
        data = candisari.build()
        submitted = 0
        for name, submissions in phases(data, stack.admin_key(), stack_lookup(stack)):
            asyncio.run(publish(stack.kafka_bootstrap, submissions))
            submitted += len(submissions)
            done = asyncio.run(wait_until_caught_up(stack.admin_dsn, submitted, timeout=timeout,
                                                    check=stack.check_services))
            console.print(f"  {name:<32} {len(submissions):>5} dikirim · diterima {done.accepted}"
                          f" · ditolak {done.rejected} · dinilai {done.appraisals} · ledger {done.ledgered}")
        print_report(console, stack.admin_dsn, kek_from_text(stack.pdp_kek()))
        if not print_audit(console, stack.admin_dsn, stack.data_dir):
            raise RuntimeError("the audit ledger did not verify or a published result did not replay")
        console.print(f"Selesai dalam {time.monotonic() - started:.1f} s. Data: {data_dir}/ "
                      "(objektif audit … reads it).")
    except KeyboardInterrupt:
        console.print("interrupted: stopping what the demo started")
        raise typer.Exit(130) from None
    except Exception as exc:
        console.print(f"[red]demo failed:[/] {exc}")
        raise typer.Exit(1) from exc
    finally:
        stack.stop()


def up(data_dir: DataDir = DEFAULT_DATA_DIR, database: Database = "objektif",
       demo_data: Annotated[bool | None, typer.Option(
           "--demo/--empty", help="publish the Candisari quarter up to the people's work and print enrolment "
                                  "links for demo people (default on the embedded stack), or start empty")] = None,
       ) -> None:
    """Run the stack (broker, PostgreSQL, the three services) until Ctrl-C; prints how to reach it and, with
    demo data, a few people's enrolment links."""
    _terminate_on_sigterm()
    stack = Stack(data_dir.resolve(), database=database)
    try:
        stack.start_infrastructure()
        asyncio.run(stack.prepare())
        stack.spawn_all()
        print(f"{ENV_KAFKA}={stack.kafka_bootstrap}")
        print(f"{ENV_DATABASE}={stack.admin_dsn}")
        for name, port in sorted(stack.http_ports.items()):
            print(f"{name}: http://127.0.0.1:{port}/  (/healthz /readyz /metrics)")
        base = f"http://127.0.0.1:{stack.http_ports['scoring']}"
        print(f"web page: {base}/ — a token: objektif token --data-dir {data_dir} --role auditor", flush=True)
        embedded = not (os.environ.get(ENV_KAFKA) or os.environ.get(ENV_DATABASE))
        if demo_data if demo_data is not None else embedded:
            _demo_people(stack, base)
        print("Objektif is running; Ctrl-C stops it.", flush=True)
        while True:
            stack.check_services()
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


def _demo_people(stack: Stack, base: str) -> None:
    """Publish the Candisari quarter up to the people's work, then print an enrolment link per demo person."""
    from objektif import candisari
    from objektif.demo_people import demo_people, invite, publish_open_period
    from objektif.pipeline import Progress

    print(f"Data demo: Kecamatan Candisari, periode {candisari.PERIOD} (struktur, rencana SKP, bukti dinas)")

    def report(name: str, sent: int, done: Progress) -> None:
        print(f"  {name:<32} {sent:>5} dikirim · diterima {done.accepted} · ditolak {done.rejected}"
              f" · dinilai {done.appraisals}", flush=True)

    data = asyncio.run(publish_open_period(stack, report=report))
    invitations = asyncio.run(invite(stack.admin_dsn, base, demo_people(data)))
    print("Orang demo: setiap orang membuka tautannya di profil peramban sendiri (kuncinya dibuat dan disimpan di "
          "peramban itu); kode sekali pakai, berlaku sampai "
          f"{invitations[0].expires_at:%Y-%m-%d %H:%M} UTC.")
    for inv in invitations:
        print(f"  {inv.person.role}\n    {inv.person.name} (NIP {inv.person.nip})\n    {inv.link}")
    print(f"Kode lain: objektif enrol --nip NIP --data-dir {stack.data_dir}, atau halaman Administrasi "
          f"({base}/#/admin).", flush=True)


def serve(service: Annotated[str, typer.Argument(help="evidence, scoring or audit")]) -> None:
    """Run one service in the foreground, configured by its environment (OBJEKTIF_<SERVICE>_*)."""
    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}")
    module = SERVICES[service][0]
    os.execv(sys.executable, [sys.executable, "-m", module])  # noqa: S606  (replace this process: signals reach it)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
    app.command("up")(up)
    app.command("serve")(serve)


__all__ = ["register"]
