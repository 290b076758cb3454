"""The read use cases: an appraisal explained, a unit's distribution against its curve, results as of a time,
and the rows of a unit's export. Each checks the viewer's rights (`access`) before it answers.

The unit view and the "as of" view are computed with the scoring core itself (`score_stream`) over the stored
events, so they are exactly what a replay gives (ARCHITECTURE.md, "Deterministic").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from contracts import events as ev
from contracts.envelope import Envelope
from services.scoring.app.access import (
    AccessError,
    Forbidden,
    Principal,
    Role,
    require_appraisal,
    sees_individual_answers,
    superiors_of,
    visible_members,
)
from services.scoring.app.assignments import pejabat_penilai_in_force
from services.scoring.app.explain import explain
from services.scoring.app.objections import visible_objections
from services.scoring.app.siasn import NothingToExport, SiasnRow, Skipped, siasn_rows
from services.scoring.domain import Policy, score_stream


class NotFound(AccessError):
    """Nothing is recorded under this key (HTTP 404)."""


class Reads(Protocol):
    """The port the read use cases need (services/scoring/adapters/read_model.py)."""

    async def appraisal(self, nip: str, period: str) -> dict[str, Any] | None: ...
    async def appraisals(
        self, period: str | None = ..., unit_id: str | None = ...
    ) -> list[dict[str, Any]]: ...
    async def stream(self, nip: str, period: str) -> list[dict[str, Any]]: ...
    async def assignments(self, nips: Iterable[str]) -> list[dict[str, Any]]: ...
    async def unit_stream(self, unit_id: str, members: Sequence[str]) -> list[dict[str, Any]]: ...
    async def unit_members(self, unit_id: str, period: str) -> list[str]: ...
    async def recorded_until(self, as_of: datetime) -> list[dict[str, Any]]: ...
    async def summaries(
        self, *, nip: str | None = ..., appraised_by: str | None = ...
    ) -> list[dict[str, Any]]: ...
    async def units(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One line of a unit's export, in the layout e-Kinerja users know."""

    nip: str
    nama: str | None
    jabatan: str | None
    rating_hasil_kerja: str | None
    rating_perilaku: str | None
    predikat: str | None


class ReadService:
    """The read API's use cases over a `Reads` port and the shipped policies."""

    def __init__(self, reads: Reads, policies: Mapping[str, Policy]) -> None:
        self._reads = reads
        self._policies = policies

    async def chains(self, nips: Iterable[str], period: str, depth: int = 10) -> dict[str, tuple[str, ...]]:
        """Each employee's chain of superiors in `period` (Pejabat Penilai first), walking the structure up."""
        wanted = set(nips)
        known: dict[str, str | None] = {}
        frontier = set(wanted)
        for _ in range(depth):
            frontier -= set(known)
            if not frontier:
                break
            found = pejabat_penilai_in_force(await self._reads.assignments(frontier), period)
            known.update({nip: found.get(nip) for nip in frontier})
            frontier = {pp for pp in found.values() if pp is not None}
        return {nip: superiors_of(nip, known, depth) for nip in wanted}

    async def overview(self, viewer: Principal) -> dict[str, Any]:
        """`GET /api/me`: the viewer's own appraisals, those he or she appraises as Pejabat Penilai (superiors),
        and every unit and period (auditors)."""
        own = await self._reads.summaries(nip=viewer.nip) if viewer.nip else []
        appraisees = (
            await self._reads.summaries(appraised_by=viewer.nip)
            if viewer.role is Role.SUPERIOR and viewer.nip
            else []
        )
        units = (
            await self._reads.units()
            if viewer.role is Role.AUDITOR
            else sorted(
                {(r["unit_id"], r["period"]) for r in own + appraisees if r["unit_id"]},
                key=lambda k: (k[1], k[0]),
                reverse=True,
            )
        )
        if viewer.role is not Role.AUDITOR:
            units = [{"unit_id": u, "period": p} for u, p in units]
        return {"appraisals": own, "appraisees": appraisees, "units": units}

    async def appraisal(self, viewer: Principal, nip: str, period: str) -> dict[str, Any]:
        """`GET /api/appraisals/{nip}/{period}`: the explained appraisal, as the viewer may see it."""
        chain = (await self.chains([nip], period))[nip]
        require_appraisal(viewer, nip, chain)
        result = await self._reads.appraisal(nip, period)
        if result is None:
            raise NotFound(f"no appraisal of {nip} for {period}")
        return {**explain(result, await self._reads.stream(nip, period), viewer), "superiors": list(chain)}

    async def unit(self, viewer: Principal, unit_id: str, period: str) -> dict[str, Any]:
        """`GET /api/units/{unit_id}/{period}`: the distribution of final predicates against the curve of the
        unit's organisation predicate (§1.6, §1.7); members' rows only where the viewer may see them."""
        members = await self._reads.unit_members(unit_id, period)
        if not members:
            raise NotFound(f"no appraisal in unit {unit_id} for {period}")
        chains = await self.chains(members, period)
        visible = visible_members(viewer, members, chains)
        if viewer.role is not Role.AUDITOR and viewer.nip not in members and not visible:
            raise Forbidden(f"{viewer.role.value} {viewer.nip} may not see unit {unit_id}")
        events = [Envelope.model_validate(e) for e in await self._reads.unit_stream(unit_id, members)]
        output = score_stream(events, self._policies)
        summary = next((u for u in output.units if u.unit_id == unit_id and u.period == period), None)
        if summary is None:
            raise NotFound(f"no summary of unit {unit_id} for {period}")
        shown = summary.to_json()
        if not sees_individual_answers(viewer):
            shown["bias"] = None  # per-rater leniency names raters: an auditor's view (§1.4)
        rows = {a.nip: a for a in output.appraisals if a.period == period and a.unit_id == unit_id}
        return {
            **shown,
            "unit_name": _unit_name(events, unit_id),
            "curve_rules": self._curve_rules(summary.policy, summary.org_predicate),
            "members": [_member_row(rows[n].to_json()) for n in visible if n in rows],
            "viewer": {"nip": viewer.nip, "role": viewer.role.value},
        }

    def _curve_rules(
        self, policy_key: tuple[str, str, str], org_predicate: str | None
    ) -> list[dict[str, Any]]:
        policy = next(
            (p for p in self._policies.values() if (p.id, p.version, p.content_hash) == policy_key), None
        )
        if policy is None or policy.permenpanrb is None or org_predicate is None:
            return []
        return [
            {"check": r.check, "labels": list(r.labels), "value": r.value}
            for r in policy.permenpanrb.kurva.rules.get(org_predicate, ())
        ]

    async def as_of(
        self, viewer: Principal, as_of: datetime | None, period: str | None, unit_id: str | None
    ) -> list[dict[str, Any]]:
        """`GET /api/appraisals?as_of=…`: every result (optionally of a period and unit) as it stood with the
        evidence recorded by `as_of`, recomputed by the scoring core; the stored read model when `as_of` is
        None. Auditors only."""
        if viewer.role is not Role.AUDITOR:
            raise Forbidden("results across employees are an auditor's view")
        if as_of is None:
            return await self._reads.appraisals(period, unit_id)
        events = [Envelope.model_validate(e) for e in await self._reads.recorded_until(as_of)]
        results = [a.to_json() for a in score_stream(events, self._policies).appraisals]
        return [
            r
            for r in results
            if (period is None or r["period"] == period) and (unit_id is None or r.get("unit_id") == unit_id)
        ]

    async def objections(self, viewer: Principal, today: date, open_only: bool) -> list[dict[str, Any]]:
        """`GET /api/objections?open=true`: objections with their decision deadlines (§2.4), as far as the viewer
        follows them (services/scoring/app/objections.py); `today` judges a deadline passed without an event."""
        results = [r for r in await self._reads.appraisals() if r.get("objection")]
        return [r.to_json() for r in await visible_objections(results, self.chains, viewer, today, open_only)]

    async def export_rows(self, viewer: Principal, unit_id: str, period: str) -> list[ExportRow]:
        """The rows of a unit's export: every member for an auditor, a superior's own subordinates otherwise."""
        if viewer.role is Role.EMPLOYEE:
            raise Forbidden("an export lists other employees' results: superiors and auditors only")
        members = await self._reads.unit_members(unit_id, period)
        chains = await self.chains(members, period)
        visible = set(visible_members(viewer, members, chains))
        if not visible:
            raise Forbidden(f"nothing in unit {unit_id} is visible to {viewer.role.value} {viewer.nip}")
        results = [r for r in await self._reads.appraisals(period, unit_id) if r["nip"] in visible]
        return [
            ExportRow(
                r["nip"],
                r.get("name"),
                r.get("jabatan"),
                (r.get("rating_hasil_kerja") or {}).get("used"),
                (r.get("rating_perilaku") or {}).get("used"),
                r.get("predikat"),
            )
            for r in results
        ]

    async def siasn_rows(
        self, viewer: Principal, period: str, unit_id: str | None = None
    ) -> tuple[tuple[SiasnRow, ...], tuple[Skipped, ...]]:
        """The SIASN export: each final periodic result that may leave, and those left out with the reason
        (services/scoring/app/siasn.py; every unit of the period when `unit_id` is None, auditors only)."""
        try:
            return await siasn_rows(self._reads, self._policies, self.chains, viewer, period, unit_id)
        except NothingToExport as exc:
            raise NotFound(str(exc)) from exc


def _unit_name(events: Sequence[Envelope], unit_id: str) -> str | None:
    names = [
        e.payload.get("name") for e in events if e.type == ev.UnitRegistered.TYPE and e.subject == unit_id
    ]
    return names[-1] if names else None


def _member_row(result: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "nip": result["nip"],
        "name": result.get("name"),
        "jabatan": result.get("jabatan"),
        "status": result.get("status"),
        "predikat": result.get("predikat"),
        "rating_hasil_kerja": (result.get("rating_hasil_kerja") or {}).get("used"),
        "rating_perilaku": (result.get("rating_perilaku") or {}).get("used"),
    }
