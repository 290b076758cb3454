"""Hasil kerja of a stream: the plan's IKI against the realisations recorded with evidence
(REGULATION.md §1.3).
Used by PermenPANRB 6/2022 and, as the SKP value when none is recorded, by PP 30/2019 (§2.2)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from contracts import events as ev
from services.scoring.domain.capaian import capaian_hasil_kerja, capaian_iki, capaian_rhk
from services.scoring.domain.numbers import rounded
from services.scoring.domain.policy import CapaianRules, Rounding
from services.scoring.domain.state import Fact, State

NO_EVIDENCE = "no evidence"


@dataclass(frozen=True, slots=True)
class IkiResult:
    """One IKI: its target, the realisation in force and the event that recorded it, and its capaian."""

    iki_id: str
    rhk_id: str
    name: str
    unit: str
    direction: str
    target_low: Decimal
    target_high: Decimal
    realisasi: Decimal | None
    capaian: Decimal
    evidence_event_ids: tuple[str, ...]
    note: str | None

    def to_json(self) -> dict[str, object]:
        """JSON-ready form (decimals as strings)."""
        return {
            "iki_id": self.iki_id,
            "rhk_id": self.rhk_id,
            "name": self.name,
            "unit": self.unit,
            "direction": self.direction,
            "target": {"low": format(self.target_low, "f"), "high": format(self.target_high, "f")},
            "realisasi": None if self.realisasi is None else format(self.realisasi, "f"),
            "capaian": format(self.capaian, "f"),
            "evidence_event_ids": list(self.evidence_event_ids),
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class RhkResult:
    """One RHK: the mean of its IKI; `utama` results enter the hasil kerja, `tambahan` ones are shown only."""

    rhk_id: str
    title: str
    kind: str
    weight: Decimal | None
    capaian: Decimal

    def to_json(self) -> dict[str, object]:
        """JSON-ready form (decimals as strings)."""
        return {
            "rhk_id": self.rhk_id,
            "title": self.title,
            "kind": self.kind,
            "weight": None if self.weight is None else format(self.weight, "f"),
            "capaian": format(self.capaian, "f"),
        }


@dataclass(frozen=True, slots=True)
class HasilKerja:
    """The plan's results and the weighted capaian hasil kerja, with the events they used."""

    plan_event_id: str | None
    iki: tuple[IkiResult, ...]
    rhk: tuple[RhkResult, ...]
    capaian: Decimal | None
    used: tuple[str, ...]


def latest_plan(state: State) -> Fact[ev.SkpPlanned] | None:
    """The SKP in force: the last plan in fold order (a renegotiated plan replaces the earlier one)."""
    return state.plans[-1] if state.plans else None


def hasil_kerja(state: State, rules: CapaianRules, rounding: Rounding) -> HasilKerja:
    """§1.3: capaian per IKI from the latest realisation of each planned IKI (a realisation states the value
    as of its time, so a later one replaces an earlier); an IKI without any has capaian 0 and says
    "no evidence". Capaian per RHK is the mean of its IKI; hasil kerja the weighted mean over the main RHK."""
    plan = latest_plan(state)
    if plan is None:
        return HasilKerja(None, (), (), None, ())
    # the last realisation of each planned IKI, from the end: a re-appraisal reads back only as far as the
    # latest one of each, not the whole history (the live path's largest own cost under py-spy)
    planned = {iki.iki_id for rhk in plan.payload.rhk for iki in rhk.iki}
    latest: dict[str, Fact[ev.RealisationRecorded]] = {}
    for realisation in reversed(state.realisations):
        iki_id = realisation.payload.iki_id
        if iki_id in planned and iki_id not in latest:
            latest[iki_id] = realisation
            if len(latest) == len(planned):
                break
    iki_results: list[IkiResult] = []
    rhk_results: list[RhkResult] = []
    used = [plan.event_id]
    for rhk in plan.payload.rhk:
        of_rhk: list[Decimal] = []
        for iki in rhk.iki:
            fact = latest.get(iki.iki_id)
            realisasi: Decimal | None = None
            ids: tuple[str, ...] = ()
            note: str | None = NO_EVIDENCE
            if fact is None:
                capaian = rounded(Decimal(0), rounding.places, rounding.mode)
            else:
                realisasi = fact.payload.value
                capaian = capaian_iki(
                    realisasi, iki.target.low, iki.target.high, iki.direction, rules, rounding
                )
                ids, note = (fact.event_id,), None
                used.append(fact.event_id)
            of_rhk.append(capaian)
            iki_results.append(
                IkiResult(
                    iki.iki_id,
                    rhk.rhk_id,
                    iki.name,
                    iki.unit,
                    iki.direction.value,
                    iki.target.low,
                    iki.target.high,
                    realisasi,
                    capaian,
                    ids,
                    note,
                )
            )
        rhk_results.append(
            RhkResult(rhk.rhk_id, rhk.title, rhk.kind, rhk.weight, capaian_rhk(of_rhk, rounding))
        )
    main = [(r.capaian, r.weight) for r in rhk_results if r.kind == "utama"]
    return HasilKerja(
        plan.event_id,
        tuple(iki_results),
        tuple(rhk_results),
        capaian_hasil_kerja(main, rounding),
        tuple(used),
    )
