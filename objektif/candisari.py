"""A realistic dataset for Kecamatan Candisari, Kota Semarang: one quarter (2025-Q3) of appraisal evidence.

The seed article's three examples are here: teachers measured by the school participation rate (Dinas Pendidikan,
Dapodik), health officers by health programmes carried out and their effect (Dinas Kesehatan, puskesmas records),
social officers by job-training graduates placed in work (Dinas Sosial); plus Dinas Kominfo and the kecamatan
office. Names and NIPs are invented; indicators, units and sources follow REGULATION.md §1.2–§1.4.

Everything is derived from a fixed seed, so the dataset (and so the demo's results) is the same on every run.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

PERIOD = "2025-Q3"
START = datetime(2025, 7, 1, 1, 0, tzinfo=UTC)  # 08:00 WIB
_NS = uuid.UUID("3a0f6c1e-2b7d-4c55-8f0e-9d1a7b6c5e42")
BERAKHLAK = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")


def event_uuid(name: str) -> uuid.UUID:
    """A stable event id for a named demo event."""
    return uuid.uuid5(_NS, name)


@dataclass(frozen=True)
class Indicator:
    iki_id: str
    name: str
    low: str
    high: str
    unit: str
    direction: str
    source: str  # the departmental system that measures it
    outcome: tuple[str, ...]  # three monthly realisations, as strings (exact decimals)


@dataclass
class Person:
    nip: str
    name: str
    unit_id: str
    position_id: str
    jabatan: str
    golongan: str
    penilai: str | None
    indicators: tuple[tuple[str, tuple[Indicator, ...]], ...] = ()  # (RHK title, IKI)
    jenjang: str | None = None  # a jabatan fungsional's jenjang: its angka kredit (REGULATION.md §5)


@dataclass
class Dataset:
    """Envelopes (unsigned dicts), each with the source that submits it."""

    submissions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)
    systems: dict[str, tuple[str, ...]] = field(default_factory=dict)  # source id -> unit ids in its scope

    def unit_depth(self, unit_id: str) -> int:
        """0 for the city, 1 for a dinas or the kecamatan, 2 for a school or puskesmas."""
        parents = {u[0]: u[3] for u in UNITS}
        depth, parent = 0, parents[unit_id]
        while parent is not None:
            depth, parent = depth + 1, parents[parent]
        return depth

    def person_depth(self, nip: str) -> int:
        """How many Pejabat Penilai stand above this person."""
        penilai = {p.nip: p.penilai for p in self.people}
        depth, up = 0, penilai[nip]
        while up is not None:
            depth, up = depth + 1, penilai[up]
        return depth


UNITS = (
    ("kota-semarang", "Pemerintah Kota Semarang", "pemerintah_kota", None),
    ("kec-candisari", "Kecamatan Candisari", "kecamatan", "kota-semarang"),
    ("disdik", "Dinas Pendidikan Kota Semarang", "dinas", "kota-semarang"),
    ("sdn-candisari-01", "SD Negeri Candisari 01", "uptd", "disdik"),
    ("dinkes", "Dinas Kesehatan Kota Semarang", "dinas", "kota-semarang"),
    ("pkm-candilama", "Puskesmas Candilama", "uptd", "dinkes"),
    ("dinsos", "Dinas Sosial Kota Semarang", "dinas", "kota-semarang"),
    ("diskominfo", "Dinas Komunikasi dan Informatika Kota Semarang", "dinas", "kota-semarang"),
)

SYSTEMS = {
    "ekinerja.bkpsdm.semarang": ("kota-semarang",),  # the whole city: structure, SKP plans, predicates
    "dapodik.disdik.semarang": ("disdik", "sdn-candisari-01"),
    "simpus.dinkes.semarang": ("dinkes", "pkm-candilama"),
    "siks.dinsos.semarang": ("dinsos",),
    "lapor.diskominfo.semarang": ("diskominfo", "kec-candisari"),
}

_FIRST = ("Agus", "Sri", "Budi", "Dwi", "Endang", "Joko", "Rina", "Hendra", "Wahyu", "Siti", "Bambang", "Retno",
          "Yudi", "Ani", "Teguh", "Lestari", "Eko", "Nur", "Heru", "Ratna", "Adi", "Fitri", "Slamet", "Dian")
_LAST = ("Santoso", "Wulandari", "Prasetyo", "Rahayu", "Setiawan", "Hidayat", "Kurniawati", "Susanto",
         "Handayani", "Nugroho", "Purnomo", "Astuti", "Saputra", "Maharani", "Wibowo", "Suryani")


def _indicators(rng: random.Random, unit: str) -> tuple[tuple[str, tuple[Indicator, ...]], ...]:
    """The RHK and IKI of one employee, with three monthly realisations that move as such data does."""

    def series(start: float, step: float, places: int = 2) -> tuple[str, ...]:
        q = Decimal(1).scaleb(-places)
        return tuple(str(Decimal(str(start + step * i + rng.uniform(-abs(step), abs(step)) / 2)).quantize(q))
                     for i in range(3))

    def counts(total: int) -> tuple[str, ...]:
        return tuple(str(round(total * f)) for f in (0.3, 0.65, 1.0))

    if unit in ("sdn-candisari-01", "disdik"):
        return (
            ("Meningkatnya partisipasi sekolah anak usia 7–12 tahun di Kecamatan Candisari", (
                Indicator("aps-7-12", "Angka Partisipasi Sekolah (APS) usia 7–12 tahun", "97", "99", "%", "higher",
                          "dapodik.disdik.semarang", series(rng.uniform(93, 98.5), rng.uniform(0.2, 0.9))),
                Indicator("anak-kembali-sekolah", "Anak putus sekolah yang kembali bersekolah", "12", "12", "orang",
                          "higher", "dapodik.disdik.semarang", counts(rng.randint(6, 16))),
            )),
            ("Terlaksananya pembelajaran yang tuntas", (
                Indicator("tuntas-kkm", "Persentase peserta didik tuntas KKM", "85", "85", "%", "higher",
                          "dapodik.disdik.semarang", series(rng.uniform(74, 90), rng.uniform(0.5, 2))),
            )),
        )
    if unit in ("pkm-candilama", "dinkes"):
        return (
            ("Terlaksananya program kesehatan masyarakat di wilayah Puskesmas Candilama", (
                Indicator("posyandu-terlaksana", "Kegiatan posyandu dan penyuluhan terlaksana", "36", "36", "kegiatan",
                          "higher", "simpus.dinkes.semarang", counts(rng.randint(26, 42))),
                Indicator("imunisasi-dasar", "Cakupan imunisasi dasar lengkap", "95", "95", "%", "higher",
                          "simpus.dinkes.semarang", series(rng.uniform(84, 97), rng.uniform(0.3, 1.5))),
            )),
            ("Menurunnya prevalensi stunting balita", (
                Indicator("prevalensi-stunting", "Prevalensi stunting balita", "12", "14", "%", "lower",
                          "simpus.dinkes.semarang", series(rng.uniform(12, 17.5), -rng.uniform(0.1, 0.6))),
            )),
        )
    if unit == "dinsos":
        return (
            ("Meningkatnya kemandirian ekonomi penerima manfaat pelatihan kerja", (
                Indicator("lulusan-ditempatkan", "Lulusan pelatihan kerja yang ditempatkan bekerja", "40", "40",
                          "orang", "higher", "siks.dinsos.semarang", counts(rng.randint(24, 50))),
                Indicator("bansos-tepat-sasaran", "Penerima bantuan sosial tepat sasaran (padan DTKS)", "98", "98",
                          "%", "higher", "siks.dinsos.semarang", series(rng.uniform(92, 99.5), rng.uniform(0.1, 0.6))),
            )),
        )
    return (
        ("Meningkatnya kualitas layanan publik digital dan pengaduan", (
            Indicator("aduan-lapor", "Rata-rata waktu penyelesaian aduan LAPOR!", "2", "3", "hari", "lower",
                      "lapor.diskominfo.semarang", series(rng.uniform(2.2, 4.2), -rng.uniform(0.05, 0.4))),
            Indicator("layanan-tepat-waktu", "Layanan administrasi selesai tepat waktu", "95", "95", "%", "higher",
                      "lapor.diskominfo.semarang", series(rng.uniform(86, 98), rng.uniform(0.2, 1.2))),
        )),
    )


def _nip(rng: random.Random, serial: int) -> str:
    born = datetime(1968, 1, 1) + timedelta(days=rng.randint(0, 30 * 365))
    appointed = born.replace(day=1) + timedelta(days=rng.randint(23 * 365, 30 * 365))
    return f"{born:%Y%m%d}{appointed:%Y%m}{rng.choice('12')}{serial:03d}"


def _staff(rng: random.Random) -> list[Person]:
    """About 40 employees in the units, each with the Pejabat Penilai the structure gives."""
    people: list[Person] = []
    names = iter(rng.sample([f"{a} {b}" for a in _FIRST for b in _LAST], 60))
    serial = iter(range(1, 999))
    # (unit, leader's jabatan, staff jabatan with their jenjang in turn, staff count); a unit's leader is rated by
    # the leader one level up. Staff in a jabatan fungsional carry its jenjang, so their results earn angka kredit.
    plan: tuple[tuple[str, str, tuple[tuple[str, str | None], ...], int], ...] = (
        ("kec-candisari", "Camat Candisari", (("Analis Pelayanan Publik", None),), 3),
        ("disdik", "Kepala Dinas Pendidikan", (("Pengawas Sekolah Ahli Madya", "Ahli Madya"),), 2),
        ("sdn-candisari-01", "Kepala Sekolah",
         (("Guru Ahli Pertama", "Ahli Pertama"), ("Guru Ahli Muda", "Ahli Muda")), 7),
        ("dinkes", "Kepala Dinas Kesehatan", (("Epidemiolog Kesehatan Ahli Muda", "Ahli Muda"),), 2),
        ("pkm-candilama", "Kepala Puskesmas Candilama", (("Bidan Terampil", "Terampil"), ("Bidan Mahir", "Mahir")), 7),
        ("dinsos", "Kepala Dinas Sosial", (("Penyuluh Sosial Ahli Pertama", "Ahli Pertama"),), 6),
        ("diskominfo", "Kepala Dinas Kominfo", (("Pranata Komputer Ahli Pertama", "Ahli Pertama"),), 5),
    )
    parent_leader: dict[str, str] = {}
    sekda = Person(_nip(rng, next(serial)), next(names), "kota-semarang", "kota-semarang.sekda",
                   "Sekretaris Daerah Kota Semarang", "IV/d", None)
    people.append(sekda)
    for unit, lead_title, staff_titles, n in plan:
        parent = next(u[3] for u in UNITS if u[0] == unit)
        penilai = parent_leader.get(parent, sekda.nip)
        leader = Person(_nip(rng, next(serial)), next(names), unit, f"{unit}.kepala", lead_title, "IV/b", penilai)
        leader.indicators = _indicators(rng, unit)
        parent_leader[unit] = leader.nip
        people.append(leader)
        for i in range(n):
            k = i % len(staff_titles)  # the jenjang in turn: one position per jenjang
            title, jenjang = staff_titles[k]
            p = Person(_nip(rng, next(serial)), next(names), unit, f"{unit}.staf" + (f"-{k + 1}" if k else ""),
                       title, rng.choice(("III/a", "III/b", "III/c", "III/d")), leader.nip, jenjang=jenjang)
            p.indicators = _indicators(rng, unit)
            people.append(p)
    return people


def build(seed: int = 2025) -> Dataset:
    """The whole quarter: structure, plans, monthly evidence, 360° ratings, Pejabat Penilai ratings, predicates."""
    rng = random.Random(seed)  # noqa: S311  (test data, not cryptography)
    data = Dataset(units={u[0]: u[1] for u in UNITS}, systems=dict(SYSTEMS))
    counter = iter(range(1, 1_000_000))

    def add(source: str, type_: str, subject: str, payload: dict[str, Any], at: datetime) -> str:
        n = next(counter)
        event_id = str(event_uuid(f"{seed}:{n}"))
        data.submissions.append((source, {
            "event_id": event_id, "type": type_, "schema_version": 1, "occurred_at": at.isoformat(),
            "source": source, "subject": subject, "period": PERIOD, "payload": payload,
            "correlation_id": f"candisari-demo-{n}",
        }))
        return event_id

    bkpsdm = "ekinerja.bkpsdm.semarang"
    for unit_id, name, kind, parent in UNITS:
        add(bkpsdm, "org.unit.registered", unit_id,
            {"unit_id": unit_id, "name": name, "kind": kind, "parent_unit_id": parent}, START)
    people = _staff(rng)
    data.people = people
    positions = {(p.unit_id, p.position_id, p.jabatan) for p in people}
    for unit_id, position_id, jabatan in sorted(positions):
        leader = position_id.endswith(".kepala") or position_id.endswith(".sekda")
        add(bkpsdm, "org.position.registered", unit_id, {
            "position_id": position_id, "unit_id": unit_id, "title": jabatan,
            "jenis": "struktural" if leader else "fungsional", "is_unit_leader": leader}, START)
    for p in people:
        add(bkpsdm, "employee.assigned", p.nip, {
            "nip": p.nip, "name": p.name, "unit_id": p.unit_id, "position_id": p.position_id, "jabatan": p.jabatan,
            "pangkat_golongan": p.golongan, "pejabat_penilai_nip": p.penilai, "effective_from": START.isoformat(),
            **({"jenjang_fungsional": p.jenjang} if p.jenjang else {}),
        }, START)
    for p in people:
        if not p.indicators:
            continue
        rhk = [{
            "rhk_id": f"rhk-{i + 1}", "title": title, "kind": "utama",
            "iki": [{"iki_id": k.iki_id, "name": k.name, "target": {"low": k.low, "high": k.high}, "unit": k.unit,
                     "direction": k.direction, "data_source": k.source} for k in iki],
        } for i, (title, iki) in enumerate(p.indicators)]
        add(bkpsdm, "skp.planned", p.nip, {"pejabat_penilai_nip": p.penilai, "rhk": rhk,
                                            "ekspektasi": "Capaian didukung data sistem dinas, dilaporkan bulanan."},
            START + timedelta(days=2))
    for p in people:
        for _title, iki in p.indicators:
            for k in iki:
                for month, value in enumerate(k.outcome):
                    at = START + timedelta(days=30 * month + 28, hours=rng.randint(0, 8))
                    doc = f"{k.source}/laporan/{PERIOD}/{p.nip}/{k.iki_id}/bulan-{month + 1}"
                    add(k.source, "realisation.recorded", p.nip, {
                        "iki_id": k.iki_id, "value": value,
                        "evidence": {"source_system": k.source, "document": f"https://{doc}",
                                     "content_hash": "sha256:" + hashlib.sha256(f"{doc}:{value}".encode()).hexdigest()},
                    }, at)
    end = START + timedelta(days=88)
    by_unit: dict[str, list[Person]] = {}
    for p in people:
        by_unit.setdefault(p.unit_id, []).append(p)
    low_behaviour: list[str] = []  # whose raters were told to score low: the demo's objection (§2.4)
    for p in people:
        if p.penilai is None:
            continue
        leniency = rng.choice((0, 0, 0, 1))  # some superiors rate generously: measured, not hidden (§1.4)
        peers = [q for q in by_unit[p.unit_id] if q.nip != p.nip and q.penilai == p.penilai]
        subordinates = [q for q in people if q.penilai == p.nip]
        raters = [(p.penilai, "atasan", leniency), (p.nip, "diri", 1)]
        raters += [(q.nip, "rekan", 0) for q in peers[:2]]
        raters += [(q.nip, "bawahan", 0) for q in subordinates[:2]]
        base = rng.choice((2, 2, 2, 3, 3)) if rng.random() < 0.95 else 1
        if base == 1:
            low_behaviour.append(p.nip)
        for rater, relation, bias in raters:
            for value in BERAKHLAK:
                score = max(1, min(3, base + bias + rng.choice((0, 0, 0, 1, -1))))
                add(f"nip:{rater}", "behaviour.rated", p.nip,
                    {"rater_nip": rater, "relation": relation, "value": value, "score": score}, end)
    for p in people[1:]:
        if rng.random() < 0.25:
            add(f"nip:{p.penilai}", "rating.pejabat_penilai", p.nip, {
                "rater_nip": p.penilai, "rating_hasil_kerja": "Sesuai Ekspektasi",
                "justification": "Capaian dipengaruhi kondisi lapangan di luar kendali pegawai; "
                                 "dibahas dalam umpan balik bulan September.",
            }, end + timedelta(hours=1))
    predicates = {"kec-candisari": "Baik", "disdik": "Baik", "sdn-candisari-01": "Istimewa", "dinkes": "Baik",
                  "pkm-candilama": "Baik", "dinsos": "Butuh Perbaikan", "diskominfo": "Baik"}
    leaders = {p.unit_id: p for p in people if p.position_id.endswith(".kepala")}
    for unit_id, predicate in predicates.items():
        setter = leaders[unit_id].penilai
        add(bkpsdm, "org.predicate.set", unit_id,
            {"unit_id": unit_id, "predicate": predicate, "set_by_nip": setter, "curve_mode": "warn"},
            end + timedelta(days=1))
        add(bkpsdm, "period.closed", unit_id, {"closed_by": bkpsdm, "evaluation": "periodik"},
            end + timedelta(days=2))
    _keberatan(data, add, low_behaviour, end + timedelta(days=5))
    return data


def _keberatan(data: Dataset, add: Any, low_behaviour: list[str], delivered: datetime) -> None:
    """Results delivered to everyone appraised, and one objection through its whole lifecycle (§2.4): an employee
    rated low on behaviour objects on day 6; the Atasan Pejabat Penilai asks the Pejabat Penilai and the employee,
    both explain, and on day 12 the Atasan accepts the objection and sets the behaviour rating to Sesuai."""
    bkpsdm = "ekinerja.bkpsdm.semarang"
    penilai = {p.nip: p.penilai for p in data.people}
    for p in data.people:
        if p.penilai is not None:
            add(bkpsdm, "result.delivered", p.nip, {"evaluation": "periodik"}, delivered)
    eligible = [nip for nip in low_behaviour if data.person_depth(nip) >= 2]
    if not eligible:
        return
    nip = eligible[0]
    pp = penilai[nip]
    atasan = penilai.get(pp or "")
    if pp is None or atasan is None:  # depth >= 2 guarantees both; kept explicit for the type checker
        return
    day = timedelta(days=1)
    objection = add(f"nip:{nip}", "objection.filed", nip, {
        "reasons": "Penilaian perilaku Di Bawah Ekspektasi tidak didukung catatan apa pun; mohon ditinjau."},
        delivered + 6 * day)
    request = add(f"nip:{atasan}", "objection.explanation.requested", nip, {
        "objection_event_id": objection, "requested_by_nip": atasan, "from_nips": [pp, nip],
        "question": "Mohon penjelasan dan bukti atas penilaian perilaku triwulan III."}, delivered + 8 * day)
    add(f"nip:{pp}", "objection.explanation.given", nip, {
        "request_event_id": request, "given_by_nip": pp,
        "explanation": "Penilaian didasarkan pada keterlambatan laporan, tanpa teguran tertulis."}, delivered + 9 * day)
    add(f"nip:{nip}", "objection.explanation.given", nip, {
        "request_event_id": request, "given_by_nip": nip,
        "explanation": "Laporan terlambat karena sistem puskesmas gangguan; tiket terlampir di Simpus."},
        delivered + 10 * day)
    add(f"nip:{atasan}", "objection.decided", nip, {
        "objection_event_id": objection, "decided_by_nip": atasan, "outcome": "diterima",
        "modified_rating_perilaku": "Sesuai Ekspektasi",
        "reasons": "Keterlambatan di luar kendali pegawai; perilaku sesuai ekspektasi."}, delivered + 12 * day)
    data.submissions[-1][1]["schema_version"] = 2  # objection.decided v2: modified ratings
