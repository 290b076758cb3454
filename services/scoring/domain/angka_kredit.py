"""Angka kredit from the predikat kinerja, for jabatan fungsional (REGULATION.md §5; PermenPANRB 1/2023,
PerBKN 3/2023).

credit = Σ months / 12 × koefisien (per jenjang held) × percentage (of the predikat), exact, rounded half up to
2 places at the end only: one division, over exact fractions, so no intermediate step is rounded. Published
example: 2 months, Baik, koefisien 12.5 → 2/12 × 100% × 12.5 = 2.08.

The jenjang comes from evidence: the `employee.assigned` events' `jenjang_fungsional` (the assignment in force
on each month's first day, policy `month_rule`); the koefisien and percentages from the versioned policy file
(`services/scoring/policies/angka-kredit.yaml`). Pure: no clock, no I/O.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts import events as ev
from contracts.envelope import period_year
from services.scoring.domain.numbers import fraction_to_decimal
from services.scoring.domain.predikat import PREDIKAT_ORDER
from services.scoring.domain.state import Fact
from services.scoring.domain.timeline import period_bounds


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Koefisien(_Model):
    """One jenjang's annual koefisien, and the id `objektif export siasn` writes as SIASN's koefisienId."""

    koefisien: Decimal = Field(gt=0)
    siasn_koefisien_id: str = Field(min_length=1, max_length=64)


class AkRounding(_Model):
    """§5 Policy: the places and mode of the one rounding, at the end."""

    places: int = Field(ge=0, le=6)
    mode: Literal["half_up", "half_even"] = "half_up"


class AngkaKreditPolicy(_Model):
    """The angka kredit policy file (§5): percentages per predikat, koefisien per jenjang, the month rule;
    `content_hash` is the SHA-256 of the file's bytes (`services.scoring.domain.policy.load_angka_kredit`)."""

    id: str = Field(min_length=1, max_length=64)
    version: str = Field(min_length=1, max_length=20)
    source: str
    content_hash: str
    rounding: AkRounding
    percentage: dict[str, Decimal]
    month_rule: Literal["held_on_first_day", "held_on_last_day"]
    jenjang: dict[ev.JenjangFungsional, Koefisien]

    @model_validator(mode="after")
    def _every_predikat(self) -> AngkaKreditPolicy:
        if set(self.percentage) != set(PREDIKAT_ORDER):
            raise ValueError(f"percentage must name exactly the five predikat {list(PREDIKAT_ORDER)}")
        return self

    def ref(self) -> dict[str, str]:
        """The policy's identity as results name it."""
        return {"id": self.id, "version": self.version, "content_hash": self.content_hash, "source": self.source}


@dataclass(frozen=True, slots=True)
class Stretch:
    """Consecutive months of the period under one assignment with a jenjang: the evidence for its koefisien."""

    jenjang: ev.JenjangFungsional
    koefisien: Decimal
    first_month: int
    last_month: int
    event_id: str

    @property
    def months(self) -> int:
        """How many months of the period the stretch covers."""
        return self.last_month - self.first_month + 1


def _d(value: Decimal) -> str:
    return format(value.normalize(), "f")


@dataclass(frozen=True, slots=True)
class AngkaKredit:
    """The credit one result earns (§5), with every number that produced it."""

    year: int
    predikat: str
    stretches: tuple[Stretch, ...]
    policy: AngkaKreditPolicy

    @property
    def percentage(self) -> Decimal:
        """The predikat's share of the annual koefisien, in percent."""
        return self.policy.percentage[self.predikat]

    @property
    def exact(self) -> Fraction:
        """Σ months × koefisien × percentage / (12 × 100), as an exact fraction."""
        weighted = sum((Fraction(s.months) * Fraction(s.koefisien) for s in self.stretches), Fraction(0))
        return weighted * Fraction(self.percentage) / 1200

    @property
    def value(self) -> Decimal:
        """The credit, rounded once at the end (policy `rounding`)."""
        return fraction_to_decimal(self.exact, self.policy.rounding.places, self.policy.rounding.mode)

    @property
    def months(self) -> int:
        """The months of the period that earned credit."""
        return sum(s.months for s in self.stretches)

    @property
    def koefisien_id(self) -> str:
        """SIASN's koefisienId of the jenjang held at the end of the period (the last stretch)."""
        return self.policy.jenjang[self.stretches[-1].jenjang].siasn_koefisien_id

    @property
    def event_ids(self) -> tuple[str, ...]:
        """The assignments the jenjang came from, in month order."""
        return tuple(dict.fromkeys(s.event_id for s in self.stretches))

    def formula(self) -> str:
        """The computation with its numbers, as §5 writes it: "2/12 × 100% × 12.5 = 2.08"."""
        pct, value = _d(self.percentage), format(self.value, "f")
        if len(self.stretches) == 1:
            s = self.stretches[0]
            return f"{s.months}/12 × {pct}% × {_d(s.koefisien)} = {value}"
        terms = " + ".join(f"{s.months}/12 × {_d(s.koefisien)}" for s in self.stretches)
        return f"({terms}) × {pct}% = {value}"

    def regraded(self, predikat: str | None) -> AngkaKredit | None:
        """The same months under another predikat (an annual result re-derived by §1.8); None without one."""
        if predikat is None or predikat not in self.policy.percentage:
            return None
        return AngkaKredit(self.year, predikat, self.stretches, self.policy)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form: the value, its exact fraction, the inputs, the formula and the evidence."""
        exact = self.exact
        return {
            "value": format(self.value, "f"),
            "exact": f"{exact.numerator}/{exact.denominator}",
            "predikat": self.predikat,
            "percentage": _d(self.percentage),
            "months": self.months,
            "jenjang": self.stretches[-1].jenjang.value,
            "koefisien_id": self.koefisien_id,
            "stretches": [
                {
                    "jenjang": s.jenjang.value,
                    "koefisien": _d(s.koefisien),
                    "months": s.months,
                    "from": f"{self.year}-{s.first_month:02d}",
                    "to": f"{self.year}-{s.last_month:02d}",
                    "event_id": s.event_id,
                }
                for s in self.stretches
            ],
            "formula": self.formula(),
            "policy": self.policy.ref(),
            "event_ids": list(self.event_ids),
        }


def _in_force(
    assignments: Sequence[Fact[ev.EmployeeAssigned]], day: date
) -> Fact[ev.EmployeeAssigned] | None:
    """The assignment effective latest on or before `day` (ties: the later in fold order), as `assignment_in_force`
    decides for a period's end; None before the first."""
    effective = [f for f in assignments if f.payload.effective_from.date() <= day]
    return max(effective, key=lambda f: (f.payload.effective_from, f.position)) if effective else None


def stretches_of(
    assignments: Sequence[Fact[ev.EmployeeAssigned]], period: str, policy: AngkaKreditPolicy
) -> tuple[Stretch, ...]:
    """The period's months grouped by the assignment in force (policy `month_rule`), kept where that assignment
    names a jenjang the policy has a koefisien for."""
    first, last = period_bounds(period)
    year = period_year(period)
    out: list[Stretch] = []
    for month in range(first.month, last.month + 1):
        day = 1 if policy.month_rule == "held_on_first_day" else calendar.monthrange(year, month)[1]
        fact = _in_force(assignments, date(year, month, day))
        jenjang = fact.payload.jenjang_fungsional if fact is not None else None
        if fact is None or jenjang is None or jenjang not in policy.jenjang:
            continue
        previous = out[-1] if out else None
        if previous is not None and previous.event_id == fact.event_id and previous.last_month == month - 1:
            out[-1] = Stretch(jenjang, previous.koefisien, previous.first_month, month, fact.event_id)
        else:
            out.append(Stretch(jenjang, policy.jenjang[jenjang].koefisien, month, month, fact.event_id))
    return tuple(out)


def angka_kredit(
    assignments: Sequence[Fact[ev.EmployeeAssigned]],
    period: str,
    predikat: str | None,
    policy: AngkaKreditPolicy | None,
) -> AngkaKredit | None:
    """The credit of one result (§5); None without a policy, a predikat, or any month held in a jenjang."""
    if policy is None or predikat is None or predikat not in policy.percentage:
        return None
    stretches = stretches_of(assignments, period, policy)
    return AngkaKredit(period_year(period), predikat, stretches, policy) if stretches else None

