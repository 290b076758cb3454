"""`objektif up`'s demo people: the Candisari quarter published up to where people have work to do, and
enrolment links for a few of them, one per role.

What machines record is published: the departmental systems' registrations, BKPSDM's units, positions,
assignments and SKP plans, and the departments' monthly evidence (the phases of `objektif.demo`, filtered). What
people do is left to them in the browser: behaviour ratings, the Pejabat Penilai's ratings, feedback, delivering
results, objections; so are the units' predicates and the period's close. No person's key is registered here:
each person registers his or her own, made in the browser, by enrolling with a code (ADR 0007).

The dataset has no BKPSDM office; one is added (a unit under the city, one position, one Analis SDM Aparatur whose
Pejabat Penilai is the Sekretaris Daerah) so that the administrator who issues codes is an employee of the
structure like everyone else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.signing import sign_batch
from objektif import candisari
from objektif.demo import demo_key, phases
from objektif.pipeline import Progress, publish, wait_until_caught_up
from objektif.sealing import sealed, stack_lookup

BKPSDM_SYSTEM = "ekinerja.bkpsdm.semarang"
BKPSDM_UNIT = "bkpsdm"
BKPSDM_ADMIN_NIP = "199003152015031001"
BKPSDM_ADMIN_NAME = "Yusuf Ramadhan"
#: what people (and leaders) do for the period: left to them, not published by `up`
HUMAN_TYPES = frozenset({"behaviour.rated", "rating.pejabat_penilai", "feedback.given", "org.predicate.set",
                         "period.closed", "result.delivered"})


@dataclass(frozen=True)
class DemoPerson:
    nip: str
    name: str
    role: str  # what he or she does in the demo, in Bahasa Indonesia
    grants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Invitation:
    person: DemoPerson
    link: str
    expires_at: datetime


def _machine_made(envelope: dict[str, Any]) -> bool:
    type_ = envelope["type"]
    if type_ == "source.registered":
        return envelope["payload"].get("kind") != "person"
    return type_ not in HUMAN_TYPES and not type_.startswith("objection.")


def _bkpsdm_office(data: candisari.Dataset, data_key: Callable[[str], bytes]
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The BKPSDM unit, its position and its administrator's assignment (her name sealed to her data key, UU PDP),
    signed by e-Kinerja as the rest."""
    sekda = next(p for p in data.people if p.penilai is None)
    at = candisari.START.isoformat()
    position = f"{BKPSDM_UNIT}.analis-sdm"

    def envelope(type_: str, subject: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"event_id": str(candisari.event_uuid(f"up:{type_}:{subject}")), "type": type_, "schema_version": 1,
                "occurred_at": at, "source": BKPSDM_SYSTEM, "subject": subject, "period": candisari.PERIOD,
                "payload": payload}

    unit = envelope("org.unit.registered", BKPSDM_UNIT, {
        "unit_id": BKPSDM_UNIT, "name": "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia Kota Semarang",
        "kind": "dinas", "parent_unit_id": "kota-semarang"})
    post = envelope("org.position.registered", BKPSDM_UNIT, {
        "position_id": position, "unit_id": BKPSDM_UNIT, "title": "Analis SDM Aparatur Ahli Pertama",
        "jenis": "fungsional", "is_unit_leader": False})
    assigned = envelope("employee.assigned", BKPSDM_ADMIN_NIP, {
        "nip": BKPSDM_ADMIN_NIP, "name": BKPSDM_ADMIN_NAME, "unit_id": BKPSDM_UNIT, "position_id": position,
        "jabatan": "Analis SDM Aparatur Ahli Pertama", "pangkat_golongan": "III/b", "pejabat_penilai_nip": sekda.nip,
        "effective_from": at})
    # the unit and its position first, as a phase of their own: the assignment goes to another partition (keyed by
    # NIP), and the gate decides its unit scope only once the unit is known
    return (sign_batch([unit, post], demo_key(BKPSDM_SYSTEM)),
            sign_batch([sealed(assigned, data_key)], demo_key(BKPSDM_SYSTEM)))


def open_period(data: candisari.Dataset, admin: Ed25519PrivateKey, data_key: Callable[[str], bytes]
                ) -> list[tuple[str, list[dict[str, Any]]]]:
    """The demo's phases with only what machines record, the BKPSDM office after the structure's top level."""
    out: list[tuple[str, list[dict[str, Any]]]] = []
    for name, submissions in phases(data, admin, data_key):
        kept = [s for s in submissions if _machine_made(s)]
        if kept:
            out.append(("realisasi (bukti dinas)" if name.startswith("realisasi") else name, kept))
        if name == "penugasan pegawai (tingkat 0)":  # the Sekretaris Daerah, the BKPSDM analyst's Pejabat Penilai
            office, admin_assigned = _bkpsdm_office(data, data_key)
            out.append(("kantor BKPSDM", office))
            out.append(("analis SDM BKPSDM", admin_assigned))
    return out


def demo_people(data: candisari.Dataset) -> list[DemoPerson]:
    """A teacher, a fellow teacher, their Kepala Sekolah, the Kepala Dinas Pendidikan above, BKPSDM's admin."""
    school = [p for p in data.people if p.unit_id == "sdn-candisari-01"]
    head = next(p for p in school if p.position_id.endswith(".kepala"))
    teachers = [p for p in school if p.penilai == head.nip]
    atasan = next(p for p in data.people if p.nip == head.penilai)
    return [
        DemoPerson(teachers[0].nip, teachers[0].name, f"Pegawai ({teachers[0].jabatan}, {data.units[head.unit_id]})"),
        DemoPerson(teachers[1].nip, teachers[1].name, f"Rekan kerja ({teachers[1].jabatan})"),
        DemoPerson(head.nip, head.name, f"Pejabat Penilai ({head.jabatan})"),
        DemoPerson(atasan.nip, atasan.name, f"Atasan Pejabat Penilai ({atasan.jabatan})"),
        DemoPerson(BKPSDM_ADMIN_NIP, BKPSDM_ADMIN_NAME, "Admin BKPSDM (menerbitkan kode pendaftaran)", ("admin",)),
    ]


async def publish_open_period(stack: Any, *, timeout: float = 240.0,
                              report: Callable[[str, int, Progress], None] | None = None) -> candisari.Dataset:
    """Publish `open_period` phase by phase on a running `stack`, each once the pipeline caught up with it (ids
    are fixed: publishing again on a kept database is answered as duplicates and changes nothing)."""
    data = candisari.build()
    submitted = 0
    before: Progress | None = None
    for name, submissions in open_period(data, stack.admin_key(), stack_lookup(stack)):
        await publish(stack.kafka_bootstrap, submissions)
        submitted += len(submissions)
        done = await wait_until_caught_up(stack.admin_dsn, submitted, timeout=timeout, check=stack.check_services)
        if report:
            report(name, len(submissions), done)
        before = before or done
        if done.rejected > before.rejected:
            raise RuntimeError(f"the evidence gate refused {done.rejected - before.rejected} of the demo's "
                               f"submissions (phase {name}); see evidence.rejections")
    return data


async def invite(admin_dsn: str, base_url: str, people: list[DemoPerson], *, hours: int = 72,
                 now: datetime | None = None) -> list[Invitation]:
    """One enrolment code per person (`issue_code`, as `objektif enrol` does), as the link he or she opens."""
    from services.scoring.adapters.people_store import issue_code

    now = now or datetime.now(UTC)
    conn = await asyncpg.connect(admin_dsn)
    try:
        out = []
        for person in people:
            issued = await issue_code(conn, person.nip, grants=person.grants, hours=hours, issued_by="objektif up",
                                      now=now)
            out.append(Invitation(person, f"{base_url}/#/daftar/{issued.code}", issued.expires_at))
        return out
    finally:
        await conn.close()
