"""Issuing a unit's final predicates under the kurva's `block` mode (REGULATION.md §1.7: "a unit can run in
block mode, where final predicates cannot be issued until resolved").

In `block` mode a violation withholds every final predikat of the unit and period (`issued: false`,
`predikat_final: null`, with a reason naming the violated constraints); once the distribution complies (a
corrected rating, a new organisation predicate) they are issued. In `warn` mode predicates are always issued
and the violation is only reported, so the unit summary carries no issuance entries then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.scoring.domain.kurva import CurveVerdict


@dataclass(frozen=True, slots=True)
class Issuance:
    """One employee in a block-mode unit: the predikat the policy takes as final (corrected when leniency
    correction is on), the one issued (None when withheld or not final yet) and why not."""

    nip: str
    predikat: str | None
    predikat_final: str | None
    reason: str | None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "nip": self.nip,
            "predikat": self.predikat,
            "predikat_final": self.predikat_final,
            "reason": self.reason,
        }


def withheld_reason(curve: CurveVerdict, org_predicate: str | None) -> str:
    """Why a block-mode unit's predicates are withheld: the organisation predicate and each violated rule."""
    rules = "; ".join(f"{v.check} {v.message} (limit {v.limit})" for v in curve.violations)
    return f"withheld: kurva block mode, the distribution breaks §1.7 for org predicate {org_predicate}: {rules}"


def issue(
    members: Sequence[tuple[str, str | None, bool]], curve: CurveVerdict, org_predicate: str | None
) -> tuple[bool, tuple[Issuance, ...]]:
    """(issued, per employee) for `(nip, predikat, final)` members of a unit in block mode (§1.7): nothing is
    issued while the verdict is `block`; an employee without a final predikat has none to issue."""
    issued = curve.verdict != "block"
    reason = None if issued else withheld_reason(curve, org_predicate)
    entries = []
    for nip, predikat, final in members:
        if predikat is None:
            entries.append(Issuance(nip, None, None, "no predikat: a rating is missing"))
        elif not final:
            entries.append(Issuance(nip, predikat, None, "not final yet: the period is not closed"))
        elif issued:
            entries.append(Issuance(nip, predikat, predikat, None))
        else:
            entries.append(Issuance(nip, predikat, None, reason))
    return issued, tuple(entries)
