"""Composition root of the scoring service."""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from faststream import FastStream
from faststream.kafka.annotations import KafkaMessage
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict
from starlette.middleware import Middleware

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
from services.scoring.adapters.pdp_reveal import RevealPersonalData, evidence_opener
from services.scoring.adapters.people_store import PeopleStore
from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.adapters.read_model import ReadModel
from services.scoring.adapters.sessions import KeyDirectory, Sessions, evidence_sources
from services.scoring.adapters.store import DEFAULT_CACHE_EVENTS, DEFAULT_CACHE_RAW_BYTES, ScoringStore
from services.scoring.adapters.web import WebApi, intake_forwarder
from services.scoring.adapters.web_pdp import PdpApi, Upstream
from services.scoring.adapters.web_people import PeopleApi
from services.scoring.adapters.web_work import WorkApi, audit_dossiers
from services.scoring.adapters.work_store import WorkStore
from services.scoring.app.fold_cache import DEFAULT_FOLDED_EVENTS, FoldCache
from services.scoring.app.project import Projector
from services.scoring.app.read import ReadService

GROUP_ID = "objektif-scoring"
#: The topics this service reads or writes: created on start, and again when the broker came back empty.
OWN_TOPICS = (topics.EVIDENCE, topics.SCORES)


class ScoringSettings(ServiceSettings):
    """Environment: OBJEKTIF_SCORING_*."""

    model_config = SettingsConfigDict(env_prefix="OBJEKTIF_SCORING_", extra="ignore", frozen=True)

    batch_max_records: int = Field(
        default=10_000, ge=1, le=100_000,
        description="larger than the other services': a batch re-appraises each employee it touches once, so "
                    "under a backlog bigger batches re-appraise less (bench.stages, 20k events: 390 µs/event at "
                    "2,000, 196 at 8,000); under a light load batches stay small whatever the bound")
    folded_cache_events: int = Field(
        default=DEFAULT_FOLDED_EVENTS, ge=0, le=100_000_000,
        description="events kept folded between batches (≈ 1.6 kB of memory an event, measured): an employee "
                    "whose fold is kept is re-appraised from it and his or her new events alone, without reading "
                    "the history (services/scoring/app/fold_cache.py); size it to the events of the employees "
                    "that receive evidence in a period")
    parsed_cache_events: int = Field(
        default=DEFAULT_CACHE_EVENTS, ge=0, le=100_000_000,
        description="events of employees' streams kept parsed between batches (≈ 2.6 kB an event), for the "
                    "re-appraisals the folds cannot serve (a unit-level event, an assignment, a fold not kept); "
                    "behind them the JSON tier, then PostgreSQL")
    stream_cache_mb: int = Field(
        default=DEFAULT_CACHE_RAW_BYTES >> 20, ge=0, le=1 << 20,
        description="employees' streams kept as JSON bytes behind the parsed ones (≈ 1 kB an event): a "
                    "re-appraisal whose stream is there parses it from memory instead of reading it back from "
                    "PostgreSQL (services/scoring/adapters/stream_cache.py)")
    token_secret: SecretStr | None = Field(
        default=None, description="HMAC secret of the read API's tokens (`objektif token`); without it the API "
                                  "refuses every request")
    audit_url: str | None = Field(default=None, description="the audit service's HTTP base URL, for receipt links")
    audit_api_url: str | None = Field(
        default=None, description="the audit service's HTTP base URL as this service reaches it (dossiers are "
                                  "fetched from it); default: audit_url")
    audit_token: SecretStr | None = Field(
        default=None, description="the auditors' bearer token of the audit service (`objektif audit tiles-token`): "
                                  "what the Administrasi page's dossier download is fetched with; without it the "
                                  "audit service refuses the dossier")
    evidence_url: str | None = Field(
        default=None, description="the evidence service's HTTP base URL: objections go to its POST /submissions")
    pdp_token: SecretStr | None = Field(
        default=None, description="bearer token of the evidence service's POST /pdp/open (UU PDP, ADR 0010): "
                                  "personal fields in answers are opened with it; without it they read "
                                  "'tidak dapat dibuka sekarang'")
    registrar_key: SecretStr | None = Field(
        default=None, description="base64 Ed25519 seed of the registrar, the administrator key that signs the "
                                  "registrations of people enrolling with a code (ADR 0007); without it enrolment "
                                  "and revocation answer 503")


@dataclass
class Resources:
    """What the service opens on startup (None until then) and closes on shutdown."""

    pool: asyncpg.Pool | None = None
    store: ScoringStore | None = None
    projector: Projector | None = None
    relay: OutboxRelay | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def opened_pool(self) -> asyncpg.Pool:
        """The pool, for code that runs only once the service started (requests, batches)."""
        assert self.pool is not None, "the service has not started"
        return self.pool


def registrar_of(settings: ScoringSettings) -> Ed25519PrivateKey | None:
    """The registrar key from its setting (base64 of the 32-byte seed); ValueError when malformed."""
    if settings.registrar_key is None:
        return None
    try:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(settings.registrar_key.get_secret_value(),
                                                                     validate=True))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("OBJEKTIF_SCORING_REGISTRAR_KEY: base64 of a 32-byte Ed25519 seed") from exc


def build_app(settings: ScoringSettings) -> FastStream | HttpService:
    """The scoring service as a FastStream app: consume evidence in batches, fold, store, announce scores; with
    its HTTP side (health, metrics, the read API and web page) when `http_port` is set (chassis/http.py)."""
    log = configure_logging("scoring", json=settings.log_json, level=settings.log_level)
    broker = make_broker(settings.kafka_bootstrap, client_id="objektif-scoring")
    stop = asyncio.Event()
    held = Resources()
    metrics = ServiceMetrics("scoring")

    @broker.subscriber(topics.EVIDENCE, **batch_subscription(settings, GROUP_ID))
    async def on_evidence(msg: KafkaMessage) -> None:
        records = msg.raw_message
        assert held.projector is not None
        assert held.relay is not None
        with metrics.batch(records, msg.consumer), batch_collection():
            changed = await held.projector.handle(records, next_positions_of(records))
        held.relay.notify()
        log.info("batch.projected", records=len(records), appraisals_changed=changed, ms=metrics.last_batch_ms,
                 waited_ms=metrics.last_wait_ms, gc_ms=metrics.last_gc_ms)

    async def recreate_topics() -> None:
        await ensure_topics(settings.kafka_bootstrap, OWN_TOPICS, topics.DEFAULT_PARTITIONS)

    async def open_resources() -> None:
        await recreate_topics()
        pool = await create_pool(settings.database_url)
        store = ScoringStore(pool, cache_events=settings.parsed_cache_events,
                             cache_raw_bytes=settings.stream_cache_mb << 20)
        held.pool, held.store = pool, store
        held.projector = Projector(store, load_default_policies(), FoldCache(settings.folded_cache_events))
        # The relay watches its topic and republishes the outbox when the broker lost it (ARCHITECTURE.md).
        # Each score record also carries CloudEvents binary-mode headers, its value unchanged (issue 19): all
        # read from the score event itself (its id, source, type, subject, occurred_at), none from a clock.
        held.relay = OutboxRelay(pool, KeyedBatchProducer(settings.kafka_bootstrap),
                                    OutboxSpec("scores", "scoring.outbox", "scoring.relay_cursors", topics.SCORES,
                                               headers=headers_of_published),
                                    probe=LogProbe(settings.kafka_bootstrap), on_reset=recreate_topics)
        settle_collector()

    async def start_relay() -> None:
        assert held.relay is not None
        held.tasks.append(asyncio.create_task(held.relay.run(stop)))
        log.info("service.started", group_id=GROUP_ID)

    async def close_resources() -> None:
        stop.set()
        await asyncio.gather(*held.tasks, return_exceptions=True)
        if held.relay is not None:
            await held.relay.close()
        if held.pool is not None:
            await held.pool.close()
        log.info("service.stopped")

    app = FastStream(broker, logger=None, on_startup=[open_resources], after_startup=[start_relay],
                     on_shutdown=[close_resources])
    metrics.track_outboxes(lambda: {"scores": held.relay.published} if held.relay is not None else {})
    metrics.track_streams_served(lambda: held.store.served if held.store is not None else {})
    reads = ReadService(ReadModel(held.opened_pool), load_default_policies())
    secret = settings.token_secret.get_secret_value() if settings.token_secret is not None else None
    forward = intake_forwarder(settings.evidence_url) if settings.evidence_url else None
    people = PeopleStore(held.opened_pool)
    sessions = None
    if secret is not None and settings.evidence_url:
        async def name_of(nip: str) -> str | None:
            found = await people.person(nip)
            return None if found is None else found.get("name")

        sessions = Sessions(secret, KeyDirectory(evidence_sources(settings.evidence_url)), utc_now,
                            name_of=name_of)
    opener = (evidence_opener(settings.evidence_url, settings.pdp_token.get_secret_value())
              if settings.evidence_url and settings.pdp_token is not None else None)
    web = WebApi(reads, secret, lambda raw, topic, key: broker.publish(raw, topic, key=key),
                 audit_url=settings.audit_url, forward=forward, sessions=sessions, opener=opener)
    routes = [*web.routes(), *PeopleApi(people, sessions, secret, registrar_of(settings), forward).routes(web.guarded)]
    # issue 16: what each role works on (tasks, team, feedback, admin progress, closing a period, dossiers)
    audit_token = settings.audit_token.get_secret_value() if settings.audit_token is not None else None
    audit_api = settings.audit_api_url or settings.audit_url
    dossiers = audit_dossiers(audit_api, audit_token, opener) if audit_api else None
    routes += WorkApi(WorkStore(held.opened_pool), reads, registrar_of(settings), forward, dossiers).routes(web.guarded)
    # UU PDP (ADR 0010): the data keys the pages seal comments to, a person's own copy, an erasure's state
    routes += PdpApi(Upstream(settings.evidence_url, settings.pdp_token.get_secret_value()
                              if settings.pdp_token is not None else None, "evidence"),
                     Upstream(audit_api, audit_token, "audit"), registrar_of(settings), forward).routes(web.guarded)
    # UU PDP (ADR 0010): personal fields in the read API's answers are opened after the route decided who sees them
    return with_http(app, settings.http_port, metrics=metrics, routes=routes,
                     checks=[database_check(lambda: held.pool), broker_check(app)],
                     middleware=[Middleware(RevealPersonalData, opener=opener)])


def utc_now() -> datetime:
    """The service's clock (aware UTC)."""
    return datetime.now(UTC)
