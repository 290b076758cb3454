"""The scoring composition root serves the work routes (tasks, team, feedback, admin) beside the people routes."""

from __future__ import annotations

from starlette.routing import Route

from chassis.http import HttpService
from services.scoring.main import ScoringSettings, build_app

COMMON = {"kafka_bootstrap": "127.0.0.1:1", "database_url": "postgresql://nobody@127.0.0.1:1/none", "http_port": 1,
          "token_secret": "unit-test-secret-0123456789", "evidence_url": "http://127.0.0.1:1"}


def test_the_work_routes_are_served() -> None:
    service = build_app(ScoringSettings(audit_url="http://127.0.0.1:2", **COMMON))  # type: ignore[arg-type]
    assert isinstance(service, HttpService)
    paths = {(r.path, m) for r in service.asgi.routes if isinstance(r, Route) for m in (r.methods or ())}
    for wanted in (("/api/tasks", "GET"), ("/api/team", "GET"), ("/api/feedback/{nip}/{period}", "GET"),
                   ("/api/admin/progress", "GET"), ("/api/admin/periods/{period}/close", "POST"),
                   ("/api/admin/dossier/{nip}/{period}", "GET"), ("/api/submissions", "POST")):
        assert wanted in paths, wanted
