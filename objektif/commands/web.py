"""`objektif token`, `objektif export`, `objektif asyncapi`: the read API's tokens, a unit's results as a file,
and the AsyncAPI document (issue 5).

- `token` mints a read-API token (services/scoring/app/access.py) with the secret the scoring service checks:
  `OBJEKTIF_SCORING_TOKEN_SECRET`, else the one the embedded stack made in `<data-dir>/keys/token.secret`.
- `export` writes a unit's results for a period as CSV or XLSX (NIP, nama, jabatan, rating hasil kerja, rating
  perilaku, predikat), reading the scoring read model as an auditor would. `export siasn --period P` writes the
  final results of every unit (or of `--unit`) as SIASN `kinerjaPeriodik` records, JSON (docs/siasn.md), with
  SIASN's own employee ids from an operator's `--ids` file.
- `asyncapi` writes contracts/asyncapi.yaml from the three FastStream apps (`--check`: exit 1 on drift).
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from objektif.commands.audit import DEFAULT_DATA_DIR, DatabaseUrl, DataDir, objektif_database

ENV_SECRET = "OBJEKTIF_SCORING_TOKEN_SECRET"  # noqa: S105  (the variable's name, not a secret)
err = Console(stderr=True)


class RoleName(StrEnum):
    """The roles a token may carry."""

    employee = "employee"
    superior = "superior"
    auditor = "auditor"


class Format(StrEnum):
    """Export formats."""

    csv = "csv"
    xlsx = "xlsx"


class Target(StrEnum):
    """Where an export goes, when not to a spreadsheet."""

    siasn = "siasn"


def token_secret(data_dir: Path) -> str:
    """The secret the scoring service checks tokens with: the environment's, else the data directory's."""
    if os.environ.get(ENV_SECRET):
        return os.environ[ENV_SECRET]
    path = data_dir.resolve() / "keys" / "token.secret"
    if not path.exists():
        err.print(
            f"[red]Tidak ada rahasia token[/] / no token secret: set {ENV_SECRET} or run the stack "
            f"(`objektif up`) so that {path} exists"
        )
        raise typer.Exit(2)
    return path.read_text().strip()


def token(
    role: Annotated[RoleName, typer.Option("--role", help="employee, superior or auditor")],
    nip: Annotated[
        str | None, typer.Option("--nip", help="the holder's NIP (optional for an auditor)")
    ] = None,
    hours: Annotated[float, typer.Option("--hours", min=0.01, max=24 * 366, help="validity")] = 12.0,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Mint a read-API token (HMAC-signed NIP, role and expiry) and print it."""
    from services.scoring.app.access import mint_token

    expires = datetime.now(UTC) + timedelta(hours=hours)
    try:
        print(mint_token(nip, role.value, expires, token_secret(data_dir)))
    except ValueError as exc:
        err.print(f"[red]Gagal[/] / failed: {exc}")
        raise typer.Exit(2) from exc


def _opener(pool: Any, kek: bytes | None) -> Any:
    """The sealed personal values' opener (UU PDP, ADR 0010) over the evidence store's keys; None without a KEK."""
    from services.evidence.adapters.pdp_keys import DataKeys

    return None if kek is None else DataKeys(pool, kek).open


async def _export_bytes(dsn: str, unit: str, period: str, fmt: Format, kek: bytes | None) -> tuple[bytes, int]:
    from chassis.db import create_pool
    from services.scoring.adapters.export import to_csv, to_xlsx
    from services.scoring.adapters.pdp_reveal import reveal_fields
    from services.scoring.adapters.policy_files import load_default_policies
    from services.scoring.adapters.read_model import ReadModel
    from services.scoring.app.access import Principal, Role
    from services.scoring.app.read import ReadService

    pool = await create_pool(dsn)
    try:
        service = ReadService(ReadModel(pool), load_default_policies())
        rows = await reveal_fields(await service.export_rows(Principal(None, Role.AUDITOR, 0), unit, period),
                                   "nama", _opener(pool, kek))
    finally:
        await pool.close()
    data = to_csv(rows) if fmt is Format.csv else to_xlsx(rows, f"{unit} {period}")
    return data, len(rows)


async def _siasn_bytes(dsn: str, unit: str | None, period: str, ids: dict[str, str], kek: bytes | None
                       ) -> tuple[bytes, int, list[str]]:
    from chassis.db import create_pool
    from services.scoring.adapters import siasn
    from services.scoring.adapters.pdp_reveal import json_escaped, reveal_in_text
    from services.scoring.adapters.policy_files import load_default_policies
    from services.scoring.adapters.read_model import ReadModel
    from services.scoring.app.access import Principal, Role
    from services.scoring.app.read import ReadService

    pool = await create_pool(dsn)
    try:
        service = ReadService(ReadModel(pool), load_default_policies())
        rows, skipped = await service.siasn_rows(Principal(None, Role.AUDITOR, 0), period, unit)
        text = await reveal_in_text(siasn.to_json(rows, ids).decode(), _opener(pool, kek), json_escaped)
    finally:
        await pool.close()
    return text.encode(), len(rows), [f"{s.nip}: {s.reason}" for s in skipped]


def _siasn_ids(path: Path | None) -> dict[str, str]:
    from services.scoring.adapters.siasn import IdsFileError, read_ids

    if path is None:
        return {}
    try:
        return read_ids(path.read_bytes())
    except (OSError, IdsFileError) as exc:
        err.print(f"[red]Berkas id SIASN tidak terbaca[/] / cannot read the SIASN id file {path}: {exc}")
        raise typer.Exit(2) from exc


def export(
    period: Annotated[str, typer.Option("--period", help="e.g. 2025-Q3")],
    target: Annotated[
        Target | None, typer.Argument(help="siasn: SIASN kinerjaPeriodik records (JSON); omit for --format")
    ] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="the unit id (siasn: default every unit)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="the file to write (siasn: default stdout)")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="csv or xlsx")] = Format.csv,
    ids: Annotated[
        Path | None, typer.Option("--ids", help="siasn: NIP→SIASN id file (JSON object, or CSV lines NIP,id)")
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
) -> None:
    """Write a unit's results for a period as CSV or XLSX, in the columns e-Kinerja users expect; or, with
    `siasn`, the period's final results as SIASN kinerjaPeriodik records (docs/siasn.md)."""
    from objektif.commands.pdp import kek_of
    from services.scoring.app.access import AccessError
    from services.scoring.app.siasn import Unexportable

    if target is None and (unit is None or out is None):
        err.print("[red]Kurang opsi[/] / missing options: csv and xlsx need --unit and --out")
        raise typer.Exit(2)
    mapping = _siasn_ids(ids) if target is Target.siasn else {}
    if kek_of(data_dir) is None:
        err.print("Nama disegel (UU PDP) dan tidak dapat dibuka tanpa kunci operator / names are sealed and read "
                  "'tidak dapat dibuka sekarang' without the operator's key: give --data-dir of the stack or "
                  "OBJEKTIF_EVIDENCE_PDP_KEK")
    skipped: list[str] = []
    with objektif_database(data_dir, database_url) as dsn:
        try:
            if target is Target.siasn:
                data, count, skipped = asyncio.run(_siasn_bytes(dsn, unit, period, mapping, kek_of(data_dir)))
            else:
                assert unit is not None
                data, count = asyncio.run(_export_bytes(dsn, unit, period, fmt, kek_of(data_dir)))
        except Unexportable as exc:
            err.print(f"[red]Periode tidak dapat diekspor[/] / period not exportable: {exc}")
            raise typer.Exit(2) from exc
        except AccessError as exc:
            err.print(f"[red]Tidak ada hasil[/] / nothing to export: {exc}")
            raise typer.Exit(1) from exc
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        out.write_bytes(data)
    for line in skipped:
        err.print(f"dilewati / left out {line}", markup=False, highlight=False)
    err.print(f"{count} pegawai / employees → {out or 'stdout'}")


def asyncapi(
    check: Annotated[bool, typer.Option("--check", help="exit 1 when the file drifted")] = False,
) -> None:
    """Write contracts/asyncapi.yaml from the three FastStream apps."""
    from objektif.asyncapi import main

    code = main(["--check"] if check else [])
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("token")(token)
    app.command("export")(export)
    app.command("asyncapi")(asyncapi)


__all__ = ["register"]
