"""The kurva distribusi: how a unit's predicates may be distributed given its organisation predicate
(REGULATION.md §1.6, §1.7). Shares are compared exactly, as fractions: 7 of 10 is 70%, allowed under 70%."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from services.scoring.domain.policy import CurveCheck, Kurva
from services.scoring.domain.predikat import PREDIKAT_ORDER


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken §1.7 constraint, with the offending share as an exact `count/total` and the limit."""

    check: str
    labels: tuple[str, ...]
    count: int
    total: int
    limit: str
    message: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "check": self.check,
            "labels": list(self.labels),
            "share": f"{self.count}/{self.total}",
            "limit": self.limit,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class CurveVerdict:
    """`ok`, or on any violation the mode in force (`warn` or `block`); `checked` is false when there is no
    organisation predicate, or no employee with a final predicate, to check against."""

    verdict: str
    mode: str
    checked: bool
    violations: tuple[Violation, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "verdict": self.verdict,
            "mode": self.mode,
            "checked": self.checked,
            "violations": [v.to_json() for v in self.violations],
        }


def _check(rule: CurveCheck, counts: Mapping[str, int], total: int) -> Violation | None:
    count = sum(counts.get(label, 0) for label in rule.labels)
    share = Fraction(count, total)
    what = " + ".join(rule.labels)
    if rule.check == "largest":
        rivals = {p: n for p, n in counts.items() if p not in rule.labels and n > count}
        if rivals:
            bigger = ", ".join(f"{p} {n}/{total}" for p, n in sorted(rivals.items()))
            return Violation(
                rule.check,
                rule.labels,
                count,
                total,
                "largest group",
                f"{what} is not the largest group ({bigger})",
            )
        return None
    if rule.check == "min_count":
        if count < rule.limit:
            return Violation(
                rule.check,
                rule.labels,
                count,
                total,
                f"at least {rule.value}",
                f"{what}: {count} employees, needs at least {rule.value}",
            )
        return None
    if rule.check == "at_most" and share > rule.limit:
        return Violation(
            rule.check,
            rule.labels,
            count,
            total,
            f"at most {rule.value}%",
            f"{what} is {count}/{total}, more than {rule.value}%",
        )
    if rule.check == "at_least" and share < rule.limit:
        return Violation(
            rule.check,
            rule.labels,
            count,
            total,
            f"at least {rule.value}%",
            f"{what} is {count}/{total}, less than {rule.value}%",
        )
    return None


def check_curve(
    counts: Mapping[str, int], org_predicate: str | None, kurva: Kurva, mode: str | None = None
) -> CurveVerdict:
    """Check a unit's final predicate counts against the constraints of its organisation predicate (§1.7).

    `mode` (from the `org.predicate.set` event) overrides the policy's default mode.
    """
    mode_in_force = mode or kurva.mode
    total = sum(counts.get(p, 0) for p in PREDIKAT_ORDER)
    if org_predicate is None or total == 0:
        return CurveVerdict("ok", mode_in_force, False, ())
    rules = kurva.rules.get(org_predicate, ())
    violations = tuple(v for v in (_check(r, counts, total) for r in rules) if v is not None)
    return CurveVerdict(mode_in_force if violations else "ok", mode_in_force, True, violations)
