"""One record of SIASN's `kinerjaPeriodik` (BKN's Sistem Informasi ASN, `POST /kinerjaperiodik/save`), as
`objektif export siasn` writes it (docs/siasn.md, ADR 0012).

The field names and kinds are SIASN's public field list (the BKN API's documented request body, as the public
SIASN client libraries reproduce it); the codes are what Objektif writes into them. Codes marked *inferred* are
not in a public reference table: they follow the published order of the labels and are listed in docs/siasn.md.
`nip` is Objektif's, so that an operator can match each record to the employee before sending it; SIASN itself
names the employee by `pnsDinilaiId`, its own id of the person.

The attributes keep SIASN's camelCase names, so that the record reads exactly as SIASN's field list does.
A contract, not behaviour: the mapping from a result lives in `services/scoring/adapters/siasn.py`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import NIP_PATTERN

SCHEMA_NAME = "siasn.kinerja_periodik.v1.schema.json"
SCHEMA_ID = "https://objektif.example/schemas/siasn.kinerja_periodik.v1.json"

Month = Annotated[int, Field(ge=1, le=12)]
Year = Annotated[int, Field(ge=2014, le=2100)]
#: SIASN's `perilakuDanKinerja` reference: 1 Di Atas Ekspektasi, 2 Sesuai Ekspektasi, 3 Di Bawah Ekspektasi.
Level = Literal[1, 2, 3]
Name = Annotated[str, Field(min_length=1, max_length=255)]


class KinerjaPeriodik(BaseModel):
    """One employee's periodic result as SIASN's `kinerjaPeriodik` takes it (REGULATION.md §1.1, §1.5, §5)."""

    model_config = ConfigDict(frozen=True, extra="forbid", title="SIASN kinerjaPeriodik")

    nip: str = Field(pattern=NIP_PATTERN, description="the appraised employee's NIP (Objektif's; not sent to SIASN)")
    pnsDinilaiId: str | None = Field(
        max_length=64,
        description="SIASN's own id of the employee, from the operator's NIP→id file (`--ids`); null without one",
    )
    tahun: Year = Field(description="the year of the appraisal")
    tahunMulaiPenilaian: Year = Field(description="the year the appraised period starts")
    tahunSelesaiPenilaian: Year = Field(description="the year the appraised period ends")
    bulanMulaiPenilaian: Month = Field(description="the first month of the period (1-12)")
    bulanSelesaiPenilaian: Month = Field(description="the last month of the period (1-12)")
    periodikId: Literal["1", "2"] = Field(
        description="SIASN's `periodik` reference: 1 Bulanan, 2 Triwulanan (inferred)"
    )
    hasilKinerjaNilai: Level = Field(
        description="rating hasil kerja used: 1 Di Atas, 2 Sesuai, 3 Di Bawah Ekspektasi"
    )
    perilakuKerjaNilai: Level = Field(
        description="rating perilaku used: 1 Di Atas, 2 Sesuai, 3 Di Bawah Ekspektasi"
    )
    kuadranKinerjaNilai: Literal[1, 2, 3, 4, 5] = Field(
        description="predikat kinerja: 1 Sangat Baik, 2 Baik, 3 Butuh Perbaikan, 4 Kurang/Misconduct, "
        "5 Sangat Kurang (inferred)"
    )
    koefisienId: str | None = Field(
        max_length=64,
        description="the jenjang's koefisien id from the angka kredit policy; null when not a jabatan fungsional",
    )
    penilaiNipNrp: str | None = Field(
        pattern=NIP_PATTERN, description="the Pejabat Penilai's NIP; null when outside Objektif's data"
    )
    penilaiNama: Name | None = Field(description="the Pejabat Penilai's name")
    penilaiJabatanNama: Name | None = Field(description="the Pejabat Penilai's jabatan")
    penilaiUnorNama: Name | None = Field(description="the name of the Pejabat Penilai's unit")
    penilaiGolongan: str | None = Field(
        pattern=r"^[1-4][1-5]$",
        description="SIASN's `golonganPns` id of the Pejabat Penilai's golongan: III/a → 31 (inferred)",
    )
    statusPenilai: Literal["ASN", "NON ASN"] | None = Field(
        description="ASN when the Pejabat Penilai has a NIP in Objektif's data; null when unknown"
    )


def schema() -> dict[str, object]:
    """The record's JSON Schema, as checked in at contracts/schemas/ (contracts/generate.py writes it)."""
    out = KinerjaPeriodik.model_json_schema()
    out["$id"] = SCHEMA_ID
    out["x-objektif-external"] = "SIASN (BKN) kinerjaPeriodik, POST /kinerjaperiodik/save"
    return out
