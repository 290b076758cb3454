"""What the SIASN export holds (docs/siasn.md, ADR 0012): per employee, the final periodic result that may leave
Objektif, with the Pejabat Penilai as the structure names him or her.

A result leaves only when its predikat is final (REGULATION.md §1.7: the employee's or the unit's period closed,
or an objection decided, §2.4) and issued (a block-mode kurva may withhold it), with the predikat the unit takes
as final (leniency-corrected where the policy corrects, §1.4); each unit's view is computed with the scoring core
over the stored events, exactly as the unit page computes it. The rater's name, jabatan, golongan and unit come
from the rater's own `employee.assigned` in force at the period's end and the unit's `org.unit.registered`.
Only PermenPANRB 6/2022 results (ratings and a §1.5 predikat) fit SIASN's `kinerjaPeriodik`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from contracts import events as ev
from contracts.envelope import Envelope
from contracts.events import Rating
from services.scoring.app.access import AccessError, Forbidden, Principal, Role, visible_members
from services.scoring.app.assignments import assignments_in_force
from services.scoring.domain import Appraisal, Policy, score_stream

if TYPE_CHECKING:
    from services.scoring.app.read import Reads

#: SIASN's kinerjaPeriodik is periodic: Objektif's quarterly periods (periodikId 2, Triwulanan).
QUARTER = re.compile(r"^[0-9]{4}-Q[1-4]$")
Chains = Callable[[Iterable[str], str], Awaitable[dict[str, tuple[str, ...]]]]


class Unexportable(ValueError):
    """A period SIASN's kinerjaPeriodik does not take (an annual or semester period)."""


class NothingToExport(AccessError):
    """No appraisal is recorded for the unit and period (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class Rater:
    """The Pejabat Penilai as his or her own assignment at the period's end names him or her."""

    nip: str
    name: str | None
    jabatan: str | None
    golongan: str | None
    unit_name: str | None


@dataclass(frozen=True, slots=True)
class SiasnRow:
    """One final result, ready for SIASN's fields (services/scoring/adapters/siasn.py)."""

    nip: str
    period: str
    predikat: str
    rating_hasil_kerja: Rating
    rating_perilaku: Rating
    koefisien_id: str | None
    rater_nip: str | None
    rater: Rater | None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A result the export leaves out, and why."""

    nip: str
    reason: str


async def siasn_rows(
    reads: Reads,
    policies: Mapping[str, Policy],
    chains: Chains,
    viewer: Principal,
    period: str,
    unit_id: str | None = None,
) -> tuple[tuple[SiasnRow, ...], tuple[Skipped, ...]]:
    """The rows of one unit's export (superiors: their subordinates; auditors: everyone), or of every unit of
    the period (`unit_id` None: auditors only), sorted by NIP; and the results left out, with the reason."""
    if not QUARTER.match(period):
        raise Unexportable(f"SIASN's kinerjaPeriodik takes quarterly results (e.g. 2025-Q3), not {period!r}")
    if viewer.role is Role.EMPLOYEE:
        raise Forbidden("an export lists other employees' results: superiors and auditors only")
    if unit_id is None and viewer.role is not Role.AUDITOR:
        raise Forbidden("every unit's results at once: an auditor's export")
    units = [unit_id] if unit_id else sorted({u["unit_id"] for u in await reads.units() if u["period"] == period})
    rows: list[tuple[Appraisal, str, Rating | None]] = []
    skipped: list[Skipped] = []
    for unit in units:
        members = await reads.unit_members(unit, period)
        if unit_id is not None and not members:
            raise NothingToExport(f"no appraisal in unit {unit} for {period}")
        visible = set(visible_members(viewer, members, await chains(members, period)))
        if unit_id is not None and not visible:
            raise Forbidden(f"nothing in unit {unit} is visible to {viewer.role.value} {viewer.nip}")
        found, left = await _unit_rows(reads, policies, unit, period, members, visible)
        rows += found
        skipped += left
    raters = await _raters(reads, {a.pejabat_penilai_nip for a, _p, _r in rows if a.pejabat_penilai_nip}, period)
    out = []
    for a, predikat, perilaku in sorted(rows, key=lambda r: r[0].nip):
        hasil = a.rating_hasil_kerja[2]
        if hasil is None or perilaku is None:
            skipped.append(Skipped(a.nip, "no rating hasil kerja or perilaku used"))
            continue
        koefisien = a.angka_kredit.koefisien_id if a.angka_kredit is not None else None
        rater = raters.get(a.pejabat_penilai_nip or "")
        out.append(SiasnRow(a.nip, period, predikat, hasil, perilaku, koefisien, a.pejabat_penilai_nip, rater))
    return tuple(out), tuple(sorted(skipped, key=lambda s: s.nip))


async def _unit_rows(
    reads: Reads, policies: Mapping[str, Policy], unit: str, period: str, members: list[str], visible: set[str]
) -> tuple[list[tuple[Appraisal, str, Rating | None]], list[Skipped]]:
    """The unit's visible results with the predikat its summary (over every member: the kurva and the leniency
    correction count them all) takes as final, as the unit page computes them."""
    events = [Envelope.model_validate(e) for e in await reads.unit_stream(unit, members)]
    output = score_stream(events, policies)
    summary = next((u for u in output.units if u.unit_id == unit and u.period == period), None)
    final = dict(summary.final_predikat) if summary is not None else {}
    corrected = {c.nip: c for c in (summary.corrected or ())} if summary is not None else {}
    rows, skipped = [], []
    for a in output.appraisals:
        if a.period != period or a.unit_id != unit or a.nip not in visible:
            continue
        if a.policy[0] != "permenpanrb-6-2022":
            skipped.append(Skipped(a.nip, f"scored under {a.policy[0]}: no §1.5 predikat for SIASN"))
        elif a.nip not in final:
            skipped.append(Skipped(a.nip, "predikat not final or not issued yet (§1.7)"))
        else:
            perilaku = corrected[a.nip].rating_perilaku_corrected if a.nip in corrected else a.rating_perilaku[2]
            rows.append((a, final[a.nip], perilaku))
    return rows, skipped


async def _raters(reads: Reads, nips: set[str], period: str) -> dict[str, Rater]:
    """Each Pejabat Penilai's assignment at the period's end, with the name of his or her unit."""
    held = assignments_in_force(await reads.assignments(nips), period) if nips else {}
    names: dict[str, str] = {}
    for unit in sorted({str(p["unit_id"]) for p in held.values() if p.get("unit_id")}):
        registered = [e for e in await reads.unit_stream(unit, []) if e["type"] == ev.UnitRegistered.TYPE
                      and e["subject"] == unit]
        if registered:
            names[unit] = registered[-1]["payload"].get("name")
    return {
        nip: Rater(nip, p.get("name"), p.get("jabatan"), p.get("pangkat_golongan"), names.get(str(p.get("unit_id"))))
        for nip, p in held.items()
    }
