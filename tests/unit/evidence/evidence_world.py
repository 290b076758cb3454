"""A small organisation for the gate's tests, built the only way state is built: through signed submissions.

Units: pemkot ⊃ dinkes ⊃ puskesmas-a, and pemkot ⊃ disdik.
People: KADIS heads dinkes; KAPUS (rated by KADIS) heads puskesmas-a; STAFF1 and STAFF2 work there, rated by
KAPUS; GURU works in disdik. Sources: the HR system `sys:simpeg` (all of pemkot, no indicators), the health
system `sys:sikda` (dinkes, measures iki-imunisasi and iki-kunjungan), the education system `sys:dapodik`
(disdik, iki-apm), and one person source `nip:<NIP>` per employee.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from contracts import pdp
from contracts.signing import b64, public_key_bytes, sign_batch, sign_envelope
from services.evidence.domain import (
    Accepted,
    Decision,
    IntakeState,
    Rejected,
    SeenEvent,
    decide,
    decide_batch_and_evolve,
    evolve,
    initial_state,
)

WIB = timezone(timedelta(hours=7))
T0 = datetime(2025, 1, 2, 8, 0, tzinfo=WIB)

KADIS = "197001011990031001"
KAPUS = "197502022000032002"
STAFF1 = "198503032010011003"
STAFF2 = "198804042012012004"
GURU = "199005052015031005"
STRANGER = "199906062020121006"
PEOPLE = (KADIS, KAPUS, STAFF1, STAFF2, GURU)


def key(n: int) -> Ed25519PrivateKey:
    """A fixed test key: the 32-byte seed is the byte `n` repeated."""
    return Ed25519PrivateKey.from_private_bytes(bytes([n]) * 32)


ADMIN = key(1)
SIMPEG = key(2)
SIKDA = key(3)
DAPODIK = key(4)
PERSON_KEYS = {nip: key(10 + i) for i, nip in enumerate(PEOPLE)}


def person(nip: str) -> str:
    return f"nip:{nip}"


@dataclass
class World:
    """The gate's state plus a clock and an event-id counter; `submit` signs, decides and evolves. `known` is
    what the evidence store would answer for accepted event ids (duplicates, supersession)."""

    state: IntakeState
    now: datetime = T0
    counter: int = 0
    accepted: list[Accepted] = field(default_factory=list)
    known: dict[UUID, SeenEvent] = field(default_factory=dict)
    #: each person's data key (ADR 0010), as the evidence service would hold them; `submit` seals to them
    data_keys: dict[str, X25519PrivateKey] = field(default_factory=dict)

    def data_key(self, nip: str) -> X25519PrivateKey:
        seed = bytes([200]) * 31 + bytes([len(self.data_keys)])  # fixed, distinct per person
        return self.data_keys.setdefault(nip, X25519PrivateKey.from_private_bytes(seed))

    @property
    def sealed_to(self) -> dict[str, frozenset[str]]:
        return {nip: frozenset({pdp.kid_of(pdp.raw_public(k))}) for nip, k in self.data_keys.items()}

    def sealed(self, envelope: Mapping[str, Any]) -> dict[str, Any]:
        """The envelope with its personal fields sealed to the subject's data key, as a producer must."""
        return pdp.seal_payload(dict(envelope), pdp.raw_public(self.data_key(str(envelope["subject"]))))

    def key_directory(self) -> WorldKeys:
        """The world's data keys as the intake's port (`current_kids`), for tests of the Intake."""
        return WorldKeys(self)

    def next_id(self) -> UUID:
        self.counter += 1
        return UUID(int=self.counter)

    def envelope(
        self,
        type_: str,
        subject: str,
        payload: Mapping[str, Any],
        *,
        source: str,
        period: str = "2025",
        occurred_at: datetime | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        return {
            "event_id": str(self.next_id()),
            "type": type_,
            "schema_version": 1,
            "occurred_at": (occurred_at or self.now).isoformat(),
            "source": source,
            "subject": subject,
            "period": period,
            "payload": dict(payload),
            **extra,
        }

    def decide_raw(self, raw: bytes) -> Decision:
        decision = decide(raw, self.state, received_at=self.now, received_from="test", known=self.known,
                          sealed_to=self.sealed_to)
        if isinstance(decision, Accepted):
            self.state = evolve(self.state, decision.envelope)
            self.accepted.append(decision)
            self.known[decision.envelope.event_id] = SeenEvent.of(decision.envelope)
        return decision

    def submit(self, envelope: Mapping[str, Any], signer: Ed25519PrivateKey) -> Decision:
        return self.decide_raw(orjson.dumps(sign_envelope(self.sealed(envelope), signer)))

    def submit_batch(
        self, envelopes: list[dict[str, Any]], signer: Ed25519PrivateKey
    ) -> tuple[Decision, ...]:
        raws = [orjson.dumps(e) for e in sign_batch([self.sealed(e) for e in envelopes], signer)]
        decisions, self.state = decide_batch_and_evolve(
            raws, self.state, received_at=self.now, received_from="test", known=self.known,
            sealed_to=self.sealed_to,
        )
        for d in decisions:
            if isinstance(d, Accepted):
                self.accepted.append(d)
                self.known[d.envelope.event_id] = SeenEvent.of(d.envelope)
        return decisions

    def must_accept(self, envelope: Mapping[str, Any], signer: Ed25519PrivateKey) -> Accepted:
        decision = self.submit(envelope, signer)
        assert isinstance(decision, Accepted), decision
        return decision

    def register(self, source_id: str, kind: str, signer: Ed25519PrivateKey, **scope: Any) -> Accepted:
        payload = {"source_id": source_id, "kind": kind, "public_key": b64(public_key_bytes(signer)), **scope}
        return self.must_accept(self.envelope("source.registered", source_id, payload, source="admin"), ADMIN)

    def unit(self, unit_id: str, kind: str, parent: str | None) -> Accepted:
        payload = {"unit_id": unit_id, "name": unit_id.upper(), "kind": kind, "parent_unit_id": parent}
        return self.must_accept(
            self.envelope("org.unit.registered", unit_id, payload, source="sys:simpeg"), SIMPEG
        )

    def assign(
        self, nip: str, unit_id: str, pejabat_penilai: str | None, *, since: datetime = T0
    ) -> Accepted:
        payload = {
            "nip": nip,
            "name": f"Pegawai {nip[-3:]}",
            "unit_id": unit_id,
            "position_id": f"pos-{nip[-3:]}",
            "jabatan": "Pelaksana",
            "pejabat_penilai_nip": pejabat_penilai,
            "effective_from": since.isoformat(),
        }
        return self.must_accept(self.envelope("employee.assigned", nip, payload, source="sys:simpeg"), SIMPEG)

    def plan(
        self, nip: str, pejabat_penilai: str, iki_ids: tuple[str, ...], period: str = "2025"
    ) -> Accepted:
        ikis = [{"iki_id": i, "name": i, "target": {"low": "90", "high": "90"}, "unit": "%"} for i in iki_ids]
        payload = {
            "pejabat_penilai_nip": pejabat_penilai,
            "rhk": [{"rhk_id": "rhk-1", "title": "RHK", "iki": ikis}],
        }
        env = self.envelope("skp.planned", nip, payload, source="sys:simpeg", period=period)
        return self.must_accept(env, SIMPEG)

    def realisation(
        self, nip: str, iki_id: str, *, source: str = "sys:sikda", value: str = "95"
    ) -> dict[str, Any]:
        payload = {
            "iki_id": iki_id,
            "value": value,
            "evidence": {
                "source_system": source,
                "document": f"doc-{iki_id}",
                "content_hash": "sha256:" + "ab" * 32,
            },
        }
        return self.envelope("realisation.recorded", nip, payload, source=source)

    def rating(self, rater: str, subject: str, relation: str, score: int = 2) -> dict[str, Any]:
        payload = {"rater_nip": rater, "relation": relation, "value": "akuntabel", "score": score}
        return self.envelope("behaviour.rated", subject, payload, source=person(rater))


class WorldKeys:
    """`Intake`'s data-key port over a World's keys."""

    def __init__(self, world: World) -> None:
        self._world = world

    async def current_kids(self, nips: Any) -> dict[str, frozenset[str]]:
        known = self._world.sealed_to
        return {n: known[n] for n in nips if n in known}


def build_world() -> World:
    """The organisation of this module's docstring, every piece of it accepted by the gate."""
    world = World(initial_state([public_key_bytes(ADMIN)]))
    world.register("sys:simpeg", "system", SIMPEG, units=["pemkot"])
    world.register(
        "sys:sikda", "system", SIKDA, units=["dinkes"], indicators=["iki-imunisasi", "iki-kunjungan"]
    )
    world.register("sys:dapodik", "system", DAPODIK, units=["disdik"], indicators=["iki-apm"])
    for nip, signer in PERSON_KEYS.items():
        world.register(person(nip), "person", signer, nip=nip)
    world.unit("pemkot", "pemerintah_kota", None)
    world.unit("dinkes", "dinas", "pemkot")
    world.unit("puskesmas-a", "uptd", "dinkes")
    world.unit("disdik", "dinas", "pemkot")
    world.assign(KADIS, "dinkes", None)
    world.assign(KAPUS, "puskesmas-a", KADIS)
    world.assign(STAFF1, "puskesmas-a", KAPUS)
    world.assign(STAFF2, "puskesmas-a", KAPUS)
    world.assign(GURU, "disdik", None)
    world.plan(STAFF1, KAPUS, ("iki-imunisasi", "iki-apm", "iki-laporan"))
    world.now = T0 + timedelta(days=30)
    return world


def codes(decision: Decision) -> tuple[str, ...]:
    """The reason codes of a rejection (fails the test when the decision is not a rejection)."""
    assert isinstance(decision, Rejected), decision
    return tuple(r.code for r in decision.reasons)
