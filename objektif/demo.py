"""`objektif demo`: the whole pipeline on the Candisari dataset, end to end, on the embedded stack by default.

Phases follow how the system is used: the administrator registers the sources; BKPSDM's e-Kinerja publishes the
organisation and the SKP plans; departmental systems send a quarter of evidence in signed batches; superiors, peers,
subordinates and the employees themselves rate behaviour one by one; leaders set the units' predicates. Each phase
waits until the evidence service has decided everything sent, because Kafka orders events only within a partition
and a submission may rest on an earlier phase (a key, a superior's assignment).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.signing import b64, public_key_bytes, sign_batch, sign_envelope
from objektif import candisari
from objektif.sealing import sealed

ADMIN_SOURCE = "admin.bkpsdm.semarang"
BATCH = 500


def demo_key(source: str) -> Ed25519PrivateKey:
    """A deterministic key per demo source, so that every demo run produces identical signed bytes.
    (Real sources generate theirs with `objektif keys new` and keep them secret.)"""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"objektif-demo-key:{source}".encode()).digest())


def registrations(data: candisari.Dataset, admin: Ed25519PrivateKey) -> list[dict[str, Any]]:
    """`source.registered` events, signed by the administrator, for every system and person in the dataset."""
    indicators: dict[str, set[str]] = {}
    for person in data.people:
        for _title, iki in person.indicators:
            for k in iki:
                indicators.setdefault(k.source, set()).add(k.iki_id)
    at = candisari.START - timedelta(days=1)
    out = []

    def register(source: str, payload: dict[str, Any]) -> None:
        envelope = {
            "event_id": str(candisari.event_uuid(f"register:{source}")), "type": "source.registered",
            "schema_version": 1, "occurred_at": at.isoformat(), "source": ADMIN_SOURCE, "subject": source,
            "period": candisari.PERIOD,
            "payload": {"source_id": source, "public_key": b64(public_key_bytes(demo_key(source))), **payload},
        }
        out.append(sign_envelope(envelope, admin))

    for system, units in sorted(data.systems.items()):
        register(system, {"kind": "system", "name": system, "units": list(units),
                          "indicators": sorted(indicators.get(system, ()))})
    for person in data.people:
        register(f"nip:{person.nip}", {"kind": "person", "name": person.name, "nip": person.nip})
    return out


def phases(data: candisari.Dataset, admin: Ed25519PrivateKey, data_key: Callable[[str], bytes]
           ) -> list[tuple[str, list[dict[str, Any]]]]:
    """The signed submissions, phase by phase: systems sign in batches, people one by one, each personal field
    sealed first to its employee's data key, `data_key(nip)` (UU PDP, ADR 0010).

    A phase holds what may rest on the phase before it: units top-down (a unit's scope check needs its parent),
    assignments top-down (a Pejabat Penilai is assigned before those he or she appraises), plans before the
    evidence and ratings that refer to them, and the units' predicates and period close last.
    """
    kinds: list[tuple[str, Callable[[str, dict[str, Any]], bool]]] = []
    for depth in range(3):
        kinds.append((f"unit organisasi (tingkat {depth})", lambda t, e, d=depth:
                      t == "org.unit.registered" and data.unit_depth(e["subject"]) == d))
    kinds.append(("jabatan", lambda t, _e: t == "org.position.registered"))
    for depth in range(4):
        kinds.append((f"penugasan pegawai (tingkat {depth})", lambda t, e, d=depth:
                      t == "employee.assigned" and data.person_depth(e["subject"]) == d))
    kinds += [
        ("rencana SKP", lambda t, _e: t == "skp.planned"),
        ("realisasi dan penilaian perilaku", lambda t, _e: t in {"realisation.recorded", "behaviour.rated",
                                                                   "rating.pejabat_penilai", "feedback.given"}),
        ("predikat organisasi, tutup periode", lambda t, _e: t in {"org.predicate.set", "period.closed"}),
        ("penyampaian hasil", lambda t, _e: t == "result.delivered"),
        # one employee's keberatan, in order on its partition (§2.4): filed, explanations, the final decision
        ("keberatan", lambda t, _e: t.startswith("objection.")),
    ]
    out = [("registrasi sumber", registrations(data, admin))]
    placed = 0
    for name, wanted in kinds:
        chosen = [s for s in data.submissions if wanted(s[1]["type"], s[1])]
        placed += len(chosen)
        if chosen:
            out.append((name, _sign(data.systems, [(src, sealed(e, data_key)) for src, e in chosen])))
    if placed != len(data.submissions):
        raise AssertionError(f"{len(data.submissions) - placed} demo submissions fit no phase")
    return out


def _sign(systems: dict[str, Sequence[str]], submissions: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    signed: list[dict[str, Any]] = []
    pending: dict[str, list[dict[str, Any]]] = {}
    for source, envelope in submissions:
        if source in systems:
            pending.setdefault(source, []).append(envelope)
        else:
            signed.append(sign_envelope(envelope, demo_key(source)))
    for source, envelopes in sorted(pending.items()):
        for i in range(0, len(envelopes), BATCH):
            signed.extend(sign_batch(envelopes[i : i + BATCH], demo_key(source)))
    return signed
