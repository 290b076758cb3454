"""Settings common to every service; each service subclasses with its own env prefix (STYLE.md)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Where the broker and the database are, and how big a batch is. Read from the environment only."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    kafka_bootstrap: str = Field(description="Kafka bootstrap servers, host:port[,host:port]")
    database_url: str = Field(description="PostgreSQL DSN for this service's own least-privilege role")
    batch_max_records: int = Field(default=2000, ge=1, le=100_000)
    batch_timeout_ms: int = Field(default=50, ge=1, le=10_000)
    fetch_max_wait_ms: int = Field(
        default=20, ge=1, le=10_000,
        description="how long a fetch may wait for records (chassis.kafka.FETCH_MAX_WAIT_MS: Tansu holds every fetch "
                    "this long, so it is a floor on each hop's latency there)")
    log_json: bool = True
    log_level: str = "INFO"
    http_port: int | None = Field(default=None, description="health and metrics endpoint; none when unset")
