"""Composition root of the audit service."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from faststream import FastStream
from faststream.kafka.annotations import KafkaMessage
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from chassis.collector import batch_collection, settle_collector
from chassis.db import create_pool
from chassis.http import HttpService, ServiceMetrics, broker_check, database_check, with_http
from chassis.kafka import batch_subscription, ensure_topics, make_broker, next_positions_of
from chassis.logging import configure_logging
from chassis.settings import ServiceSettings
from contracts import topics
from services.audit.adapters.dossier_web import dossier_routes
from services.audit.adapters.ledger import Ledger, entry_of
from services.audit.adapters.person_web import person_routes
from services.audit.adapters.tiles_web import tile_routes
from services.audit.adapters.web import receipt_routes
from services.audit.app.checkpoints import DEFAULT_ORIGIN, PeriodicCheckpoints, signer_from_seed
from services.audit.app.tiles import entries_token

GROUP_ID = "objektif-audit"
AUDITED = (topics.EVIDENCE, topics.REJECTIONS, topics.SCORES)


class AuditSettings(ServiceSettings):
    """Environment: OBJEKTIF_AUDIT_*."""

    model_config = SettingsConfigDict(env_prefix="OBJEKTIF_AUDIT_", extra="ignore", frozen=True)

    checkpoint_key: SecretStr | None = Field(
        default=None, description="base64 Ed25519 seed that signs checkpoints; without it none is issued")
    checkpoint_origin: str = DEFAULT_ORIGIN
    checkpoint_interval_s: float = Field(default=5.0, gt=0)
    entries_token: SecretStr | None = Field(
        default=None, description="bearer token that opens the tiled log's entry bundles (auditors); default: "
        "derived from the checkpoint key (`objektif audit tiles-token`); neither: entry bundles stay closed")


@dataclass(slots=True)
class Resources:
    """What the service opens at startup and closes at shutdown: the pool and the ledger over it (None until
    open; the HTTP routes answer 503 meanwhile)."""

    pool: asyncpg.Pool | None = None
    ledger: Ledger | None = None

    def open_ledger(self) -> Ledger:
        """The ledger, which the broker's subscriber only reaches after startup opened it."""
        if self.ledger is None:
            raise RuntimeError("the ledger is used before the service opened it")
        return self.ledger


def build_app(settings: AuditSettings) -> FastStream | HttpService:
    """The audit service as a FastStream app: every event of the audited topics becomes a ledger leaf; with its
    HTTP side (health, readiness, metrics) when `http_port` is set (chassis/http.py)."""
    log = configure_logging("audit", json=settings.log_json, level=settings.log_level)
    broker = make_broker(settings.kafka_bootstrap, client_id="objektif-audit")
    held = Resources()
    metrics = ServiceMetrics("audit")
    key = settings.checkpoint_key
    signer = None if key is None else signer_from_seed(key.get_secret_value(), settings.checkpoint_origin)
    checkpoints = None if signer is None else PeriodicCheckpoints(signer, settings.checkpoint_interval_s)
    token = (settings.entries_token.get_secret_value() if settings.entries_token is not None
             else None if signer is None else entries_token(signer))

    @broker.subscriber(*AUDITED, **batch_subscription(settings, GROUP_ID))
    async def on_events(msg: KafkaMessage) -> None:
        records = msg.raw_message
        with metrics.batch(records, msg.consumer), batch_collection():
            appended = await held.open_ledger().append(
                [entry_of(r.topic, r.value or b"") for r in records], next_positions_of(records)
            )
        log.info("batch.ledgered", records=len(records), appended=appended, ms=metrics.last_batch_ms,
                 waited_ms=metrics.last_wait_ms, gc_ms=metrics.last_gc_ms)

    async def open_resources() -> None:
        # Subscribing to a topic that does not exist yet would let a broker that auto-creates topics choose
        # their partition count; create them as the deployment would (a no-op when they exist).
        await ensure_topics(settings.kafka_bootstrap, AUDITED, topics.DEFAULT_PARTITIONS)
        held.pool = await create_pool(settings.database_url)
        held.ledger = Ledger(held.pool)
        if checkpoints is not None:
            checkpoints.start(held.pool)
        settle_collector()
        log.info("service.started", group_id=GROUP_ID)

    async def close_resources() -> None:
        if checkpoints is not None:
            await checkpoints.stop()
        if held.pool is not None:
            await held.pool.close()
        log.info("service.stopped")

    app = FastStream(broker, on_startup=[open_resources], on_shutdown=[close_resources])
    return with_http(app, settings.http_port, metrics=metrics,
                     routes=[*receipt_routes(lambda: held.pool), *tile_routes(lambda: held.pool, token),
                             *dossier_routes(lambda: held.pool, token,
                                             None if signer is None else signer.verifier_key()),
                             *person_routes(lambda: held.pool, token)],
                     checks=[database_check(lambda: held.pool), broker_check(app)])
