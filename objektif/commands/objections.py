"""`objektif keberatan file|ask|explain|decide|list`: the objection lifecycle from the command line
(REGULATION.md §2.4; issue 4).

`file`, `ask`, `explain` and `decide` build the submission (objektif/objections.py), sign it with the person's key
(`objektif keys new` format) and send it to the evidence service: to `objektif.submissions.v1` (`--bootstrap`) or
`POST /submissions` (`--http`), then say whether the gate accepted it, with its reasons when not. With `--out` the
signed envelope is written instead of sent. With `--receipt FILE --audit-url URL` the accepted event's receipt
(the signed checkpoint and the inclusion proof, from the audit service) is saved: the employee's proof that the
filing, or the decision, is on the record.

`list` shows objections with their decision deadlines from the scoring read model (open ones by default), for
the superiors and the BKPSDM; a decision missing after its due day is marked overdue.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import httpx
import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from contracts.signing import sign_envelope
from objektif import objections as build
from objektif.commands.audit import DEFAULT_DATA_DIR, DatabaseUrl, DataDir, objektif_database
from objektif.commands.keys import load_private_key
from objektif.commands.publish import ENV_BOOTSTRAP, publish_http, publish_kafka
from objektif.publish_answers import Outcome, read_lines
from objektif.sealing import DataKeyOption, EvidenceUrl, NoDataKey, data_key_lookup, parse_data_keys, sealed
from services.scoring.adapters.objections import objection_results
from services.scoring.app.objections import objection_rows

EXIT_REJECTED = 1
EXIT_BAD_INPUT = 2

app = typer.Typer(name="keberatan", no_args_is_help=True, add_completion=False,
                  help="Keberatan (§2.4): file, ask for and give explanations, decide, list open objections.")
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

Key = Annotated[Path, typer.Option("--key", exists=True, dir_okay=False, help="private key (`objektif keys new`)")]
Nip = Annotated[str, typer.Option("--nip", help="your NIP: the person signing")]
Subject = Annotated[str, typer.Option("--subject", help="NIP of the employee who objected")]
Period = Annotated[str, typer.Option("--period", help="the appraisal period, e.g. 2025-Q3")]
At = Annotated[datetime | None, typer.Option("--at", help="when it happened (ISO 8601 with offset; default now)")]
Source = Annotated[str | None, typer.Option("--source", help="source id (default nip:<NIP>)")]
Bootstrap = Annotated[str | None, typer.Option("--bootstrap", envvar=ENV_BOOTSTRAP, help="Kafka bootstrap")]
Http = Annotated[str | None, typer.Option("--http", help="evidence service base URL (POST /submissions)")]
Wait = Annotated[float, typer.Option("--wait", min=0, help="seconds to wait for the gate's answer")]
Out = Annotated[Path | None, typer.Option("--out", dir_okay=False, help="write the signed envelope; send nothing")]
Receipt = Annotated[Path | None, typer.Option("--receipt", dir_okay=False, help="save the ledger receipt here")]
AuditUrl = Annotated[str | None, typer.Option("--audit-url", envvar="OBJEKTIF_AUDIT_URL", help="audit service URL")]


def _when(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    if at.tzinfo is None:
        raise typer.BadParameter("--at needs a UTC offset, e.g. 2025-10-14T09:00:00+07:00")
    return at


def send(signed: dict[str, Any], bootstrap: str | None, http: str | None, wait: float) -> Outcome:
    """Publish one signed envelope and return the gate's answer (`no answer` if none came within `wait`)."""
    lines = read_lines(orjson.dumps(signed))
    if http is not None:
        return publish_http(http, lines, wait, lambda _n: None)[lines[0].number]
    if not bootstrap:
        err.print(f"give --bootstrap (or {ENV_BOOTSTRAP}), --http, or --out")
        raise typer.Exit(EXIT_BAD_INPUT)
    answers = asyncio.run(publish_kafka(bootstrap, lines, wait, lambda _n: None))
    return answers.outcomes(final=True)[lines[0].number]


def fetch_receipt(audit_url: str, event_id: str, wait: float, client: httpx.Client | None = None) -> dict[str, Any]:
    """The event's receipt from the audit service (`GET /receipts/{id}`), asking again while the event is not yet
    ledgered or checkpointed, for at most `wait` seconds."""
    deadline = time.monotonic() + wait
    with client or httpx.Client(base_url=audit_url.rstrip("/"), timeout=30.0) as c:
        while True:
            answer = c.get(f"/receipts/{event_id}")
            if answer.status_code == 200:
                return answer.json()  # type: ignore[no-any-return]
            if answer.status_code not in (404, 409, 503) or time.monotonic() > deadline:
                raise RuntimeError(f"no receipt for {event_id}: HTTP {answer.status_code} {answer.text[:300]}")
            time.sleep(1.0)


def _submit(unsigned: dict[str, Any], key: Path, bootstrap: str | None, http: str | None, wait: float,
            out_file: Path | None, receipt: Path | None, audit_url: str | None,
            data_keys: list[str] | None = None, evidence_url: str | None = None) -> None:
    try:  # UU PDP (ADR 0010): personal fields are sealed to the employee's data key, then signed
        lookup = data_key_lookup(parse_data_keys(data_keys), evidence_url or http)
        signed = sign_envelope(sealed(unsigned, lookup), load_private_key(key))
    except (ValueError, NoDataKey) as exc:
        err.print(f"[red]Tidak dapat disegel[/] / cannot seal: {exc}")
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    if out_file is not None:
        out_file.write_bytes(orjson.dumps(signed) + b"\n")
        out.print(f"{signed['type']} {signed['event_id']} signed → {out_file}")
        return
    outcome = send(signed, bootstrap, http, wait)
    out.print(f"{signed['type']} {signed['event_id']}: {outcome.status}"
              + (f" ({', '.join(outcome.codes)})" if outcome.codes else ""), highlight=False)
    if outcome.status not in ("accepted", "duplicate"):
        raise typer.Exit(EXIT_REJECTED)
    if receipt is not None:
        if audit_url is None:
            err.print("--receipt needs --audit-url (or OBJEKTIF_AUDIT_URL)")
            raise typer.Exit(EXIT_BAD_INPUT)
        found = fetch_receipt(audit_url, str(signed["event_id"]), max(wait, 30.0))
        receipt.write_bytes(orjson.dumps(found, option=orjson.OPT_INDENT_2) + b"\n")
        out.print(f"receipt: leaf {found['leaf_index']} of {found['tree_size']} → {receipt}")


def _checked(build_it: Any) -> dict[str, Any]:
    try:
        return build_it()  # type: ignore[no-any-return]
    except (ValidationError, ValueError) as exc:
        err.print(f"[red]Tidak sah[/] / invalid: {exc}")
        raise typer.Exit(EXIT_BAD_INPUT) from exc


@app.command("file")
def file_objection(key: Key, nip: Nip, period: Period,
                   reasons: Annotated[str, typer.Option("--reasons", help="why you object")],
                   result: Annotated[str | None, typer.Option("--result", help="score event id objected to")] = None,
                   at: At = None, source: Source = None, bootstrap: Bootstrap = None, http: Http = None,
                   wait: Wait = 60.0, out_file: Out = None, receipt: Receipt = None,
                   audit_url: AuditUrl = None, data_key: DataKeyOption = None,
                   evidence_url: EvidenceUrl = None) -> None:
    """File an objection against your delivered result (at most 14 days after delivery)."""
    unsigned = _checked(lambda: build.filing(nip, period, reasons, event_id=uuid.uuid4(), at=_when(at),
                                             result_event_id=uuid.UUID(result) if result else None, source=source))
    _submit(unsigned, key, bootstrap, http, wait, out_file, receipt, audit_url, data_key, evidence_url)


@app.command("ask")
def ask(key: Key, nip: Nip, subject: Subject, period: Period,
        objection: Annotated[str, typer.Option("--objection", help="the objection's event id")],
        from_nip: Annotated[list[str], typer.Option("--from", help="NIP asked (the Pejabat Penilai, the employee)")],
        question: Annotated[str, typer.Option("--question")], at: At = None, source: Source = None,
        bootstrap: Bootstrap = None, http: Http = None, wait: Wait = 60.0, out_file: Out = None,
        data_key: DataKeyOption = None, evidence_url: EvidenceUrl = None) -> None:
    """As the Atasan Pejabat Penilai, ask the Pejabat Penilai and/or the employee to explain."""
    unsigned = _checked(lambda: build.request(nip, subject, period, uuid.UUID(objection), from_nip, question,
                                              event_id=uuid.uuid4(), at=_when(at), source=source))
    _submit(unsigned, key, bootstrap, http, wait, out_file, None, None, data_key, evidence_url)


@app.command("explain")
def explain(key: Key, nip: Nip, subject: Subject, period: Period,
            request: Annotated[str, typer.Option("--request", help="the request's event id")],
            text: Annotated[str, typer.Option("--text", help="your explanation")], at: At = None,
            source: Source = None, bootstrap: Bootstrap = None, http: Http = None, wait: Wait = 60.0,
            out_file: Out = None, data_key: DataKeyOption = None, evidence_url: EvidenceUrl = None) -> None:
    """Give the explanation you were asked for."""
    unsigned = _checked(lambda: build.explanation(nip, subject, period, uuid.UUID(request), text,
                                                  event_id=uuid.uuid4(), at=_when(at), source=source))
    _submit(unsigned, key, bootstrap, http, wait, out_file, None, None, data_key, evidence_url)


@app.command("decide")
def decide(key: Key, nip: Nip, subject: Subject, period: Period,
           objection: Annotated[str, typer.Option("--objection", help="the objection's event id")],
           outcome: Annotated[str, typer.Option("--outcome", help="ditolak (rejected) or diterima (accepted)")],
           reasons: Annotated[str, typer.Option("--reasons")],
           rating_hasil_kerja: Annotated[str | None, typer.Option("--rating-hasil-kerja")] = None,
           rating_perilaku: Annotated[str | None, typer.Option("--rating-perilaku")] = None,
           realisation: Annotated[list[str] | None, typer.Option("--realisation", help="IKI_ID=VALUE")] = None,
           predikat: Annotated[str | None, typer.Option("--predikat", help="set directly (numeric regimes)")] = None,
           at: At = None, source: Source = None, bootstrap: Bootstrap = None, http: Http = None,
           wait: Wait = 60.0, out_file: Out = None, receipt: Receipt = None, audit_url: AuditUrl = None,
           data_key: DataKeyOption = None, evidence_url: EvidenceUrl = None) -> None:
    """As the Atasan Pejabat Penilai, decide an objection (final, §2.4), optionally modifying the result."""
    def built() -> dict[str, Any]:
        modified = dict(build.parse_realisation(r) for r in realisation or ())
        return build.decision(nip, subject, period, uuid.UUID(objection), outcome, reasons, event_id=uuid.uuid4(),
                              at=_when(at), rating_hasil_kerja=rating_hasil_kerja, rating_perilaku=rating_perilaku,
                              realisations=modified, predikat=predikat, source=source)

    _submit(_checked(built), key, bootstrap, http, wait, out_file, receipt, audit_url, data_key, evidence_url)


@app.command("list")
def list_objections(data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None,
                    every: Annotated[bool, typer.Option("--all", help="decided ones too")] = False,
                    today: Annotated[str | None, typer.Option("--today", help="judge deadlines on this day")] = None,
                    json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False) -> None:
    """Objections with their decision deadlines, from the scoring read model (open ones unless --all)."""
    day = date.fromisoformat(today) if today else datetime.now(UTC).date()

    async def load(dsn: str) -> list[dict[str, Any]]:
        conn = await asyncpg.connect(dsn)
        try:
            return await objection_results(conn)
        finally:
            await conn.close()

    with objektif_database(data_dir, database_url) as dsn:
        rows = objection_rows(asyncio.run(load(dsn)), day, open_only=not every)
    if json:
        print(orjson.dumps({"today": day.isoformat(), "objections": [r.to_json() for r in rows]},
                           option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(title=f"Keberatan {'(semua / all)' if every else 'terbuka / open'} — {day.isoformat()}")
    for col in ("NIP", "Nama", "Unit", "Periode", "Diajukan / filed", "Batas keputusan / due", "Sisa hari / left",
                "Status", "Predikat"):
        table.add_column(col, overflow="fold")
    for r in rows:
        status = f"[red]{r.status}[/]" if r.status == "overdue" else r.status
        if r.outcome:
            status += f" ({r.outcome}{', late' if r.decided_late else ''})"
        table.add_row(r.nip, r.name or "", r.unit_id or "", r.period, (r.filed_at or "—")[:10], r.decision_due or "—",
                      "—" if r.days_left is None else str(r.days_left), status, r.predikat or "—")
    out.print(table)


def register(cli: typer.Typer) -> None:
    """Add `objektif keberatan` to the CLI."""
    cli.add_typer(app, name="keberatan")


__all__ = ["fetch_receipt", "register", "send"]
