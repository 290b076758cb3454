"""`python -m objektif.health <service>`: the container health check of a service; exit 0 healthy, 1 not.

It reads the service's own settings (OBJEKTIF_<SERVICE>_*, the same class the service reads) and checks what
the service needs to work: its PostgreSQL role can log in and read its own schema (so `objektif migrate` ran
and granted), the broker answers and the topics the service reads and writes exist, and, when the service is
configured with `http_port`, that `/healthz` on it answers 200. It runs beside the service process, not inside
it: a service that dies ends its container anyway, while this check catches a service whose servers are gone.
"""

from __future__ import annotations

import asyncio
import sys
import urllib.request
from collections.abc import Sequence

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from chassis.settings import ServiceSettings
from contracts import topics

#: service → the topics it reads or writes (ARCHITECTURE.md, "Services, and what each owns")
TOPICS: dict[str, tuple[str, ...]] = {
    "evidence": (topics.SUBMISSIONS, topics.EVIDENCE, topics.REJECTIONS),
    "scoring": (topics.EVIDENCE, topics.SCORES),
    "audit": (topics.EVIDENCE, topics.REJECTIONS, topics.SCORES),
}


def settings_class(service: str) -> type[ServiceSettings]:
    """The pydantic-settings class the service itself reads its environment with."""
    if service == "evidence":
        from services.evidence.main import EvidenceSettings

        return EvidenceSettings
    if service == "scoring":
        from services.scoring.main import ScoringSettings

        return ScoringSettings
    if service == "audit":
        from services.audit.main import AuditSettings

        return AuditSettings
    raise ValueError(f"unknown service {service!r}; choose one of {', '.join(TOPICS)}")


async def check_database(service: str, dsn: str, seconds: float) -> str | None:
    """None when the service's role logs in and reads its schema's consumer positions; else what failed.
    `service` is one of TOPICS; its schema bears its name."""
    try:
        conn = await asyncpg.connect(dsn, timeout=seconds)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"database: cannot connect: {type(exc).__name__}: {exc}"
    try:
        query = f"SELECT count(*) FROM {service}.consumer_positions"  # noqa: S608  (service is one of TOPICS)
        await conn.fetchval(query, timeout=seconds)
    except (asyncpg.PostgresError, TimeoutError) as exc:
        return f"database: {service} schema not readable (has `objektif migrate` run?): {exc}"
    finally:
        await conn.close()
    return None


async def check_broker(bootstrap: str, wanted: Sequence[str], seconds: float) -> str | None:
    """None when the broker answers and every topic in `wanted` exists; else what failed."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(seconds * 1000))
    try:
        await asyncio.wait_for(admin.start(), seconds)
        existing = set(await asyncio.wait_for(admin.list_topics(), seconds))
    except Exception as exc:  # aiokafka's own errors, OSError and timeouts alike all mean "no broker"
        return f"broker: {bootstrap} did not answer: {type(exc).__name__}: {exc}"
    finally:
        await admin.close()
    missing = sorted(set(wanted) - existing)
    return f"broker: topics missing (has `objektif migrate` run?): {', '.join(missing)}" if missing else None


def check_http(port: int, seconds: float) -> str | None:
    """None when http://127.0.0.1:<port>/healthz answers 200; else what failed."""
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=seconds) as response:
            return None if response.status == 200 else f"http: {url} answered {response.status}"
    except OSError as exc:  # URLError and HTTPError are OSErrors
        return f"http: {url}: {exc}"


async def probe(service: str, settings: ServiceSettings, seconds: float = 5.0) -> tuple[str, ...]:
    """Every problem found, in a fixed order (database, broker, http); empty when the service is healthy."""
    found = await asyncio.gather(
        check_database(service, settings.database_url, seconds),
        check_broker(settings.kafka_bootstrap, TOPICS[service], seconds),
    )
    problems = [p for p in found if p is not None]
    if settings.http_port is not None:
        http = await asyncio.to_thread(check_http, settings.http_port, seconds)
        if http is not None:
            problems.append(http)
    return tuple(problems)


def main(argv: Sequence[str] | None = None) -> int:
    """Check one service; print the problems to stderr; 0 when healthy, 1 when not, 2 on a usage error."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] not in TOPICS:
        print(f"usage: python -m objektif.health {{{','.join(TOPICS)}}}", file=sys.stderr)
        return 2
    service = args[0]
    try:
        settings = settings_class(service)()  # type: ignore[call-arg]  # fields come from the environment
    except ValueError as exc:  # pydantic's ValidationError: a required variable is missing or malformed
        print(f"{service}: configuration: {exc}", file=sys.stderr)
        return 1
    problems = asyncio.run(probe(service, settings))
    for problem in problems:
        print(f"{service}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
