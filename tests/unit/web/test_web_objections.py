"""`GET /api/objections?open=true` and the list behind `objektif keberatan list` (REGULATION.md §2.4; issue 4):
open objections with their decision deadlines, for the superiors in the chain and the BKPSDM (auditors)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from web_org import GURU_A, GURU_B, KEPALA, PENGAWAS, MemoryReads, organisation

from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.adapters.web import WebApi
from services.scoring.app.access import mint_token
from services.scoring.app.objections import objection_rows
from services.scoring.app.read import ReadService

SECRET = "unit-test-secret-0123456789"
NOW = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)


async def _ignore(raw: bytes, topic: str, key: bytes) -> None:
    raise AssertionError("nothing is published by a read")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    policies = load_default_policies()
    api = WebApi(ReadService(MemoryReads(organisation().events, policies), policies), SECRET, _ignore, lambda: NOW)
    with TestClient(Starlette(routes=api.routes())) as c:
        yield c


def listed(client: TestClient, nip: str | None, role: str, query: str = "?open=true") -> list[dict[str, object]]:
    token = mint_token(nip, role, NOW + timedelta(hours=1), SECRET)
    answer = client.get(f"/api/objections{query}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()["objections"]  # type: ignore[no-any-return]


def test_the_bkpsdm_sees_an_undecided_objection_past_its_due_day_as_overdue_today(client: TestClient) -> None:
    rows = listed(client, None, "auditor")
    assert [(r["nip"], r["status"]) for r in rows] == [(GURU_A, "overdue")]
    due = datetime.fromisoformat(str(rows[0]["filed_at"])).date() + timedelta(days=14)
    assert rows[0]["decision_due"] == due.isoformat()
    assert rows[0]["days_left"] == (due - NOW.date()).days < 0


def test_the_pejabat_penilai_and_the_atasan_see_the_objection_and_a_colleague_does_not(client: TestClient) -> None:
    assert [r["nip"] for r in listed(client, KEPALA, "superior")] == [GURU_A]
    assert [r["nip"] for r in listed(client, PENGAWAS, "superior")] == [GURU_A]
    assert listed(client, GURU_B, "employee") == []
    assert [r["nip"] for r in listed(client, GURU_A, "employee")] == [GURU_A]


def test_without_a_token_the_list_is_refused(client: TestClient) -> None:
    assert client.get("/api/objections").status_code == 401


def _result(nip: str, status: str, due: str, outcome: str | None = None) -> dict[str, object]:
    objection = {"status": status, "decision_due": due, "outcome": outcome, "objection_event_id": "o-" + nip}
    return {"nip": nip, "period": "2025-Q3", "objection": objection, "predikat": "Baik"}


def test_only_undecided_objections_are_open_and_the_nearest_deadline_comes_first() -> None:
    results = [
        _result("1", "filed", "2025-10-20"),
        _result("2", "decided", "2025-10-02", "diterima"),
        _result("3", "filed", "2025-10-05"),
        {"nip": "4", "period": "2025-Q3", "objection": None},
    ]
    today = date(2025, 10, 1)
    assert [(r.nip, r.days_left) for r in objection_rows(results, today, open_only=True)] == [("3", 4), ("1", 19)]
    every = objection_rows(results, today, open_only=False)
    assert [(r.nip, r.status, r.days_left) for r in every][-1] == ("2", "decided", None)
