"""Open objections and their decision deadlines, for superiors and the BKPSDM (REGULATION.md §2.4; issue 4).

Read from the stored appraisal results (their `objection` part, services/scoring/domain/objection.py), so the
list says exactly what the published results say. The results report an overdue decision from event times only;
here a clock is available (the caller passes `today`), so a decision still missing after its due day is overdue
today even when no later event has arrived.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.scoring.app.access import Principal, Role, may_view_appraisal

OPEN = ("filed", "overdue")


@dataclass(frozen=True, slots=True)
class ObjectionRow:
    """One employee-period's objection as a superior or the BKPSDM follows it up."""

    nip: str
    name: str | None
    unit_id: str | None
    period: str
    pejabat_penilai_nip: str | None
    objection_event_id: str | None
    filed_at: str | None
    decision_due: str | None
    status: str  # filed, overdue (by the events or by today), decided
    days_left: int | None  # until the due day; negative when overdue; None once decided
    outcome: str | None
    decision_event_id: str | None
    decided_late: bool
    predikat: str | None

    @property
    def open(self) -> bool:
        """Whether the Atasan Pejabat Penilai has yet to decide."""
        return self.status in OPEN

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "nip": self.nip,
            "name": self.name,
            "unit_id": self.unit_id,
            "period": self.period,
            "pejabat_penilai_nip": self.pejabat_penilai_nip,
            "objection_event_id": self.objection_event_id,
            "filed_at": self.filed_at,
            "decision_due": self.decision_due,
            "status": self.status,
            "days_left": self.days_left,
            "outcome": self.outcome,
            "decision_event_id": self.decision_event_id,
            "decided_late": self.decided_late,
            "predikat": self.predikat,
        }


def objection_row(result: Mapping[str, Any], today: date) -> ObjectionRow | None:
    """The objection row of one appraisal result, judged against `today`; None when it has no objection."""
    objection = result.get("objection")
    if not isinstance(objection, Mapping):
        return None
    status = str(objection.get("status") or "filed")
    due_text = objection.get("decision_due")
    due = date.fromisoformat(due_text) if isinstance(due_text, str) else None
    days_left = None
    if status in OPEN and due is not None:
        days_left = (due - today).days
        if days_left < 0:
            status = "overdue"  # §2.4 Policy: reported, not silently passed
    return ObjectionRow(
        nip=str(result["nip"]),
        name=result.get("name"),
        unit_id=result.get("unit_id"),
        period=str(result["period"]),
        pejabat_penilai_nip=result.get("pejabat_penilai_nip"),
        objection_event_id=objection.get("objection_event_id"),
        filed_at=objection.get("filed_at"),
        decision_due=due_text if isinstance(due_text, str) else None,
        status=status,
        days_left=days_left,
        outcome=objection.get("outcome"),
        decision_event_id=objection.get("decision_event_id"),
        decided_late=bool(objection.get("decided_late")),
        predikat=result.get("predikat"),
    )


def objection_rows(results: Iterable[Mapping[str, Any]], today: date, open_only: bool) -> list[ObjectionRow]:
    """Every result's objection (only the undecided ones when `open_only`), the nearest deadline first."""
    rows = [r for r in (objection_row(result, today) for result in results) if r is not None]
    if open_only:
        rows = [r for r in rows if r.open]
    return sorted(rows, key=lambda r: (not r.open, r.decision_due or "9999", r.nip, r.period))


Chains = Callable[[Iterable[str], str], Awaitable[Mapping[str, Sequence[str]]]]


async def visible_objections(
    results: Sequence[Mapping[str, Any]], chains: Chains, viewer: Principal, today: date, open_only: bool
) -> list[ObjectionRow]:
    """The objections `viewer` may follow: all for an auditor (the BKPSDM), those of the people in his or her
    chain for a superior (the Atasan Pejabat Penilai decides them, §2.4), his or her own for an employee."""
    rows = objection_rows(results, today, open_only)
    if viewer.role is Role.AUDITOR:
        return rows
    shown = []
    by_period: dict[str, list[ObjectionRow]] = {}
    for row in rows:
        by_period.setdefault(row.period, []).append(row)
    for period, of_period in by_period.items():
        chain_of = await chains([r.nip for r in of_period], period)
        shown += [r for r in of_period if may_view_appraisal(viewer, r.nip, chain_of.get(r.nip, ()))]
    return sorted(shown, key=rows.index)
