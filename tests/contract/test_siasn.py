"""The SIASN export against its checked-in contract, contracts/schemas/siasn.kinerja_periodik.v1.schema.json
(docs/siasn.md): every record of the demo quarter validates, the schema refuses what SIASN's field list does not
allow, and the codes read as the mapping table says."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import jsonschema
import orjson
import pytest

from contracts import siasn as contract
from contracts.generate import SCHEMA_DIR
from services.scoring.adapters import siasn
from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.app.access import Principal, Role
from services.scoring.app.read import ReadService
from services.scoring.domain import score_stream
from tests.unit.scoring.demo_world import demo_events
from tests.unit.web.web_org import MemoryReads

AUDITOR = Principal(None, Role.AUDITOR, 0)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / contract.SCHEMA_NAME).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def demo() -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The demo quarter's SIASN records (every unit, as an auditor exports them) and its results by NIP."""
    policies = load_default_policies()
    events = demo_events()
    service = ReadService(MemoryReads(events, policies), policies)
    rows, _skipped = asyncio.run(service.siasn_rows(AUDITOR, "2025-Q3"))
    ids = {rows[0].nip: "A8ACA7397AEB3912E040640A040269BB"}  # a SIASN id as an operator's file gives it
    results = {a.nip: a.to_json() for a in score_stream(events, policies).appraisals}
    return orjson.loads(siasn.to_json(rows, ids)), results


def test_every_record_of_the_demo_quarter_is_valid_against_the_checked_in_schema(
    validator: jsonschema.Draft202012Validator, demo: tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]
) -> None:
    records, results = demo
    assert len(records) >= 30
    for record in records:
        assert not list(validator.iter_errors(record)), record
        assert (record["bulanMulaiPenilaian"], record["bulanSelesaiPenilaian"], record["tahun"]) == (7, 9, 2025)
        assert record["periodikId"] == "2"
        assert record["kuadranKinerjaNilai"] == siasn.KUADRAN[results[record["nip"]]["predikat"]]
    assert records[0]["pnsDinilaiId"] == "A8ACA7397AEB3912E040640A040269BB"
    assert all(r["pnsDinilaiId"] is None for r in records[1:])


def test_fungsional_staff_carry_their_koefisien_id_and_everyone_the_pejabat_penilai_the_structure_names(
    demo: tuple[list[dict[str, Any]], dict[str, dict[str, Any]]],
) -> None:
    records, results = demo
    for record in records:
        credit = results[record["nip"]].get("angka_kredit")
        assert record["koefisienId"] == (credit["koefisien_id"] if credit else None)
        assert record["penilaiNipNrp"] == results[record["nip"]]["pejabat_penilai_nip"]
        assert record["statusPenilai"] == "ASN"
        assert record["penilaiNama"] and record["penilaiJabatanNama"] and record["penilaiUnorNama"]
        assert record["penilaiGolongan"] in {"41", "42", "44"} or record["penilaiGolongan"].startswith("3")
    assert {"ahli-pertama", "ahli-muda", "terampil", "mahir", None} <= {r["koefisienId"] for r in records}


def complete() -> dict[str, Any]:
    return {
        "nip": "198001012005012003", "pnsDinilaiId": None, "tahun": 2025, "tahunMulaiPenilaian": 2025,
        "tahunSelesaiPenilaian": 2025, "bulanMulaiPenilaian": 7, "bulanSelesaiPenilaian": 9, "periodikId": "2",
        "hasilKinerjaNilai": 2, "perilakuKerjaNilai": 2, "kuadranKinerjaNilai": 2, "koefisienId": None,
        "penilaiNipNrp": None, "penilaiNama": None, "penilaiJabatanNama": None, "penilaiUnorNama": None,
        "penilaiGolongan": None, "statusPenilai": None,
    }


@pytest.mark.parametrize(
    "change",
    [
        {"kuadranKinerjaNilai": 6},
        {"hasilKinerjaNilai": 0},
        {"perilakuKerjaNilai": "2"},
        {"periodikId": 2},
        {"bulanSelesaiPenilaian": 13},
        {"statusPenilai": "PNS"},
        {"penilaiGolongan": "III/a"},
        {"nilaiAngkaKredit": "3.13"},
    ],
)
def test_the_schema_refuses_what_the_field_list_does_not_allow(
    validator: jsonschema.Draft202012Validator, change: dict[str, Any]
) -> None:
    assert not list(validator.iter_errors(complete()))
    assert list(validator.iter_errors({**complete(), **change}))


def test_every_field_must_be_present_even_when_unknown(validator: jsonschema.Draft202012Validator) -> None:
    for field in complete():
        assert list(validator.iter_errors({k: v for k, v in complete().items() if k != field})), field


def test_the_codes_follow_the_mapping_table() -> None:
    assert siasn.KUADRAN == {"Sangat Baik": 1, "Baik": 2, "Butuh Perbaikan": 3, "Kurang/Misconduct": 4,
                             "Sangat Kurang": 5}
    assert [siasn.golongan_id(g) for g in ("III/a", "III / d", "IV/e", "II/b", "I/a", "iv/A")] == [
        "31", "34", "45", "22", "11", "41"]
    assert [siasn.golongan_id(g) for g in (None, "", "III/e", "IX", "Penata Muda")] == [None] * 5


def test_the_operators_id_file_is_a_json_object_or_csv_lines() -> None:
    nip, other = "198001012005012003", "198502022010012004"
    assert siasn.read_ids(orjson.dumps({nip: "id-1"})) == {nip: "id-1"}
    assert siasn.read_ids(f"\ufeffnip,pns_id\n{nip},id-1\n{other}, id-2\n".encode()) == {nip: "id-1", other: "id-2"}
    for bad in (b"{not json", b'{"123": "id"}', f"{nip}\n".encode(), orjson.dumps({nip: 7})):
        with pytest.raises(siasn.IdsFileError):
            siasn.read_ids(bad)


def test_a_sealed_name_stays_sealed_for_its_reader_to_open_and_the_rest_is_checked(
    validator: jsonschema.Draft202012Validator,
) -> None:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from contracts import pdp
    from contracts.events import Rating
    from services.scoring.app.siasn import Rater, SiasnRow

    key = X25519PrivateKey.generate()
    sealed = pdp.seal("Ibu Kepala", pdp.raw_public(key))
    rater = Rater("197501012001121002", sealed, "Kepala Sekolah", "IV/a", "SD Negeri 1 Candisari")
    row = SiasnRow("198001012005012003", "2025-Q3", "Baik", Rating.SESUAI, Rating.DI_ATAS, None, rater.nip, rater)
    doc = siasn.record(row, {})
    assert doc["penilaiNama"] == sealed and "Ibu Kepala" not in orjson.dumps(doc).decode()
    assert not list(validator.iter_errors({**doc, "penilaiNama": pdp.open_sealed(sealed, key)}))
    too_long = SiasnRow(row.nip, "2025-Q3", "Baik", Rating.SESUAI, Rating.DI_ATAS, "k" * 65, rater.nip, rater)
    with pytest.raises(ValueError, match="koefisienId"):  # the stand-in hides no other field's fault
        siasn.record(too_long, {})
