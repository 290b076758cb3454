"""Final periodic results as SIASN `kinerjaPeriodik` records (contracts/siasn.py; the mapping table is
docs/siasn.md, the decision ADR 0012).

Codes: the ratings as SIASN's `perilakuDanKinerja` reference (1 Di Atas, 2 Sesuai, 3 Di Bawah Ekspektasi); the
predikat as `kuadranKinerjaNilai` 1-5 in REGULATION.md §1.5's order, best first (inferred: no public reference
table); the quarter as `periodikId` 2 (Triwulanan); the Pejabat Penilai's golongan as SIASN's `golonganPns` id,
"III/a" → "31" (inferred from the ids SIASN returns). `pnsDinilaiId` is SIASN's own id of the employee: only an
operator's NIP→id file knows it. Every record is validated against the contract before it is written. A name
sealed to its owner's data key (UU PDP, ADR 0010) stays sealed here, as everywhere in the scoring store: the
reader allowed to see it opens it (the read API's PDP middleware, the CLI with the operator's key); the contract
is checked with a stand-in for it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from contracts import pdp
from contracts.events import Rating
from contracts.siasn import KinerjaPeriodik
from services.scoring.app.siasn import SiasnRow
from services.scoring.domain.predikat import PREDIKAT_ORDER
from services.scoring.domain.timeline import period_bounds

LEVEL = {Rating.DI_ATAS: 1, Rating.SESUAI: 2, Rating.DI_BAWAH: 3}
#: §1.5's five predikat, best first → 1-5 (inferred; docs/siasn.md)
KUADRAN = {label: i for i, label in enumerate(PREDIKAT_ORDER, start=1)}
TRIWULANAN = "2"
_GOLONGAN = re.compile(r"^\s*(IV|III|II|I)\s*/\s*([a-e])\s*$", re.IGNORECASE)
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}


class IdsFileError(ValueError):
    """An operator's NIP→SIASN id file that cannot be read as such."""


def golongan_id(label: str | None) -> str | None:
    """SIASN's `golonganPns` id of a PNS golongan ruang ("III/a" → "31", "IV/e" → "45"); None for anything else
    (a PPPK golongan, a pangkat name, nothing recorded)."""
    match = _GOLONGAN.match(label or "")
    if match is None:
        return None
    roman, ruang = match[1].upper(), "abcde".index(match[2].lower()) + 1
    return f"{_ROMAN[roman]}{ruang}" if roman == "IV" or ruang <= 4 else None


#: What the contract is checked with in place of a sealed value (opened later, by whoever may read it).
_SEALED_STAND_IN = "(disegel)"


def record(row: SiasnRow, ids: Mapping[str, str]) -> dict[str, Any]:
    """One row as a schema-valid SIASN record (raises pydantic's ValidationError if it is not)."""
    first, last = period_bounds(row.period)
    rater = row.rater
    doc = {
        "nip": row.nip,
        "pnsDinilaiId": ids.get(row.nip),
        "tahun": first.year,
        "tahunMulaiPenilaian": first.year,
        "tahunSelesaiPenilaian": last.year,
        "bulanMulaiPenilaian": first.month,
        "bulanSelesaiPenilaian": last.month,
        "periodikId": TRIWULANAN,
        "hasilKinerjaNilai": LEVEL[row.rating_hasil_kerja],
        "perilakuKerjaNilai": LEVEL[row.rating_perilaku],
        "kuadranKinerjaNilai": KUADRAN[row.predikat],
        "koefisienId": row.koefisien_id,
        "penilaiNipNrp": row.rater_nip,
        "penilaiNama": rater.name if rater else None,
        "penilaiJabatanNama": rater.jabatan if rater else None,
        "penilaiUnorNama": rater.unit_name if rater else None,
        "penilaiGolongan": golongan_id(rater.golongan) if rater else None,
        # a Pejabat Penilai with a NIP is an ASN; none recorded (the regional head, say) is left to the operator
        "statusPenilai": "ASN" if row.rater_nip else None,
    }
    sealed = {k: v for k, v in doc.items() if pdp.is_sealed(v)}
    checked = KinerjaPeriodik.model_validate({**doc, **dict.fromkeys(sealed, _SEALED_STAND_IN)})
    return {**checked.model_dump(mode="json"), **sealed}


def to_json(rows: Sequence[SiasnRow], ids: Mapping[str, str] | None = None) -> bytes:
    """The records as one JSON array (two-space indent, trailing newline), in the rows' order."""
    records = [record(r, ids or {}) for r in rows]
    return orjson.dumps(records, option=orjson.OPT_INDENT_2) + b"\n"


def read_ids(data: bytes) -> dict[str, str]:
    """An operator's NIP→SIASN id file: a JSON object {"<NIP>": "<id>"}, or CSV lines `NIP,id` (a header line
    whose first cell is not a NIP is skipped)."""
    text = data.decode("utf-8-sig").strip()
    if text.startswith("{"):
        try:
            loaded = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise IdsFileError(f"not JSON: {exc}") from exc
        pairs = list(loaded.items())
    else:
        pairs = [tuple(cell.strip() for cell in line[:2]) for line in csv.reader(io.StringIO(text)) if line]
        if pairs and not re.fullmatch(r"[0-9]{18}", str(pairs[0][0])):
            pairs = pairs[1:]
    out: dict[str, str] = {}
    for pair in pairs:
        if len(pair) != 2 or not re.fullmatch(r"[0-9]{18}", str(pair[0])) or not isinstance(pair[1], str) \
                or not pair[1]:
            raise IdsFileError(f"expected an 18-digit NIP and a SIASN id, got {pair!r}")
        out[str(pair[0])] = pair[1]
    return out
