"""`objektif enrol --nip N [--grant admin|auditor] [--base-url URL] [--hours 72]`: a one-time enrolment code
(ADR 0007, docs/people.md), written to `scoring.enrolments` with the administrator's DSN and printed with the link
the person opens (`<base>/#/daftar/<CODE>`: a fragment, so the code never reaches a server log).
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import asyncpg
import typer
from rich.console import Console

from objektif.commands.audit import DEFAULT_DATA_DIR, DatabaseUrl, DataDir, objektif_database

err = Console(stderr=True)
#: Where people reach the scoring service's page (compose publishes it on 8080).
DEFAULT_BASE_URL = os.environ.get("OBJEKTIF_BASE_URL", "http://localhost:8080")


class Grant(StrEnum):
    """What BKPSDM may grant at enrolment."""

    admin = "admin"
    auditor = "auditor"


async def _issue(dsn: str, nip: str, grants: tuple[str, ...], hours: float) -> tuple[str, datetime]:
    from services.scoring.adapters.people_store import issue_code

    conn = await asyncpg.connect(dsn)
    try:
        issued = await issue_code(conn, nip, grants=grants, hours=hours, issued_by=f"cli:{os.environ.get('USER', '?')}",
                                  now=datetime.now(UTC))
    finally:
        await conn.close()
    return issued.code, issued.expires_at


def enrol(
    nip: Annotated[str, typer.Option("--nip", help="the employee's NIP (an assignment of it must be recorded)")],
    grant: Annotated[list[Grant] | None, typer.Option("--grant", help="admin (BKPSDM) or auditor; repeatable")] = None,
    base_url: Annotated[str, typer.Option("--base-url", help="where people open the page")] = DEFAULT_BASE_URL,
    hours: Annotated[float, typer.Option("--hours", min=1, max=24 * 30, help="validity of the code")] = 72.0,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
) -> None:
    """Issue a one-time enrolment code for an employee and print it with its link."""
    from services.scoring.app.people import UnknownNip

    grants = tuple(g.value for g in grant or ())
    with objektif_database(data_dir, database_url) as dsn:
        try:
            code, expires_at = asyncio.run(_issue(dsn, nip, grants, hours))
        except UnknownNip as exc:
            err.print(f"[red]NIP tidak dikenal[/] / unknown NIP: {exc}")
            raise typer.Exit(1) from exc
        except (OSError, asyncpg.PostgresError) as exc:
            err.print(f"[red]Basis data tidak terjangkau[/] / no database at the DSN given: {exc}")
            raise typer.Exit(2) from exc
    print(code)
    print(f"{base_url.rstrip('/')}/#/daftar/{code}")
    err.print(f"berlaku sampai / valid until {expires_at.isoformat(timespec='minutes')}"
              + (f"; hak / grants: {', '.join(grants)}" if grants else ""))


def register(app: typer.Typer) -> None:
    app.command("enrol")(enrol)


__all__ = ["register"]
