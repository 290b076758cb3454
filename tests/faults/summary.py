"""The figures the fault suite reports: one row per scenario, printed at the end of the pytest session by the
terminal-summary hook in this package's conftest (README: "Reliability")."""

from __future__ import annotations

from dataclasses import dataclass

from tests.faults.invariants import Findings


@dataclass(frozen=True)
class Row:
    """One scenario's figures."""

    scenario: str
    faults: int
    what: str
    submissions: int
    lost: int
    duplicated: int
    mismatches: int
    seconds: float
    note: str = ""


ROWS: list[Row] = []
NOTES: list[str] = []


def record(scenario: str, faults: int, what: str, submissions: int, found: Findings, seconds: float,
           note: str = "") -> None:
    """Add a scenario's row (the invariants were checked over the whole database after it)."""
    ROWS.append(Row(scenario, faults, what, submissions, found.lost, found.duplicated, found.mismatches,
                    seconds, note))


def table() -> list[str]:
    """The summary as Markdown table lines, with a totals row and the notes below."""
    head = ("scenario", "faults injected", "submissions", "lost", "duplicated", "mismatches", "seconds")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in ROWS:
        lines.append(f"| {r.scenario} | {r.faults} ({r.what}) | {r.submissions} | {r.lost} | {r.duplicated} | "
                     f"{r.mismatches} | {r.seconds:.0f} |")
    lines.append(f"| **total: {len(ROWS)} scenarios** | {sum(r.faults for r in ROWS)} | "
                 f"{sum(r.submissions for r in ROWS)} | {sum(r.lost for r in ROWS)} | "
                 f"{sum(r.duplicated for r in ROWS)} | {sum(r.mismatches for r in ROWS)} | "
                 f"{sum(r.seconds for r in ROWS):.0f} |")
    notes = [f"- {r.scenario}: {r.note}" for r in ROWS if r.note] + [f"- {n}" for n in NOTES]
    return [*lines, "", *notes] if notes else lines
