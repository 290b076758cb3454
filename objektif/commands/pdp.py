"""`objektif pdp export|erase`: a person's data under UU 27/2022 PDP (issue 18; ADR 0010, docs/pdp.md).

- `export --nip N --out F`: everything held about or by the person, personal fields opened, each event with its
  ledger leaf and inclusion proof under the latest signed checkpoint (`objektif/pdp.py`); `--verify F` checks such
  a file's proofs with RFC 6962 hashing alone.
- `erase --nip N --reason R`: records an administrator-signed `personal_data.erased` through the evidence intake
  (`--http` or `--bootstrap`), whose acceptance destroys the person's data keys, then reports which stored values
  became unreadable. Refused while any of the person's data is within the retention of
  `services/evidence/policies/pdp-retention.toml`, unless `--override` names the order to erase earlier (recorded
  on the event).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console

from contracts.envelope import NIP_PATTERN
from contracts.signing import sign_envelope
from objektif.commands.audit import DEFAULT_DATA_DIR, DatabaseUrl, DataDir, objektif_database
from objektif.stack import Stack

ENV_KEK = "OBJEKTIF_EVIDENCE_PDP_KEK"
app = typer.Typer(name="pdp", no_args_is_help=True, add_completion=False,
                  help="UU PDP: a person's own copy of his or her data, and erasure when retention ends.")
err = Console(stderr=True, soft_wrap=True)
Nip = Annotated[str, typer.Option("--nip", help="the person's 18-digit NIP")]


def _nip(nip: str) -> str:
    import re

    if not re.fullmatch(NIP_PATTERN, nip):
        raise typer.BadParameter(f"not an 18-digit NIP: {nip!r}", param_hint="--nip")
    return nip


def kek_of(data_dir: Path) -> bytes | None:
    """The operator's key-encryption key (ADR 0010): `OBJEKTIF_EVIDENCE_PDP_KEK`, else the data directory's; None
    when neither is there (then personal values stay sealed)."""
    from services.evidence.adapters.pdp_keys import kek_from_text

    if os.environ.get(ENV_KEK):
        return kek_from_text(os.environ[ENV_KEK])
    path = data_dir.resolve() / "keys" / "pdp.kek"
    return kek_from_text(path.read_text()) if path.exists() else None


def _kek(data_dir: Path) -> bytes:
    kek = kek_of(data_dir)
    if kek is None:
        err.print(f"[red]Tidak ada kunci PDP[/] / no PDP key-encryption key: set {ENV_KEK} or use the data "
                  f"directory the stack ran with ({data_dir.resolve() / 'keys' / 'pdp.kek'} is missing)")
        raise typer.Exit(2)
    return kek


async def _with_keys(dsn: str, kek: bytes, work: Any) -> Any:
    from chassis.db import create_pool
    from services.evidence.adapters.pdp_keys import DataKeys

    pool = await create_pool(dsn)
    try:
        async with pool.acquire() as conn:
            return await work(conn, DataKeys(pool, kek))
    finally:
        await pool.close()


@app.command("export")
def export(nip: Nip, out: Annotated[Path, typer.Option("--out", dir_okay=False, help="the JSON file to write")],
           data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None) -> None:
    """Write everything held about or by the person, with the proof that each event is in the ledger."""
    from objektif.pdp import gather, verify_export

    nip = _nip(nip)
    kek = _kek(data_dir)
    with objektif_database(data_dir, database_url) as dsn:
        doc = asyncio.run(_with_keys(dsn, kek, lambda conn, keys: gather(conn, keys, nip)))
    out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    problems = verify_export(doc)
    err.print(f"{len(doc['events'])} peristiwa / events, {len(doc['results'])} hasil / results → {out}; "
              + ("bukti utuh / proofs verify" if not problems else f"[red]{len(problems)} masalah[/]: {problems[:3]}"))


@app.command("verify")
def verify(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Check an export's proofs: each event's leaf and inclusion proof give the checkpoint's root."""
    from objektif.pdp import verify_export

    problems = verify_export(orjson.loads(file.read_bytes()))
    for p in problems:
        err.print(p)
    if problems:
        raise typer.Exit(1)
    err.print("utuh / every proof gives the checkpoint's root")


@app.command("erase")
def erase(nip: Nip, reason: Annotated[str, typer.Option("--reason", help="why (recorded on the event)")],
          override: Annotated[str | None, typer.Option("--override", help="the order to erase before retention "
                                                                          "ends (e.g. a court order's number)")] = None,
          http: Annotated[str | None, typer.Option("--http", help="evidence service URL (POST /submissions)")] = None,
          bootstrap: Annotated[str | None, typer.Option("--bootstrap", help="Kafka bootstrap")] = None,
          wait: Annotated[float, typer.Option("--wait", min=0)] = 60.0,
          data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None) -> None:
    """Erase the person's personal data: a recorded act; the data keys are destroyed, the ledger still verifies."""
    from objektif.commands.objections import send
    from services.evidence.adapters.pdp_person import Retention, retention_open, unreadable

    nip = _nip(nip)
    kek, retention = _kek(data_dir), Retention.load()
    today = datetime.now(UTC).date()
    with objektif_database(data_dir, database_url) as dsn:
        pending = asyncio.run(_with_keys(dsn, kek, lambda conn, _k: retention_open(conn, nip, retention, today)))
        if pending and not override:
            err.print(f"[red]Masa retensi belum berakhir[/] / retention has not ended for {len(pending)} event(s), "
                      f"the last on {max(e for _i, _t, e in pending)}; give --override with the order to erase now")
            raise typer.Exit(1)
        at = datetime.now(UTC)
        envelope = {"event_id": str(uuid.uuid4()), "type": "personal_data.erased", "schema_version": 1,
                    "occurred_at": at.isoformat(), "source": "admin:objektif", "subject": nip,
                    "period": str(at.year), "payload": {
                        "nip": nip, "reason": reason if not override else f"{reason} (perintah: {override})",
                        "retention": "override" if pending else "ended",
                        "retention_policy_hash": retention.sha256}}
        signed = sign_envelope(envelope, Stack(data_dir.resolve()).admin_key())
        outcome = send(signed, bootstrap, http, wait)
        if outcome.status not in ("accepted", "duplicate"):
            err.print(f"[red]Ditolak[/] / not recorded: {outcome.status} {', '.join(outcome.codes)}")
            raise typer.Exit(1)
        gone = asyncio.run(_with_keys(dsn, kek, lambda conn, keys: unreadable(conn, keys, nip)))
    print(orjson.dumps({"event_id": signed["event_id"], "status": outcome.status,
                        "unreadable": [{"event_id": i, "type": t, "field": f} for i, t, f in gone]}).decode())
    err.print(f"dihapus (UU PDP): {len(gone)} isian tidak dapat dibaca lagi / values no longer readable")


def register(cli: typer.Typer) -> None:
    cli.add_typer(app)


__all__ = ["register"]
