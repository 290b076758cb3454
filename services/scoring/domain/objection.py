"""Keberatan in scoring (REGULATION.md §2.4; issue 4): the objection's state as the stream shows it, and the
stream as the Atasan Pejabat Penilai's decision changes it. Pure: no clock, times come from the events.

- An accepted decision (`diterima`) re-projects the result: modified realisations replace the IKI's realisation
  in force, modified ratings replace the ratings used, and under PermenPANRB 6/2022 the predikat follows from the
  §1.5 matrix (`services.scoring.domain.appraise`). The result before the decision stays visible
  (`objection.original`).
- A decision due date: the filing's day plus the policy's `keberatan.decision_days` (calendar days; §2.4 Policy,
  default 14). A missing decision is reported as `overdue` once an event of the stream is dated after the due
  day. Scoring has no clock, so "now" is the latest event time in the stream: any later event (an explanation,
  a rating, the decision itself) reveals a missed deadline, and that event joins the basis. A reader with a clock
  (`objektif keberatan list`, `GET /api/objections`) compares the due day with today instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from contracts import events as ev
from services.scoring.domain.hasil import IkiResult
from services.scoring.domain.state import Fact, State

#: What a modified realisation carries as its evidence: the decision itself.
DECISION_SOURCE = "keberatan"


@dataclass(frozen=True, slots=True)
class ObjectionView:
    """An objection and its decision, as one result shows them (§2.4)."""

    status: str  # "filed" (awaiting the decision), "overdue" (decision deadline passed), "decided" (final)
    objection_event_id: str | None
    filed_at: datetime | None
    decision_due: date | None
    decision_days: int
    explanations_requested: int
    explanations_given: int
    decision: Fact[ev.ObjectionDecidedV2] | None
    overdue_as_of: datetime | None
    original: dict[str, Any] | None = None

    @property
    def changes_result(self) -> bool:
        """Whether the decision accepted the objection and changed something in the result."""
        return (
            self.decision is not None
            and self.decision.payload.outcome == "diterima"
            and (self.decision.payload.modifies)
        )

    @property
    def decided_late(self) -> bool:
        """Whether the decision came after its due day (§2.4 Policy: reported, not silently passed)."""
        if self.decision is None or self.decision_due is None:
            return False
        return self.decision.occurred_at.date() > self.decision_due

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form: `decision_event_id`, `outcome` and `predikat` as before issue 4, and the rest."""
        d = self.decision.payload if self.decision is not None else None
        return {
            "status": self.status,
            "objection_event_id": self.objection_event_id,
            "filed_at": None if self.filed_at is None else self.filed_at.isoformat(),
            "decision_due": None if self.decision_due is None else self.decision_due.isoformat(),
            "decision_days": self.decision_days,
            "overdue_as_of": None if self.overdue_as_of is None else self.overdue_as_of.isoformat(),
            "explanations": {"requested": self.explanations_requested, "given": self.explanations_given},
            "decision_event_id": None if self.decision is None else self.decision.event_id,
            "decided_at": None if self.decision is None else self.decision.occurred_at.isoformat(),
            "decided_by_nip": None if d is None else d.decided_by_nip,
            "decided_late": self.decided_late,
            "outcome": None if d is None else d.outcome,
            "predikat": None if d is None else d.predikat,
            "modified": None
            if d is None or not d.modifies
            else {
                "rating_hasil_kerja": None
                if d.modified_rating_hasil_kerja is None
                else d.modified_rating_hasil_kerja.value,
                "rating_perilaku": None if d.modified_rating_perilaku is None else d.modified_rating_perilaku.value,
                "realisations": [{"iki_id": m.iki_id, "value": format(m.value, "f")} for m in d.modified_realisations],
            },
            "original": self.original,
        }


def _filing(state: State, decision: Fact[ev.ObjectionDecidedV2] | None) -> Fact[ev.ObjectionFiled] | None:
    """The objection decided, else the first one filed (the gate accepts one per delivered result)."""
    if decision is not None:
        named = [f for f in state.objections if f.event_id == str(decision.payload.objection_event_id)]
        if named:
            return named[0]
    return state.objections[0] if state.objections else None


def objection_view(state: State, decision_days: int) -> tuple[ObjectionView | None, tuple[str, ...]]:
    """The objection of a stream and the events it rests on (filing, explanations, decision, and the event
    that revealed an overdue decision); `(None, ())` when nothing was filed or decided."""
    decision = state.decisions[-1] if state.decisions else None
    filing = _filing(state, decision)
    if filing is None and decision is None:
        return None, ()
    due = None if filing is None else filing.occurred_at.date() + timedelta(days=decision_days)
    requested = sum(1 for f in state.explanations if isinstance(f.payload, ev.ObjectionExplanationRequested))
    used = [f.event_id for f in (filing, decision) if f is not None]
    used += [f.event_id for f in state.explanations]
    status, overdue_as_of = "decided", None
    if decision is None:
        latest = max(state.live(), key=lambda f: (f.occurred_at, f.position))
        status = "filed"
        if due is not None and latest.occurred_at.date() > due:
            status, overdue_as_of = "overdue", latest.occurred_at
            used.append(latest.event_id)
    view = ObjectionView(
        status=status,
        objection_event_id=None if filing is None else filing.event_id,
        filed_at=None if filing is None else filing.occurred_at,
        decision_due=due,
        decision_days=decision_days,
        explanations_requested=requested,
        explanations_given=len(state.explanations) - requested,
        decision=decision,
        overdue_as_of=overdue_as_of,
    )
    return view, tuple(used)


def _decided_realisation(decision: Fact[ev.ObjectionDecidedV2], iki_id: str, value: Decimal) -> Fact[Any]:
    """A realisation set by the decision, as a fact of the decision event (its evidence is the decision)."""
    document = f"objection.decided/{decision.event_id}/{iki_id}"
    digest = hashlib.sha256(f"{document}={format(value, 'f')}".encode()).hexdigest()
    payload = ev.RealisationRecorded(
        iki_id=iki_id,
        value=value,
        evidence=ev.EvidenceReference(
            source_system=DECISION_SOURCE, document=document, content_hash=f"sha256:{digest}"
        ),
        note="ditetapkan oleh keputusan keberatan / set by the objection decision (§2.4)",
    )
    return Fact(decision.event_id, decision.position, decision.subject, decision.period, decision.occurred_at, payload)


def with_decided_realisations(state: State, decision: Fact[ev.ObjectionDecidedV2]) -> State:
    """The state with the decision's modified realisations in force: each replaces its IKI's latest one (§2.4:
    the Atasan "may change and set" the result)."""
    extra = tuple(_decided_realisation(decision, m.iki_id, m.value) for m in decision.payload.modified_realisations)
    return replace(state, realisations=(*state.realisations, *extra)) if extra else state


def original_summary(
    predikat: str | None,
    ratings: tuple[ev.Rating | None, ev.Rating | None],
    capaian: Decimal | None,
    nilai: Decimal | None,
    iki: Sequence[IkiResult],
) -> dict[str, Any]:
    """What the result said before the decision: the predikat, the ratings used (hasil kerja, perilaku), the
    numbers and each IKI's realisation and capaian."""
    return {
        "predikat": predikat,
        "rating_hasil_kerja": None if ratings[0] is None else ratings[0].value,
        "rating_perilaku": None if ratings[1] is None else ratings[1].value,
        "capaian_hasil_kerja": None if capaian is None else format(capaian, "f"),
        "nilai": None if nilai is None else format(nilai, "f"),
        "iki": [
            {
                "iki_id": i.iki_id,
                "realisasi": None if i.realisasi is None else format(i.realisasi, "f"),
                "capaian": format(i.capaian, "f"),
                "evidence_event_ids": list(i.evidence_event_ids),
            }
            for i in iki
        ],
    }
