"""`objektif score EVENTS.jsonl [--json]`: score contract events offline with the same pure core the scoring
service and the audit replay use (docs/scoring.md).

Input: one envelope per line, exactly the JSON the services exchange (blank lines are ignored). Output with
`--json`: one JSON document, keys sorted, byte-identical for the same input. A line that is not a valid event
stops everything: each problem goes to stderr with its line number, nothing goes to stdout, exit code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from contracts import pdp
from contracts.envelope import Envelope
from contracts.registry import UnknownEventType, UnsupportedSchemaVersion, parse_payload

EXIT_BAD_INPUT = 2
EXIT_NOT_SCORABLE = 1
_MAX_REPORTED = 20


class BadLine(ValueError):
    """A line of the events file that is not a valid contract event."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line, self.problem = line, problem


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:3]:
        where = ".".join(str(p) for p in item["loc"]) or "(event)"
        parts.append(f"{where}: {item['msg']}")
    more = len(error.errors()) - 3
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def parse_line(number: int, raw: bytes) -> Envelope:
    """One line as a validated envelope whose payload matches its type's contract; raises `BadLine`."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadLine(number, f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadLine(number, f"expected a JSON object (an event envelope), got {type(data).__name__}")
    try:
        envelope = Envelope.model_validate(data)
    except ValidationError as exc:
        raise BadLine(number, f"not a valid envelope: {_describe(exc)}") from None
    try:
        parse_payload(envelope)
    except (UnknownEventType, UnsupportedSchemaVersion) as exc:
        raise BadLine(number, f"{type(exc).__name__}: {exc}") from None
    except ValidationError as exc:
        raise BadLine(number, f"payload does not match {envelope.type}: {_describe(exc)}") from None
    return envelope


def read_events(lines: Iterable[bytes]) -> tuple[tuple[Envelope, ...], tuple[BadLine, ...]]:
    """Every valid envelope and every bad line (1-based numbers) of a JSON Lines input."""
    events: list[Envelope] = []
    errors: list[BadLine] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            events.append(parse_line(number, raw))
        except BadLine as exc:
            errors.append(exc)
    return tuple(events), tuple(errors)


def render_json(document: dict[str, Any]) -> bytes:
    """The output document: sorted keys, two-space indent, trailing newline (byte-identical per input)."""
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def _stderr(message: str) -> None:
    sys.stderr.write(message + "\n")


def _short(rating: str | None) -> str:
    return "-" if rating is None else rating.removesuffix(" Ekspektasi")


def _print_tables(document: dict[str, Any]) -> None:
    console = Console()
    table = Table(title="Appraisals")
    for column in (
        "NIP",
        "Name",
        "Period",
        "Policy",
        "Hasil kerja",
        "Perilaku",
        "Predikat",
        "Nilai",
        "Status",
    ):
        table.add_column(column)
    withheld = {
        (i["nip"], u["period"]) for u in document["units"] if u.get("issued") is False
        for i in u.get("predikat_final", ()) if i["predikat"] is not None and i["predikat_final"] is None
    }  # fmt: skip
    for a in document["appraisals"]:
        hk, beh = a["rating_hasil_kerja"], a["rating_perilaku"]
        diverged = " (!)" if a["divergence"]["hasil_kerja"] or a["divergence"]["perilaku"] else ""
        held = " (withheld)" if (a["nip"], a["period"]) in withheld else ""
        name = "(disegel)" if pdp.is_sealed(a["name"]) else a["name"] or "-"  # sealed (UU PDP): no key offline
        table.add_row(
            a["nip"], name, a["period"], a["policy"]["id"], _short(hk["used"]),
            _short(beh["used"]) + diverged, str(a["predikat"] or "-") + held, str(a["nilai"] or "-"),
            a["status"],
        )  # fmt: skip
    console.print(table)
    units = Table(title="Units")
    for column in (
        "Unit",
        "Period",
        "Org predicate",
        "Predikat counts",
        "Kurva",
        "Offending shares",
        "Alpha",
    ):
        units.add_column(column)
    for u in document["units"]:
        counts = ", ".join(f"{k} {v}" for k, v in u["predikat_counts"].items() if v)
        shares = "; ".join(v["message"] for v in u["kurva"]["violations"])
        alpha = (u["bias"] or {}).get("alpha") or "-"
        units.add_row(
            str(u["unit_id"]), u["period"], str(u["org_predicate"] or "-"), counts or "-",
            u["kurva"]["verdict"] if u["kurva"]["checked"] else "unchecked", shares or "-", alpha,
        )  # fmt: skip
    console.print(units)
    flagged = [u for u in document["units"] if "issued" in u or "bias_correction" in u]
    if flagged:
        issuance = Table(title="Issuance and correction")
        for column in ("Unit", "Period", "Predicates issued", "Leniency correction"):
            issuance.add_column(column)
        for u in flagged:
            issuance.add_row(str(u["unit_id"]), u["period"], _issued(u), _correction(u))
        console.print(issuance)
    for line in unit_notes(document):
        console.print(line, markup=False, highlight=False)


def _issued(unit: dict[str, Any]) -> str:
    """§1.7: `withheld` when a block-mode unit's kurva withholds its final predicates, `yes` when a block-mode
    unit issues them, `-` in warn mode (always issued, nothing to say)."""
    if "issued" not in unit:
        return "-"
    return "yes" if unit["issued"] else "withheld (block)"


def _correction(unit: dict[str, Any]) -> str:
    """§1.4: the leniency correction, when the policy applies it, and how many predikat it changed."""
    if "bias_correction" not in unit:
        return "-"
    changed = sum(1 for c in unit.get("corrected", ()) if c["predikat_uncorrected"] != c["predikat_corrected"])
    return f"{unit['bias_correction']} ({changed} predikat changed)"


def unit_notes(document: dict[str, Any]) -> list[str]:
    """What the tables can only hint at, one line each: a block-mode unit's withheld predicates with the reason
    (§1.7), and each predikat a leniency correction changed (§1.4)."""
    lines = []
    for u in document["units"]:
        name = f"Unit {u['unit_id']} {u['period']}"
        if u.get("issued") is False:
            reasons = sorted({i["reason"] for i in u.get("predikat_final", ()) if i["predikat_final"] is None})
            lines.append(f"{name}: final predicates withheld (kurva block mode, §1.7). " + " | ".join(reasons))
        for c in u.get("corrected", ()):
            if c["predikat_uncorrected"] != c["predikat_corrected"]:
                lines.append(
                    f"{name}: {c['nip']} predikat {c['predikat_uncorrected']} -> {c['predikat_corrected']} "
                    f"after {u['bias_correction']} correction (§1.4)"
                )
    return lines


def score(
    events_file: Annotated[Path, typer.Argument(help="JSON Lines: one event envelope per line; - for stdin")],
    as_json: Annotated[
        bool, typer.Option("--json", help="print one JSON document instead of tables")
    ] = False,
    policy_dir: Annotated[
        Path | None, typer.Option("--policy-dir", help="directory of policy *.yaml files (default: shipped)")
    ] = None,
) -> None:
    """Score contract events offline: appraisals per NIP and period, and per unit the predicate counts,
    the curve verdict and rater bias."""
    from services.scoring.adapters.policy_files import load_default_policies, load_policies
    from services.scoring.domain import score_stream

    try:
        data = sys.stdin.buffer.read() if str(events_file) == "-" else events_file.read_bytes()
    except OSError as exc:
        _stderr(f"objektif score: cannot read {events_file}: {exc.strerror}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    events, errors = read_events(data.splitlines())
    if errors:
        for error in errors[:_MAX_REPORTED]:
            _stderr(f"{events_file}:{error.line}: {error.problem}")
        if len(errors) > _MAX_REPORTED:
            _stderr(f"... and {len(errors) - _MAX_REPORTED} more bad lines")
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        policies = load_policies(policy_dir) if policy_dir is not None else load_default_policies()
        document = score_stream(events, policies).to_json()
    except (ValueError, TypeError, OSError) as exc:
        _stderr(f"objektif score: cannot score {events_file}: {exc}")
        raise typer.Exit(EXIT_NOT_SCORABLE) from None
    if as_json:
        sys.stdout.buffer.write(render_json(document))
        sys.stdout.buffer.flush()
    else:
        _print_tables(document)


def register(app: typer.Typer) -> None:
    """Add `objektif score` to the CLI."""
    app.command("score")(score)


__all__ = ["register"]
