"""A small organisation as accepted events, and an in-memory `Reads` over them for the read use cases' tests.

Unit `sd-1` (SD Negeri 1 Candisari), period 2025-Q3, org predicate Baik: the head KEPALA appraises GURU_A and
GURU_B; PENGAWAS appraises KEPALA (so PENGAWAS is GURU_A's Atasan Pejabat Penilai). GURU_A is rated by the head,
by one peer (GURU_B) and by herself; the head's rating differs from the evidence and carries a justification;
the period is closed, the result delivered, and GURU_A objected.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.envelope import NIP_PATTERN, Envelope
from services.scoring.domain import Policy, score_stream

PERIOD = "2025-Q3"
UNIT = "sd-1"
PENGAWAS = "197001012000031001"
KEPALA = "197501012001121002"
GURU_A = "198001012005012003"
GURU_B = "198502022010012004"
OUTSIDER = "199001012015011005"
AT = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
VALUES = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
_NS = uuid.UUID("0e1f5a7c-3b2d-4c6e-8f90-123456789abc")
_NIP = re.compile(NIP_PATTERN)


class Org:
    """Events in acceptance order: each gets the next sequence and a `recorded_at` one hour after the previous."""

    def __init__(self) -> None:
        self.events: list[Envelope] = []

    def add(
        self,
        type_: str,
        subject: str,
        payload: dict[str, Any],
        *,
        source: str = "system.dapodik",
        period: str = PERIOD,
        **extra: Any,
    ) -> Envelope:
        n = len(self.events) + 1
        event = Envelope(
            event_id=uuid.uuid5(_NS, str(n)),
            type=type_,
            occurred_at=AT + timedelta(hours=n),
            recorded_at=AT + timedelta(hours=n),
            source=source,
            subject=subject,
            period=period,
            payload=payload,
            sequence=n,
            **extra,
        )
        self.events.append(event)
        return event

    def assign(self, nip: str, name: str, jabatan: str, penilai: str | None, unit: str = UNIT) -> Envelope:
        return self.add(
            "employee.assigned",
            nip,
            {
                "nip": nip,
                "name": name,
                "unit_id": unit,
                "position_id": f"{unit}.{jabatan.lower()}",
                "jabatan": jabatan,
                "pejabat_penilai_nip": penilai,
                "effective_from": "2025-01-02T00:00:00+07:00",
            },
        )

    def plan(self, nip: str, penilai: str) -> Envelope:
        return self.add(
            "skp.planned",
            nip,
            {
                "pejabat_penilai_nip": penilai,
                "rhk": [
                    {
                        "rhk_id": "rhk-1",
                        "title": "Meningkatnya partisipasi sekolah",
                        "iki": [
                            {
                                "iki_id": "aps",
                                "name": "Angka Partisipasi Sekolah",
                                "target": {"low": "97", "high": "99"},
                                "unit": "%",
                                "direction": "higher",
                            }
                        ],
                    }
                ],
            },
        )

    def realise(self, nip: str, value: str, document: str) -> Envelope:
        return self.add(
            "realisation.recorded",
            nip,
            {
                "iki_id": "aps",
                "value": value,
                "evidence": {
                    "source_system": "dapodik",
                    "document": document,
                    "content_hash": "sha256:" + "cd" * 32,
                },
            },
        )

    def rate_all(self, nip: str, rater: str, relation: str, score: int, feedback: str | None = None) -> None:
        for value in VALUES:
            self.add(
                "behaviour.rated",
                nip,
                {
                    "rater_nip": rater,
                    "relation": relation,
                    "value": value,
                    "score": score,
                    "feedback": feedback,
                },
                source=f"nip:{rater}",
            )


def organisation() -> Org:
    """The organisation described in the module docstring."""
    org = Org()
    org.add("org.unit.registered", UNIT, {"unit_id": UNIT, "name": "SD Negeri 1 Candisari", "kind": "uptd"})
    org.assign(PENGAWAS, "Pengawas Sekolah", "Pengawas", None, unit="dinas")
    org.assign(KEPALA, "Kepala Sekolah", "Kepala", PENGAWAS)
    org.assign(GURU_A, "Ani Guru", "Guru", KEPALA)
    org.assign(GURU_B, "Budi Guru", "Guru", KEPALA)
    org.assign(OUTSIDER, "Orang Lain", "Guru", PENGAWAS, unit="sd-2")
    for nip in (GURU_A, GURU_B, OUTSIDER):
        org.plan(nip, KEPALA if nip != OUTSIDER else PENGAWAS)
    org.realise(GURU_A, "96.00", "https://dapodik.example/aps/a/juli")
    org.realise(GURU_A, "98.50", "https://dapodik.example/aps/a/agustus")
    org.realise(GURU_B, "99.00", "dapodik:aps/b")
    org.realise(OUTSIDER, "90.00", "dapodik:aps/x")
    org.rate_all(GURU_A, KEPALA, "atasan", 3)
    org.rate_all(GURU_A, GURU_B, "rekan", 1, feedback="jawaban rekan yang rahasia")
    org.rate_all(GURU_A, GURU_A, "diri", 3)
    org.rate_all(GURU_B, KEPALA, "atasan", 2)
    org.add(
        "rating.pejabat_penilai",
        GURU_A,
        {
            "rater_nip": KEPALA,
            "rating_hasil_kerja": "Di Atas Ekspektasi",
            "justification": "Memimpin program literasi",
        },
        source=f"nip:{KEPALA}",
    )
    org.add("org.predicate.set", UNIT, {"unit_id": UNIT, "predicate": "Baik", "set_by_nip": PENGAWAS})
    org.add("period.closed", UNIT, {"closed_by": "system.dapodik"})
    org.add("result.delivered", GURU_A, {})
    org.add(
        "objection.filed", GURU_A, {"reasons": "Bukti bulan September belum dihitung"}, source=f"nip:{GURU_A}"
    )
    return org


def body(event: Envelope) -> dict[str, Any]:
    return event.model_dump(mode="json")


class MemoryReads:
    """The `Reads` port over a list of accepted events; appraisals as the projector stores them (score_stream)."""

    def __init__(self, events: Sequence[Envelope], policies: Mapping[str, Policy]) -> None:
        self.bodies = [body(e) for e in events]
        out = score_stream(events, policies)
        self.results = {(a.nip, a.period): a.to_json() for a in out.appraisals}

    async def appraisal(self, nip: str, period: str) -> dict[str, Any] | None:
        return self.results.get((nip, period))

    async def appraisals(self, period: str | None = None, unit_id: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for (_n, p), r in sorted(self.results.items())
            if (period is None or p == period) and (unit_id is None or r.get("unit_id") == unit_id)
        ]

    async def stream(self, nip: str, period: str) -> list[dict[str, Any]]:
        return [b for b in self.bodies if b["subject"] == nip and b["period"] == period]

    async def assignments(self, nips: Iterable[str]) -> list[dict[str, Any]]:
        wanted = set(nips)
        return [b for b in self.bodies if b["type"] == "employee.assigned" and b["subject"] in wanted]

    async def unit_stream(self, unit_id: str, members: Sequence[str]) -> list[dict[str, Any]]:
        return [
            b
            for b in self.bodies
            if b["subject"] in members
            or b["subject"] == unit_id
            or (b["type"] == "policy.adopted" and not _NIP.match(b["subject"]))
        ]

    async def unit_members(self, unit_id: str, period: str) -> list[str]:
        return sorted(n for (n, p), r in self.results.items() if p == period and r.get("unit_id") == unit_id)

    async def recorded_until(self, as_of: datetime) -> list[dict[str, Any]]:
        return [b for b in self.bodies if datetime.fromisoformat(b["recorded_at"]) <= as_of]

    async def summaries(
        self, *, nip: str | None = None, appraised_by: str | None = None
    ) -> list[dict[str, Any]]:
        return [
            {
                "nip": r["nip"],
                "period": r["period"],
                "unit_id": r.get("unit_id"),
                "name": r.get("name"),
                "predikat": r.get("predikat"),
                "status": r.get("status"),
            }
            for r in self.results.values()
            if (nip is None or r["nip"] == nip)
            and (appraised_by is None or r.get("pejabat_penilai_nip") == appraised_by)
        ]

    async def units(self) -> list[dict[str, Any]]:
        keys = sorted({(r["unit_id"], r["period"]) for r in self.results.values() if r.get("unit_id")})
        return [
            {
                "unit_id": u,
                "period": p,
                "employees": sum(
                    1 for r in self.results.values() if (r.get("unit_id"), r["period"]) == (u, p)
                ),
            }
            for u, p in keys
        ]


def with_assignment(events: Sequence[Envelope], nip: str, **fields: Any) -> list[Envelope]:
    """The events with `nip`'s assignments carrying `fields` besides (a jenjang fungsional, a golongan)."""
    return [
        e.model_copy(update={"payload": {**e.payload, **fields}})
        if e.type == "employee.assigned" and e.subject == nip else e
        for e in events
    ]
