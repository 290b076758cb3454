"""`objektif migrate`: prepare PostgreSQL and Kafka for the services, as an administrator, before they start.

Idempotent: applies the three services' `schema.sql` (roles, schemas, tables, grants, append-only triggers),
creates the topics that do not exist yet, and sets the services' role passwords when given. The deployment
(`deploy/docker-compose.yml`) runs it once as a one-shot container; the embedded stack does the same in
`Stack.prepare`.
"""

from __future__ import annotations

import asyncio

import asyncpg
import typer
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts import topics
from objektif.stack import SERVICES, prepare_servers, with_database


class MigrateSettings(BaseSettings):
    """Environment: OBJEKTIF_* (the same names the embedded stack reads for real servers)."""

    model_config = SettingsConfigDict(env_prefix="OBJEKTIF_", extra="ignore", frozen=True)

    database_url: str = Field(description="administrator DSN of the PostgreSQL server (any database on it)")
    kafka_bootstrap: str = Field(description="Kafka bootstrap servers, host:port[,host:port]")
    database_name: str = Field(default="objektif", description="the services' database, one schema each")
    partitions: int = Field(default=topics.DEFAULT_PARTITIONS, ge=1, le=10_000,
                            description="partitions of topics created now; existing topics keep theirs")
    # LOGIN passwords of the service roles (none: leave as is, e.g. trust auth on a local socket)
    role_password_evidence: SecretStr | None = Field(default=None, description="objektif_evidence")
    role_password_scoring: SecretStr | None = Field(default=None, description="objektif_scoring")
    role_password_audit: SecretStr | None = Field(default=None, description="objektif_audit")

    def role_passwords(self) -> dict[str, SecretStr]:
        """PostgreSQL role → password, for the services whose password is set."""
        given = {"evidence": self.role_password_evidence, "scoring": self.role_password_scoring,
                 "audit": self.role_password_audit}
        return {SERVICES[name][1]: password for name, password in given.items() if password is not None}


async def set_role_passwords(dsn: str, passwords: dict[str, SecretStr]) -> None:
    """Give each service role its LOGIN password. ALTER ROLE takes no bind parameters, so PostgreSQL's own
    `format(%I, %L)` quotes the role and the password: no value is pasted into SQL by us."""
    conn = await asyncpg.connect(dsn)
    try:
        for role, password in passwords.items():
            statement = await conn.fetchval(
                "SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', $1::text, $2::text)",
                role, password.get_secret_value(),
            )
            await conn.execute(statement)
    finally:
        await conn.close()


async def migrate(settings: MigrateSettings) -> None:
    """Apply the schemas, create the topics, set the role passwords."""
    await prepare_servers(settings.database_url, settings.database_name, settings.kafka_bootstrap,
                          settings.partitions)
    passwords = settings.role_passwords()
    if passwords:
        dsn = with_database(settings.database_url, database=settings.database_name)
        await set_role_passwords(dsn, passwords)


def migrate_command() -> None:
    """Prepare PostgreSQL (schemas, roles, grants) and Kafka (topics) for the services; safe to run again."""
    try:
        settings = MigrateSettings()  # type: ignore[call-arg]  # required fields come from the environment
    except ValueError as exc:
        typer.echo(f"migrate: configuration incomplete (OBJEKTIF_DATABASE_URL, OBJEKTIF_KAFKA_BOOTSTRAP):"
                   f" {exc}", err=True)
        raise typer.Exit(2) from exc
    try:
        asyncio.run(migrate(settings))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        typer.echo(f"migrate: failed: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(1) from exc
    roles = ", ".join(sorted(settings.role_passwords())) or "none"
    typer.echo(f"migrate: database {settings.database_name} ready ({', '.join(SERVICES)} schemas); "
               f"topics {', '.join(topics.ALL)} present; passwords set for: {roles}")


def register(app: typer.Typer) -> None:
    """Add `objektif migrate` to the CLI."""
    app.command("migrate")(migrate_command)


__all__ = ["MigrateSettings", "migrate", "register", "set_role_passwords"]
