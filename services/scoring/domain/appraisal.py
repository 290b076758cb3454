"""The result of appraising one employee for one period, and its JSON form
(REGULATION.md §1.3-§1.5, §2.2, §3).

Every number names the events it used (`evidence_event_ids` per IKI, `basis_event_ids` for the whole, in fold
order) and `basis_hash` is `contracts.canonical.basis_hash` over those ids, so a replay can be compared
exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from contracts.events import Rating
from services.scoring.domain.angka_kredit import AngkaKredit
from services.scoring.domain.behaviour import RaterScore, ValueResult
from services.scoring.domain.hasil import IkiResult, RhkResult
from services.scoring.domain.objection import ObjectionView


def _d(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _r(value: Rating | None) -> str | None:
    return None if value is None else value.value


@dataclass(frozen=True, slots=True)
class Divergence:
    """§1.3/§1.4: where the Pejabat Penilai's rating differs from the objective one, and the justification."""

    hasil_kerja: bool
    perilaku: bool
    justification: str | None
    justification_missing: bool
    note: str | None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "hasil_kerja": self.hasil_kerja,
            "perilaku": self.perilaku,
            "justification": self.justification,
            "justification_missing": self.justification_missing,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Pp30Detail:
    """§2.2: the SKP value (recorded, or computed from the plan), behaviour value, weights, innovation."""

    nilai_skp: Decimal | None
    skp_source: str | None
    nilai_perilaku: Decimal | None
    weight_skp: Decimal
    innovation: bool

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "nilai_skp": _d(self.nilai_skp),
            "skp_source": self.skp_source,
            "nilai_perilaku": _d(self.nilai_perilaku),
            "weights": {"skp": _d(self.weight_skp), "perilaku": _d(1 - self.weight_skp)},
            "innovation": self.innovation,
        }


@dataclass(frozen=True, slots=True)
class Pp46Activity:
    """One PP 46/2011 activity: its aspects (kuantitas, kualitas, waktu, biaya) and capaian."""

    activity_id: str
    name: str
    aspects: tuple[tuple[str, Decimal], ...]
    capaian: Decimal
    event_id: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "activity_id": self.activity_id,
            "name": self.name,
            "aspects": {name: _d(value) for name, value in self.aspects},
            "capaian": _d(self.capaian),
            "event_id": self.event_id,
        }


@dataclass(frozen=True, slots=True)
class Pp46Detail:
    """§3: activities, tugas tambahan and kreativitas, SKP value, behaviour aspects and value, with bands."""

    activities: tuple[Pp46Activity, ...]
    tugas_tambahan: int
    tugas_tambahan_bonus: Decimal
    kreativitas: Decimal
    nilai_skp: Decimal | None
    predikat_skp: str | None
    perilaku: tuple[tuple[str, Decimal], ...]
    nilai_perilaku: Decimal | None
    predikat_perilaku: str | None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "activities": [a.to_json() for a in self.activities],
            "tugas_tambahan": {"count": self.tugas_tambahan, "bonus": _d(self.tugas_tambahan_bonus)},
            "kreativitas": _d(self.kreativitas),
            "nilai_skp": _d(self.nilai_skp),
            "predikat_skp": self.predikat_skp,
            "perilaku": {aspect: _d(value) for aspect, value in self.perilaku},
            "nilai_perilaku": _d(self.nilai_perilaku),
            "predikat_perilaku": self.predikat_perilaku,
        }


@dataclass(frozen=True, slots=True)
class Appraisal:
    """One employee, one period: the ratings, the predikat (or numeric value), and how each was reached."""

    nip: str
    period: str
    evaluation: str
    status: str
    name: str | None
    unit_id: str | None
    jabatan: str | None
    pejabat_penilai_nip: str | None
    policy: tuple[str, str, str]
    iki: tuple[IkiResult, ...]
    rhk: tuple[RhkResult, ...]
    capaian_hasil_kerja: Decimal | None
    rating_hasil_kerja: tuple[Rating | None, Rating | None, Rating | None]
    rating_perilaku: tuple[Rating | None, Rating | None, Rating | None]
    perilaku_score: Decimal | None
    per_value: tuple[ValueResult, ...]
    predikat_computed: str | None
    predikat: str | None
    nilai: Decimal | None
    divergence: Divergence
    objection: ObjectionView | None
    pp30: Pp30Detail | None
    pp46: Pp46Detail | None
    behaviour_scores: tuple[RaterScore, ...]
    basis_event_ids: tuple[str, ...]
    basis_hash: str
    annual_from: tuple[str, ...] = ()
    hasil_kerja_source: str = "evidence"
    #: §1.4: whether the Pejabat Penilai's overall behaviour rating carries a written justification (what
    #: decides, against a leniency-corrected aggregate, which rating is used); not part of the JSON form
    perilaku_justified: bool = False
    #: §5: the angka kredit the predikat earns a jabatan fungsional; None for everyone else (and then the JSON form
    #: has no `angka_kredit` key, so results without a jenjang read exactly as before)
    angka_kredit: AngkaKredit | None = None

    @property
    def final(self) -> bool:
        """Whether the predikat is final: the period is closed for this employee (§1.7), or an objection was
        decided (§2.4, status `final (keberatan)`)."""
        return self.status.startswith("final")

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form: decimals as strings with the policy's fixed places; individual rater answers are
        left out (only aggregates are shown, §1.4); `angka_kredit` only where the result earns credit (§5)."""
        policy_id, version, content_hash = self.policy
        hk_evidence, hk_pp, hk_used = self.rating_hasil_kerja
        p_multi, p_pp, p_used = self.rating_perilaku
        out = {
            "nip": self.nip,
            "period": self.period,
            "evaluation": self.evaluation,
            "status": self.status,
            "name": self.name,
            "unit_id": self.unit_id,
            "jabatan": self.jabatan,
            "pejabat_penilai_nip": self.pejabat_penilai_nip,
            "policy": {"id": policy_id, "version": version, "content_hash": content_hash},
            "iki": [i.to_json() for i in self.iki],
            "rhk": [r.to_json() for r in self.rhk],
            "capaian_hasil_kerja": _d(self.capaian_hasil_kerja),
            "rating_hasil_kerja": {
                "evidence": _r(hk_evidence),
                "source": self.hasil_kerja_source,
                "pejabat_penilai": _r(hk_pp),
                "used": _r(hk_used),
            },
            "rating_perilaku": {
                "multi_rater": _r(p_multi),
                "score": _d(self.perilaku_score),
                "pejabat_penilai": _r(p_pp),
                "used": _r(p_used),
                "per_value": [v.to_json() for v in self.per_value],
            },
            "predikat": self.predikat,
            "predikat_computed": self.predikat_computed,
            "nilai": _d(self.nilai),
            "divergence": self.divergence.to_json(),
            "objection": None if self.objection is None else self.objection.to_json(),
            "pp30": None if self.pp30 is None else self.pp30.to_json(),
            "pp46": None if self.pp46 is None else self.pp46.to_json(),
            "annual_from": list(self.annual_from),
            "basis_event_ids": list(self.basis_event_ids),
            "basis_hash": self.basis_hash,
        }
        if self.angka_kredit is not None:
            out["angka_kredit"] = self.angka_kredit.to_json()
        return out
