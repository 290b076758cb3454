"""`GET /api/units/{unit}/{period}/export.siasn.json`: a unit's final results as SIASN kinerjaPeriodik records,
guarded like the CSV and XLSX exports (docs/siasn.md)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from web_org import (
    GURU_A,
    GURU_B,
    KEPALA,
    OUTSIDER,
    PENGAWAS,
    PERIOD,
    UNIT,
    MemoryReads,
    organisation,
    with_assignment,
)

from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.adapters.web import WebApi
from services.scoring.app.access import mint_token
from services.scoring.app.read import ReadService

SECRET = "unit-test-secret-0123456789"
NOW = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
ROUTE = f"/api/units/{UNIT}/{PERIOD}/export.siasn.json"


async def _drop(raw: bytes, topic: str, key: bytes) -> None:
    """No objection is filed here."""


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    policies = load_default_policies()
    events = with_assignment(organisation().events, GURU_A, jenjang_fungsional="Ahli Pertama")
    events = with_assignment(events, KEPALA, pangkat_golongan="IV/a")
    api = WebApi(ReadService(MemoryReads(events, policies), policies), SECRET, _drop, clock=lambda: NOW)
    with TestClient(Starlette(routes=api.routes())) as c:
        yield c


def bearer(nip: str | None, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(nip, role, NOW + timedelta(hours=1), SECRET)}"}


def test_the_head_downloads_her_units_final_results_as_siasn_records(client: TestClient) -> None:
    answer = client.get(ROUTE, headers=bearer(KEPALA, "superior"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["content-disposition"] == f'attachment; filename="objektif-{UNIT}-{PERIOD}.siasn.json"'
    assert answer.headers["x-objektif-skipped"] == "0"
    records = {r["nip"]: r for r in answer.json()}
    assert set(records) == {GURU_A, GURU_B}
    a = records[GURU_A]
    assert (a["hasilKinerjaNilai"], a["perilakuKerjaNilai"], a["kuadranKinerjaNilai"]) == (1, 2, 2)  # Baik
    assert (a["koefisienId"], records[GURU_B]["koefisienId"]) == ("ahli-pertama", None)
    assert (a["penilaiNipNrp"], a["penilaiNama"], a["penilaiJabatanNama"]) == (KEPALA, "Kepala Sekolah", "Kepala")
    assert (a["penilaiUnorNama"], a["penilaiGolongan"], a["statusPenilai"]) == ("SD Negeri 1 Candisari", "41", "ASN")
    assert a["pnsDinilaiId"] is None  # only the operator's --ids file knows SIASN's own id


def test_an_auditor_gets_the_same_records(client: TestClient) -> None:
    by_auditor = client.get(ROUTE, headers=bearer(None, "auditor"))
    assert by_auditor.status_code == 200
    assert by_auditor.content == client.get(ROUTE, headers=bearer(KEPALA, "superior")).content  # deterministic


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        (bearer(GURU_A, "employee"), 403),  # an employee does not export colleagues' results
        (bearer(OUTSIDER, "superior"), 403),  # a superior outside the unit sees none of it
    ],
)
def test_the_export_is_guarded_like_the_others(client: TestClient, headers: dict[str, str], status: int) -> None:
    assert client.get(ROUTE, headers=headers).status_code == status


def test_an_annual_period_is_refused_and_an_empty_unit_is_not_found(client: TestClient) -> None:
    annual = client.get(f"/api/units/{UNIT}/2025/export.siasn.json", headers=bearer(None, "auditor"))
    assert annual.status_code == 400 and "quarterly" in annual.json()["message"]
    empty = client.get(f"/api/units/sd-9/{PERIOD}/export.siasn.json", headers=bearer(PENGAWAS, "superior"))
    assert empty.status_code == 404
