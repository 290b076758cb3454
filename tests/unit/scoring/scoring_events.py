"""Builders of contract envelopes for the scoring tests: one `Stream` per employee and period, with
deterministic event ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from contracts.envelope import Envelope

NIP_A = "198001012006041001"
NIP_B = "198502022010012002"
NIP_C = "199003032015031003"
ATASAN = "197001012000031001"
REKAN_1 = "198801012012011001"
REKAN_2 = "198901012013011001"
BAWAHAN = "199501012020121001"
UNIT = "dinkes"
WHEN = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
HASH = "sha256:" + "ab" * 32
_NS = uuid.UUID("6f1b2a2e-0000-4000-8000-000000000000")


class Stream:
    """Events of one subject and period, numbered in the order they are built."""

    def __init__(self, subject: str, period: str = "2025", unit: str = UNIT) -> None:
        self.subject, self.period, self.unit = subject, period, unit
        self.count = 0
        self.events: list[Envelope] = []

    def env(
        self, type_: str, payload: dict[str, Any], *, supersedes: Envelope | None = None, **kw: Any
    ) -> Envelope:
        self.count += 1
        event = Envelope(
            event_id=uuid.uuid5(_NS, f"{self.subject}/{self.period}/{self.count}"),
            type=type_,
            occurred_at=WHEN,
            source="test",
            subject=kw.pop("subject", self.subject),
            period=kw.pop("period", self.period),
            payload=payload,
            supersedes=None if supersedes is None else supersedes.event_id,
            sequence=self.count,
            **kw,
        )
        self.events.append(event)
        return event

    def assigned(self, name: str = "Siti Rahma", **kw: Any) -> Envelope:
        payload = {
            "nip": self.subject,
            "name": name,
            "unit_id": self.unit,
            "position_id": "pos-1",
            "jabatan": "Analis Kesehatan",
            "pejabat_penilai_nip": ATASAN,
            "effective_from": "2024-01-02T00:00:00+07:00",
        }
        return self.env("employee.assigned", {**payload, **kw})

    def plan(self, *rhk: dict[str, Any]) -> Envelope:
        return self.env("skp.planned", {"pejabat_penilai_nip": ATASAN, "rhk": list(rhk)})

    def realised(self, iki_id: str, value: str, **kw: Any) -> Envelope:
        evidence = {"source_system": "simpus", "document": f"doc-{iki_id}", "content_hash": HASH}
        return self.env(
            "realisation.recorded", {"iki_id": iki_id, "value": value, "evidence": evidence}, **kw
        )

    def rated(self, rater: str, relation: str, value: str, score: int, **kw: Any) -> Envelope:
        payload = {"rater_nip": rater, "relation": relation, "value": value, "score": score}
        return self.env("behaviour.rated", payload, **kw)

    def rated_all(self, rater: str, relation: str, score: int) -> None:
        for value in VALUES:
            self.rated(rater, relation, value, score)

    def pejabat(
        self, hasil: str | None = None, perilaku: str | None = None, why: str | None = None
    ) -> Envelope:
        payload = {"rater_nip": ATASAN, "rating_hasil_kerja": hasil, "rating_perilaku": perilaku}
        return self.env("rating.pejabat_penilai", {**payload, "justification": why})

    def closed(self) -> Envelope:
        return self.env("period.closed", {"closed_by": ATASAN})


VALUES = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")


def rhk(rhk_id: str, *iki: dict[str, Any], kind: str = "utama", weight: str | None = None) -> dict[str, Any]:
    return {"rhk_id": rhk_id, "title": f"RHK {rhk_id}", "kind": kind, "weight": weight, "iki": list(iki)}


def iki(iki_id: str, low: str, high: str | None = None, direction: str = "higher") -> dict[str, Any]:
    return {
        "iki_id": iki_id,
        "name": f"IKI {iki_id}",
        "target": {"low": low, "high": high or low},
        "unit": "%",
        "direction": direction,
    }


def employee(
    nip: str, capaian: str, behaviour: int, period: str = "2025", closed: bool = True
) -> list[Envelope]:
    """A complete stream: one IKI with target 100 realised at `capaian`, every value rated `behaviour` by the
    atasan."""
    s = Stream(nip, period)
    s.assigned(name=f"Pegawai {nip[-3:]}")
    s.plan(rhk("r1", iki(f"i-{nip[-3:]}", "100")))
    s.realised(f"i-{nip[-3:]}", capaian)
    s.rated_all(ATASAN, "atasan", behaviour)
    if closed:
        s.closed()
    return s.events


def d(value: str) -> Decimal:
    return Decimal(value)
