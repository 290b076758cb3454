"""The read API over HTTP (Starlette's test client, an in-memory read model, a recording publisher): status
codes by role, the page's security headers, exports, and objections relayed to the submissions topic."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from openpyxl import load_workbook
from starlette.applications import Starlette
from starlette.testclient import TestClient
from web_org import GURU_A, GURU_B, KEPALA, PERIOD, UNIT, MemoryReads, organisation

from contracts import topics
from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.adapters.web import WebApi
from services.scoring.app.access import mint_token
from services.scoring.app.read import ReadService

SECRET = "unit-test-secret-0123456789"
NOW = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)


class Published(list):
    async def __call__(self, raw: bytes, topic: str, key: bytes) -> None:
        self.append((raw, topic, key))


@pytest.fixture(scope="module")
def read_service() -> ReadService:
    policies = load_default_policies()
    return ReadService(MemoryReads(organisation().events, policies), policies)


@pytest.fixture
def published() -> Published:
    return Published()


@pytest.fixture
def client(read_service: ReadService, published: Published) -> Iterator[TestClient]:
    api = WebApi(read_service, SECRET, published, clock=lambda: NOW)
    with TestClient(Starlette(routes=api.routes())) as c:
        yield c


def bearer(nip: str | None, role: str, expires: datetime = NOW + timedelta(hours=1)) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(nip, role, expires, SECRET)}"}


def test_the_page_is_served_with_a_policy_that_loads_nothing_from_elsewhere(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="id">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN, no external asset
    assert client.get("/static/js/core.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200


def test_without_a_token_the_api_answers_401_with_a_bearer_challenge(client: TestClient) -> None:
    answer = client.get(f"/api/appraisals/{GURU_A}/{PERIOD}")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_an_expired_token_answers_401(client: TestClient) -> None:
    answer = client.get("/api/me", headers=bearer(GURU_A, "employee", NOW - timedelta(seconds=1)))
    assert answer.status_code == 401
    assert answer.json()["error"] == "token_expired"


def test_the_employee_reads_her_own_appraisal_and_gets_403_for_a_colleagues(client: TestClient) -> None:
    own = client.get(f"/api/appraisals/{GURU_A}/{PERIOD}", headers=bearer(GURU_A, "employee"))
    assert own.status_code == 200
    assert own.json()["result"]["nip"] == GURU_A
    other = client.get(f"/api/appraisals/{GURU_A}/{PERIOD}", headers=bearer(GURU_B, "employee"))
    assert other.status_code == 403


def test_a_missing_appraisal_answers_404(client: TestClient) -> None:
    assert client.get(f"/api/appraisals/{GURU_A}/2024", headers=bearer(None, "auditor")).status_code == 404


def test_the_unit_view_and_the_as_of_view_answer_an_auditor(client: TestClient) -> None:
    unit = client.get(f"/api/units/{UNIT}/{PERIOD}", headers=bearer(None, "auditor")).json()
    assert unit["predikat_counts"]["Baik"] == 2
    as_of = client.get(
        "/api/appraisals",
        params={"as_of": "2030-01-01T00:00:00Z", "period": PERIOD},
        headers=bearer(None, "auditor"),
    )
    assert {r["nip"] for r in as_of.json()["appraisals"]} >= {GURU_A, GURU_B}
    bad = client.get("/api/appraisals", params={"as_of": "yesterday"}, headers=bearer(None, "auditor"))
    assert bad.status_code == 400
    assert client.get("/api/appraisals", headers=bearer(GURU_A, "employee")).status_code == 403


def test_the_csv_export_has_the_e_kinerja_columns_and_keeps_nips_as_text(client: TestClient) -> None:
    answer = client.get(f"/api/units/{UNIT}/{PERIOD}/export.csv", headers=bearer(KEPALA, "superior"))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == ["NIP", "Nama", "Jabatan", "Rating Hasil Kerja", "Rating Perilaku", "Predikat"]
    assert rows[1] == [GURU_A, "Ani Guru", "Guru", "Di Atas Ekspektasi", "Sesuai Ekspektasi", "Baik"]


def test_the_xlsx_export_opens_in_a_spreadsheet_with_the_nip_as_text(client: TestClient) -> None:
    answer = client.get(f"/api/units/{UNIT}/{PERIOD}/export.xlsx", headers=bearer(None, "auditor"))
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "NIP"
    assert values[2][:3] == [GURU_B, "Budi Guru", "Guru"]
    assert sheet["A2"].number_format == "@"
    assert (
        client.get(f"/api/units/{UNIT}/{PERIOD}/export.pdf", headers=bearer(None, "auditor")).status_code
        == 404
    )
    assert (
        client.get(f"/api/units/{UNIT}/{PERIOD}/export.csv", headers=bearer(GURU_A, "employee")).status_code
        == 403
    )


def objection(nip: str, source: str | None = None) -> bytes:
    return orjson.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "type": "objection.filed",
            "schema_version": 1,
            "occurred_at": NOW.isoformat(),
            "source": source or f"nip:{nip}",
            "subject": nip,
            "period": PERIOD,
            "payload": {"reasons": "Bukti belum dihitung"},
            "signature": "c2ln",
        }
    )


def test_an_objection_is_relayed_unchanged_to_the_submissions_topic_keyed_by_the_nip(
    client: TestClient, published: Published
) -> None:
    raw = objection(GURU_A)
    answer = client.post("/api/objections", content=raw, headers=bearer(GURU_A, "employee"))
    assert answer.status_code == 202
    assert published == [(raw, topics.SUBMISSIONS, GURU_A.encode())]


def test_an_objection_in_someone_elses_name_is_refused_and_not_published(
    client: TestClient, published: Published
) -> None:
    assert (
        client.post(
            "/api/objections", content=objection(GURU_A), headers=bearer(GURU_B, "employee")
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/objections",
            content=objection(GURU_A, source="system.dapodik"),
            headers=bearer(GURU_A, "employee"),
        ).status_code
        == 403
    )
    unsigned = orjson.loads(objection(GURU_A))
    del unsigned["signature"]
    assert (
        client.post(
            "/api/objections", content=orjson.dumps(unsigned), headers=bearer(GURU_A, "employee")
        ).status_code
        == 400
    )
    assert (
        client.post("/api/objections", content=b"{}", headers=bearer(GURU_A, "employee")).status_code == 400
    )
    assert published == []


def test_without_a_configured_secret_the_api_refuses_every_request(read_service: ReadService) -> None:
    api = WebApi(read_service, None, Published())
    with TestClient(Starlette(routes=api.routes())) as c:
        assert c.get("/api/me", headers=bearer(GURU_A, "employee")).status_code == 503
        assert c.get("/").status_code == 200


class Intake:
    """The evidence service's HTTP intake as the scoring service sees it: a fixed answer, or unreachable."""

    def __init__(self, status: int, answer: dict | None) -> None:
        self.status, self.answer, self.sent = status, answer, []

    async def __call__(self, raw: bytes) -> tuple[int, dict]:
        self.sent.append(raw)
        if self.answer is None:
            raise httpx.ConnectError("connection refused")
        return self.status, self.answer


def _with_intake(read_service: ReadService, intake: Intake, published: Published) -> TestClient:
    return TestClient(Starlette(routes=WebApi(read_service, SECRET, published, clock=lambda: NOW,
                                              forward=intake).routes()))


def test_with_an_http_intake_the_objection_goes_there_and_the_gates_answer_comes_back(
        read_service: ReadService, published: Published) -> None:
    intake = Intake(202, {"event_id": "e", "status": "accepted", "sequence": 41})
    raw = objection(GURU_A)
    with _with_intake(read_service, intake, published) as c:
        answer = c.post("/api/objections", content=raw, headers=bearer(GURU_A, "employee"))
    assert answer.status_code == 202
    assert answer.json()["via"] == "http"
    assert answer.json()["answer"]["sequence"] == 41
    assert intake.sent == [raw]
    assert published == []


def test_a_rejection_by_the_gate_is_passed_back_with_its_reasons(
        read_service: ReadService, published: Published) -> None:
    reasons = [{"code": "signature.invalid", "message_id": "Tanda tangan tidak sah",
                "message_en": "Signature is invalid", "path": "signature"}]
    intake = Intake(422, {"event_id": "e", "status": "rejected", "reasons": reasons})
    with _with_intake(read_service, intake, published) as c:
        answer = c.post("/api/objections", content=objection(GURU_A), headers=bearer(GURU_A, "employee"))
    assert answer.status_code == 422
    assert answer.json()["answer"]["reasons"] == reasons
    assert published == []


@pytest.mark.parametrize(("status", "answer"), [(503, {"status": "refused", "reasons": []}), (429, {}), (0, None)])
def test_when_the_http_intake_records_nothing_the_objection_goes_through_kafka(
        read_service: ReadService, published: Published, status: int, answer: dict | None) -> None:
    raw = objection(GURU_A)
    with _with_intake(read_service, Intake(status, answer), published) as c:
        filed = c.post("/api/objections", content=raw, headers=bearer(GURU_A, "employee"))
    assert filed.status_code == 202
    assert filed.json()["via"] == "kafka"
    assert published == [(raw, topics.SUBMISSIONS, GURU_A.encode())]
