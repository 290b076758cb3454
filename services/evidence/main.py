"""Composition root of the evidence service: the only place that opens its pool and broker (STYLE.md)."""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from faststream import FastStream
from faststream.kafka.annotations import KafkaMessage
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chassis.collector import batch_collection, settle_collector
from chassis.db import create_pool
from chassis.http import HttpService, ServiceMetrics, broker_check, database_check, with_http
from chassis.kafka import (
    KeyedBatchProducer,
    LogProbe,
    batch_subscription,
    ensure_topics,
    make_broker,
    next_positions_of,
)
from chassis.logging import configure_logging
from chassis.outbox import OutboxRelay, OutboxSpec
from chassis.settings import ServiceSettings
from contracts import topics
from contracts.cloudevents import headers_of_published
from services.evidence.adapters.http_intake import HttpIntakeLimits, intake_routes
from services.evidence.adapters.http_pdp import pdp_routes
from services.evidence.adapters.http_sources import source_routes
from services.evidence.adapters.kafka_framing import unframe
from services.evidence.adapters.pdp_keys import DataKeys, kek_from_text
from services.evidence.adapters.pdp_person import RETENTION_FILE, Retention
from services.evidence.adapters.store import EvidenceStore, utc_now
from services.evidence.app.intake import Intake
from services.evidence.app.verify_ahead import DEFAULT_THREADS, VerifyAhead
from services.evidence.domain import initial_state

GROUP_ID = "objektif-evidence"
#: The topics this service reads or writes: created on start, and again when the broker came back empty.
OWN_TOPICS = (topics.SUBMISSIONS, topics.EVIDENCE, topics.REJECTIONS)


class EvidenceSettings(ServiceSettings):
    """Environment: OBJEKTIF_EVIDENCE_*."""

    model_config = SettingsConfigDict(env_prefix="OBJEKTIF_EVIDENCE_", extra="ignore", frozen=True)
    admin_public_keys: str = Field(
        description="comma-separated base64 Ed25519 public keys allowed to register sources (no default: a secret)"
    )
    http_max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, description="POST /submissions, NDJSON")
    http_rate_per_second: float = Field(default=20.0, gt=0, description="POST /submissions per client, average")
    http_burst: int = Field(default=100, ge=1, description="POST /submissions per client at once")
    pdp_kek: str = Field(
        description="base64 32-byte key-encryption key wrapping the persons' data keys (UU PDP, ADR 0010); a secret"
    )
    pdp_token: str | None = Field(default=None, description="bearer token of POST /pdp/open (services only)")
    pdp_retention_file: Path = Field(default=RETENTION_FILE, description="retention per event type (UU PDP)")
    verify_threads: int = Field(
        default=DEFAULT_THREADS, ge=0,
        description="threads checking singly signed submissions' Ed25519 signatures ahead of the gate (0: none, "
                    "the gate verifies each; worth it where the service has cores of its own)",
    )


@dataclass
class Resources:
    """What the service opens on startup (None or empty until then) and closes on shutdown."""

    pool: asyncpg.Pool | None = None
    intake: Intake | None = None
    verify: VerifyAhead | None = None
    data_keys: DataKeys | None = None
    relays: list[OutboxRelay] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def build_app(settings: EvidenceSettings) -> FastStream | HttpService:
    """The evidence service as a FastStream app: consume submissions, decide, store, relay; with its HTTP side
    (health, readiness, metrics) when `http_port` is set (chassis/http.py)."""
    log = configure_logging("evidence", json=settings.log_json, level=settings.log_level)
    broker = make_broker(settings.kafka_bootstrap, client_id="objektif-evidence")
    stop = asyncio.Event()
    held = Resources()
    metrics = ServiceMetrics("evidence")
    kek = kek_from_text(settings.pdp_kek)  # a malformed key stops the service here, saying why
    opened: Counter[str] = Counter()

    @broker.subscriber(topics.SUBMISSIONS, **batch_subscription(settings, GROUP_ID))
    async def on_submissions(msg: KafkaMessage) -> None:
        records = msg.raw_message
        assert held.intake is not None  # consumers start after open_resources
        with metrics.batch(records, msg.consumer), batch_collection():
            framed = unframe(records)  # native envelopes as they are, CloudEvents as the envelope they frame
            outcome = await held.intake.handle(framed.raws, next_positions_of(records),
                                               received_from=f"kafka:{topics.SUBMISSIONS}", refused=framed.refused)
        for relay in held.relays:
            relay.notify()
        log.info("batch.stored", records=len(records), accepted=len(outcome.accepted), rejected=outcome.rejected,
                 duplicates=len(outcome.duplicates), ms=metrics.last_batch_ms, waited_ms=metrics.last_wait_ms,
                 gc_ms=metrics.last_gc_ms)

    async def recreate_topics() -> None:
        await ensure_topics(settings.kafka_bootstrap, OWN_TOPICS, topics.DEFAULT_PARTITIONS)

    async def open_resources() -> None:
        await recreate_topics()
        pool = await create_pool(settings.database_url)
        admin_keys = [base64.b64decode(k) for k in settings.admin_public_keys.split(",") if k.strip()]
        data_keys = DataKeys(pool, kek)
        verify = VerifyAhead(settings.verify_threads)
        intake = Intake(EvidenceStore(pool), initial_state(admin_keys), clock=utc_now, data_keys=data_keys,
                        verify=verify)
        await intake.catch_up()
        held.pool, held.intake, held.verify, held.data_keys = pool, intake, verify, data_keys
        settle_collector()

    async def start_relays() -> None:
        pool = held.pool
        assert pool is not None
        # Each relay watches its topic and republishes its store when the broker lost it (ARCHITECTURE.md).
        kafka = settings.kafka_bootstrap
        relays = [
            # each record also carries CloudEvents binary-mode headers, its value unchanged (issue 19)
            OutboxRelay(pool, KeyedBatchProducer(kafka), OutboxSpec("evidence", "evidence.events",
                                                                  "evidence.relay_cursors", topics.EVIDENCE,
                                                                  headers=headers_of_published),
                        probe=LogProbe(kafka), on_reset=recreate_topics),
            OutboxRelay(pool, KeyedBatchProducer(kafka), OutboxSpec("rejections", "evidence.rejections",
                                                                  "evidence.relay_cursors", topics.REJECTIONS,
                                                                  headers=headers_of_published),
                        probe=LogProbe(kafka), on_reset=recreate_topics),
        ]
        held.relays = relays
        held.tasks = [asyncio.create_task(r.run(stop)) for r in relays]
        log.info("service.started", group_id=GROUP_ID)

    async def close_resources() -> None:
        stop.set()
        await asyncio.gather(*held.tasks, return_exceptions=True)
        await asyncio.gather(*(r.close() for r in held.relays), return_exceptions=True)
        if held.pool is not None:
            await held.pool.close()
        if held.verify is not None:
            held.verify.close()
        log.info("service.stopped")

    app = FastStream(broker, on_startup=[open_resources], after_startup=[start_relays],
                     on_shutdown=[close_resources])
    metrics.track_outboxes(lambda: {r._spec.name: r.published for r in held.relays})
    metrics.track_rejections(lambda: held.intake.rejected_by_code if held.intake is not None else {})
    limits = HttpIntakeLimits(max_body_bytes=settings.http_max_body_bytes,
                              rate_per_second=settings.http_rate_per_second, burst=settings.http_burst)

    def notify_relays() -> None:
        for relay in held.relays:
            relay.notify()

    # HTTP submissions go through the same Intake (the single writer) as the Kafka batches above.
    routes = [*intake_routes(lambda: held.intake, limits=limits, on_stored=notify_relays),
              *source_routes(lambda: held.intake, utc_now),
              *pdp_routes(lambda: held.data_keys, settings.pdp_token, opened, lambda: held.pool,
                          Retention.load(settings.pdp_retention_file), lambda: utc_now().date())]
    metrics.track_counters("objektif_pdp_opened", "Personal values opened for readers, by data key", "kid",
                           lambda: opened)
    return with_http(app, settings.http_port, metrics=metrics, routes=routes,
                     checks=[database_check(lambda: held.pool), broker_check(app)])
