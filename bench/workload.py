"""A city-sized, deterministic workload of signed submissions for the benchmark, at any scale.

The shape follows the demo (objektif/demo.py) and REGULATION.md §1.2–§1.4: the administrator registers the
sources; BKPSDM's e-Kinerja publishes the organisation top-down (§2.3: a Pejabat Penilai is assigned before
those he or she appraises) and every employee's SKP with three IKI; each dinas's own system then reports the IKI
weekly (13 recaps in a quarter), in signed batches of `batch` as departmental systems send them; finally each
unit head rates his or her staff on the seven BerAKHLAK values, one signed submission at a time (§1.4).

Everything is derived from the arguments (keys from a fixed seed, ids by UUIDv5), so two runs publish the same
bytes. Signing is done here rather than with `contracts.signing.sign_batch`, whose per-member audit path
recomputes the tree (quadratic in the batch): the output is identical (a test checks), only faster to produce.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.canonical import canonical_bytes
from contracts.signing import BatchSignature, b64, batch_message, format_batch_signature, leaf_hash, node_hash
from objektif.sealing import sealed

PERIOD = "2025-Q3"
START = datetime(2025, 7, 1, 1, 0, tzinfo=UTC)
WEEKS = 13
IKI = ("iki-layanan", "iki-ketepatan", "iki-kepuasan")
BERAKHLAK = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
ADMIN_SOURCE = "admin.bkpsdm.bench"
EKINERJA = "ekinerja.bkpsdm.bench"
ROOT_UNIT = "kota-bench"
_NS = uuid.UUID("5c4b7a51-0e9d-4f5e-8b1a-3c2d9e6f7a80")
#: Realisations per employee in a quarter: each IKI, weekly.
EVENTS_PER_EMPLOYEE = WEEKS * len(IKI)


#: A record to publish: (key, value); the key is the subject, as every Objektif topic is keyed.
Keyed = tuple[bytes, bytes]


def keyed(signed: Sequence[dict[str, Any]]) -> list[Keyed]:
    """Signed envelopes as (subject, JSON bytes) records."""
    return [(s["subject"].encode(), orjson.dumps(s)) for s in signed]


def bench_key(name: str) -> Ed25519PrivateKey:
    """A deterministic Ed25519 key per source (benchmark data only; real sources keep theirs secret)."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"objektif-bench-key:{name}".encode()).digest())


def nip_of(i: int) -> str:
    """A distinct, well-formed 18-digit NIP for employee `i` (birth date, appointment month, sex, serial)."""
    born = datetime(1970, 1, 1) + timedelta(days=i // 1000)
    return f"{born:%Y%m%d}200501{1 + (i // 500) % 2}{i % 1000:03d}"


def _event_id(tag: str) -> str:
    return str(uuid.uuid5(_NS, tag))


def envelope(tag: str, type_: str, source: str, subject: str, payload: dict[str, Any], at: datetime,
             ) -> dict[str, Any]:
    """An unsigned envelope as plain JSON values (so its canonical bytes are its signing bytes)."""
    return {"event_id": _event_id(tag), "type": type_, "schema_version": 1, "occurred_at": at.isoformat(),
            "source": source, "subject": subject, "period": PERIOD, "payload": payload}


def sign_single(plain: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """`plain` signed singly (as `contracts.signing.sign_envelope` does for plain JSON values)."""
    return {**plain, "signature": b64(key.sign(canonical_bytes(plain)))}


def sign_batch_fast(plains: Sequence[dict[str, Any]], key: Ed25519PrivateKey) -> list[dict[str, Any]]:
    """`plains` signed as one batch, byte for byte as `contracts.signing.sign_batch`, in O(n log n)."""
    levels = [[leaf_hash(canonical_bytes(p)) for p in plains]]
    while len(levels[-1]) > 1:
        level = levels[-1]
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        levels.append(paired)
    signature = key.sign(batch_message(len(plains), levels[-1][0]))
    out = []
    for index, plain in enumerate(plains):
        path, i = [], index
        for level in levels[:-1]:
            if (i ^ 1) < len(level):
                path.append(level[i ^ 1])
            i //= 2
        batch = BatchSignature(len(plains), index, signature, tuple(path))
        out.append({**plain, "signature": format_batch_signature(batch)})
    return out


@dataclass(frozen=True)
class Workload:
    """`employees` employees in `units` dinas, each dinas with its own reporting system."""

    employees: int
    units: int
    batch: int = 500

    @classmethod
    def for_events(cls, events: int, *, batch: int = 500) -> Workload:
        """A workload whose bulk phase holds about `events` realisations (13 weekly recaps × 3 IKI each)."""
        employees = max(8, events // EVENTS_PER_EMPLOYEE)
        return cls(employees=employees, units=max(2, min(200, employees // 150)), batch=batch)

    # --- who is who ---------------------------------------------------------------------------------------------

    def unit(self, u: int) -> str:
        return f"dinas-{u:03d}"

    def system(self, u: int) -> str:
        return f"sistem.dinas-{u:03d}.bench"

    def unit_of(self, i: int) -> int:
        """Employee `i`'s dinas; employee 0 is the Sekretaris Daerah, 1..units lead the dinas."""
        return (i - 1) % self.units if 1 <= i <= self.units else i % self.units

    def penilai(self, i: int) -> str | None:
        if i == 0:
            return None
        return nip_of(0) if i <= self.units else nip_of(1 + self.unit_of(i))

    def staff(self) -> range:
        return range(self.units + 1, self.employees)

    # --- setup phases -------------------------------------------------------------------------------------------

    def setup_phases(self, admin: Ed25519PrivateKey, data_key: Callable[[str], bytes]
                     ) -> list[tuple[str, list[dict[str, Any]]]]:
        """What must be decided before the bulk: sources, units top-down, assignments top-down, SKP plans. Each
        assignment's personal fields (the name) are sealed to the employee's `data_key` (UU PDP, ADR 0010)."""
        at = START - timedelta(days=1)

        def register(source: str, payload: dict[str, Any]) -> dict[str, Any]:
            body = {"source_id": source, "public_key": b64(bench_key(source).public_key().public_bytes_raw()),
                    **payload}
            return sign_single(envelope(f"register:{source}", "source.registered", ADMIN_SOURCE, source, body, at),
                               admin)

        sources = [register(EKINERJA, {"kind": "system", "name": "e-Kinerja", "units": [ROOT_UNIT], "indicators": []})]
        sources += [register(self.system(u), {"kind": "system", "name": self.system(u), "units": [self.unit(u)],
                                              "indicators": list(IKI)}) for u in range(self.units)]
        sources += [register(f"nip:{nip_of(1 + u)}", {"kind": "person", "name": f"Kepala {self.unit(u)}",
                                                      "nip": nip_of(1 + u)}) for u in range(self.units)]
        root = [envelope("unit:root", "org.unit.registered", EKINERJA, ROOT_UNIT,
                         {"unit_id": ROOT_UNIT, "name": "Pemerintah Kota (bench)", "kind": "pemerintah_kota"}, START)]
        dinas = [envelope(f"unit:{u}", "org.unit.registered", EKINERJA, self.unit(u),
                          {"unit_id": self.unit(u), "name": f"Dinas {u}", "kind": "dinas",
                           "parent_unit_id": ROOT_UNIT}, START) for u in range(self.units)]
        tiers = (range(1), range(1, self.units + 1), self.staff())
        assignments = [[sealed(self._assignment(i), data_key) for i in tier] for tier in tiers]
        plans = [self._plan(i) for i in range(1, self.employees)]
        ekinerja = bench_key(EKINERJA)
        out = [("sources", sources), ("root unit", self._batches(root, ekinerja)),
               ("dinas", self._batches(dinas, ekinerja))]
        out += [(f"assignments {d}", self._batches(a, ekinerja)) for d, a in enumerate(assignments)]
        out.append(("SKP plans", self._batches(plans, ekinerja)))
        return out

    def _assignment(self, i: int) -> dict[str, Any]:
        unit = ROOT_UNIT if i == 0 else self.unit(self.unit_of(i))
        role = "sekda" if i == 0 else ("kepala" if i <= self.units else "staf")
        return envelope(f"assign:{i}", "employee.assigned", EKINERJA, nip_of(i), {
            "nip": nip_of(i), "name": f"Pegawai {i}", "unit_id": unit, "position_id": f"{unit}.{role}",
            "jabatan": role.title(), "pangkat_golongan": "III/b", "pejabat_penilai_nip": self.penilai(i),
            "effective_from": START.isoformat()}, START)

    def _plan(self, i: int) -> dict[str, Any]:
        iki = [{"iki_id": k, "name": k, "target": {"low": "90", "high": "95"}, "unit": "%", "direction": "higher",
                "data_source": self.system(self.unit_of(i))} for k in IKI]
        return envelope(f"plan:{i}", "skp.planned", EKINERJA, nip_of(i), {
            "pejabat_penilai_nip": self.penilai(i),
            "rhk": [{"rhk_id": "rhk-1", "title": "Layanan publik tepat waktu", "kind": "utama", "iki": iki}],
            "ekspektasi": "Capaian dilaporkan mingguan oleh sistem dinas."}, START + timedelta(days=2))

    def _batches(self, plains: Sequence[dict[str, Any]], key: Ed25519PrivateKey) -> list[dict[str, Any]]:
        return [s for k in range(0, len(plains), self.batch) for s in sign_batch_fast(plains[k:k + self.batch], key)]

    # --- the measured phases ------------------------------------------------------------------------------------

    def realisation(self, i: int, week: int, iki: int, tag: str = "") -> dict[str, Any]:
        """Employee `i`'s cumulative `iki` realisation reported in `week` (unsigned)."""
        value = f"{60 + (i * 7 + iki * 3) % 30 + week * 0.25 + (week % 3) * 0.5:.2f}"
        doc = f"https://{self.system(self.unit_of(i))}/rekap/{PERIOD}/{nip_of(i)}/{IKI[iki]}/minggu-{week + 1}{tag}"
        return envelope(f"real:{i}:{week}:{iki}{tag}", "realisation.recorded", self.system(self.unit_of(i)),
                        nip_of(i), {"iki_id": IKI[iki], "value": value, "evidence": {
                            "source_system": self.system(self.unit_of(i)), "document": doc,
                            "content_hash": "sha256:" + hashlib.sha256(f"{doc}:{value}".encode()).hexdigest()}},
                        START + timedelta(days=7 * week, hours=i % 9))

    def bulk(self, limit: int | None = None) -> Iterator[list[Keyed]]:
        """The weekly recaps as each dinas's system sends them: per week, per system, batch-signed chunks of
        `batch`, as (key, value) ready to publish. At most `limit` submissions in all."""
        sent = 0
        by_unit: dict[int, list[int]] = {u: [] for u in range(self.units)}
        for i in range(1, self.employees):
            by_unit[self.unit_of(i)].append(i)
        for week in range(WEEKS):
            for u, members in by_unit.items():
                plains = [self.realisation(i, week, k) for i in members for k in range(len(IKI))]
                key = bench_key(self.system(u))
                for k in range(0, len(plains), self.batch):
                    chunk = plains[k:k + self.batch]
                    if limit is not None:
                        chunk = chunk[: max(0, limit - sent)]
                    if not chunk:
                        return
                    sent += len(chunk)
                    yield keyed(sign_batch_fast(chunk, key))

    def bulk_size(self) -> int:
        """How many submissions `bulk()` yields without a limit."""
        return (self.employees - 1) * WEEKS * len(IKI)

    def ratings(self, limit: int) -> list[Keyed]:
        """Up to `limit` behaviour ratings (§1.4), each signed singly by the unit head rating a staff member."""
        out: list[dict[str, Any]] = []
        end = START + timedelta(days=88)
        for i in self.staff():
            head = nip_of(1 + self.unit_of(i))
            for n, value in enumerate(BERAKHLAK):
                if len(out) >= limit:
                    return keyed(out)
                plain = envelope(f"rate:{i}:{value}", "behaviour.rated", f"nip:{head}", nip_of(i), {
                    "rater_nip": head, "relation": "atasan", "value": value, "score": 1 + (i + n) % 3}, end)
                out.append(sign_single(plain, bench_key(f"nip:{head}")))
        return keyed(out)

    def live(self, n: int, tag: str, *, batched: bool = False) -> list[tuple[str, str, Keyed]]:
        """`n` extra realisations spread over the employees, as (event id, subject, record): signed singly, or in
        batches per system when `batched`. `tag` keeps their ids apart from the bulk's and from other runs'."""
        staff = self.employees - 1
        plains = [self.realisation(1 + (k * 7919) % staff, (k // staff) % WEEKS, k % len(IKI), tag=f":{tag}{k}")
                  for k in range(n)]
        if batched:
            by_source: dict[str, list[dict[str, Any]]] = {}
            for p in plains:
                by_source.setdefault(p["source"], []).append(p)
            signed = [s for source, group in by_source.items() for s in self._batches(group, bench_key(source))]
        else:
            signed = [sign_single(p, bench_key(p["source"])) for p in plains]
        return [(s["event_id"], s["subject"], record) for s, record in zip(signed, keyed(signed), strict=True)]
