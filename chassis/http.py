"""The HTTP side every service shares: health, readiness, Prometheus metrics, and any routes a service adds,
served by uvicorn inside the service process next to its FastStream broker.

`with_http(app, port, ...)` wraps a service's FastStream app. Without a port it returns the app unchanged (the
service runs as before). With one, it returns an `HttpService` whose `run()` serves a Starlette app whose
lifespan starts the FastStream app (hooks, then the broker) and stops it on shutdown: SIGTERM or SIGINT makes
uvicorn stop accepting connections, finish the requests in flight, then stop the broker's consumers and run the
service's shutdown hooks, and the process exits 0 (a graceful shutdown, as `FastStream.run` does).

- `/healthz`: the process is alive and its event loop answers (no dependency is checked: a liveness probe that
  fails because PostgreSQL is down would only restart a healthy process).
- `/readyz`: every readiness check passes (by default: the database answers `SELECT 1`, the broker answers
  a metadata request) and the app is started and not stopping; 503 with the problems otherwise.
- `/metrics`: the service's own registry in the Prometheus text format (`ServiceMetrics`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any

import uvicorn
from faststream import FastStream
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chassis.collector import gc_seconds, gc_seconds_by_generation

#: A readiness check: None when fine, else a short description of what is wrong.
Check = Callable[[], Awaitable[str | None]]

#: Batch latency buckets (seconds): a batch of a few records takes milliseconds, one of thousands about a second.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _CallbackCounters(Collector):
    """Counters whose values live elsewhere (an outbox relay's `published`), read at scrape time."""

    def __init__(
        self, name: str, documentation: str, label: str, read: Callable[[], Mapping[str, float]]
    ) -> None:
        self._name, self._doc, self._label, self._read = name, documentation, label, read

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(self._name, self._doc, labels=[self._label])
        for value, count in sorted(self._read().items()):
            family.add_metric([value], count)
        yield family


class ServiceMetrics:
    """One service's metrics, in its own registry (several apps may live in one test process).

    Names: `objektif_events_processed_total{topic}`, `objektif_events_rejected_total{reason}`,
    `objektif_consumer_lag{topic,partition}`, `objektif_batch_seconds`, `objektif_outbox_relayed_total{outbox}`,
    `objektif_gc_seconds_total{generation}`, scoring's `objektif_streams_served_total{tier}`; every metric carries
    the constant label `service`.
    """

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        self.processed = Counter(
            "objektif_events_processed",
            "Records consumed and handled, by topic",
            ["topic"],
            registry=self.registry,
        )
        self.lag = Gauge(
            "objektif_consumer_lag",
            "Records behind the partition's high watermark after a batch",
            ["topic", "partition"],
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "objektif_batch_seconds",
            "Time to handle one consumed batch",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batches_failed = Counter(
            "objektif_batches_failed", "Batches whose handling raised (redelivered)", registry=self.registry
        )
        self.record_age_seconds = Histogram(
            "objektif_record_age_seconds",
            "How long a batch's oldest record waited between its producer and the handler (the broker's timestamp; "
            "a queue growing shows here before the lag does)",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        #: the last batch's handling time and its oldest record's wait, in ms (for the services' batch log lines)
        self.last_batch_ms = 0.0
        self.last_wait_ms = 0.0
        self.last_gc_ms = 0.0
        self.registry.register(
            _CallbackCounters(
                "objektif_gc_seconds",
                "Seconds the cyclic garbage collector ran since the service settled, by generation",
                "generation",
                gc_seconds_by_generation,
            )
        )

    def track_outboxes(self, read: Callable[[], Mapping[str, int]]) -> None:
        """Expose `objektif_outbox_relayed_total{outbox}` from `read()`: outbox name → records relayed so far."""
        self.registry.register(
            _CallbackCounters(
                "objektif_outbox_relayed",
                "Outbox records published to Kafka and acknowledged",
                "outbox",
                read,
            )
        )

    def track_streams_served(self, read: Callable[[], Mapping[str, int]]) -> None:
        """Expose `objektif_streams_served_total{tier}` from `read()`: where the projector's streams came from
        ("parsed", "raw", "database"), which says whether scoring's caches hold its working set."""
        self.registry.register(
            _CallbackCounters(
                "objektif_streams_served",
                "Employees' streams the projector was served, by cache tier or the database",
                "tier",
                read,
            )
        )

    def track_rejections(self, read: Callable[[], Mapping[str, int]]) -> None:
        """Expose `objektif_events_rejected_total{reason}` from `read()`: reason code → refusals so far."""
        self.registry.register(
            _CallbackCounters("objektif_events_rejected", "Events refused, by reason code", "reason", read)
        )

    def track_counters(self, name: str, help_text: str, label: str, read: Callable[[], Mapping[str, int]]) -> None:
        """Expose `<name>_total{<label>}` from `read()`: label value → count so far."""
        self.registry.register(_CallbackCounters(name, help_text, label, read))

    @contextlib.contextmanager
    def batch(self, records: Sequence[Any], consumer: object | None = None) -> Iterator[None]:
        """Time one batch of ConsumerRecords; on success count them per topic and update the consumer lag of
        their partitions from the consumer's high watermarks (aiokafka `highwater`)."""
        started, collecting = time.perf_counter(), gc_seconds()
        stamps = [t for r in records if (t := getattr(r, "timestamp", None)) is not None and t > 0]
        waited = max(time.time() - min(stamps) / 1000, 0.0) if stamps else 0.0
        try:
            yield
        except BaseException:
            self.batches_failed.inc()
            raise
        took = time.perf_counter() - started
        self.batch_seconds.observe(took)
        self.record_age_seconds.observe(waited)
        self.last_batch_ms, self.last_wait_ms = round(took * 1000, 1), round(waited * 1000, 1)
        self.last_gc_ms = round((gc_seconds() - collecting) * 1000, 1)
        per_topic: dict[str, int] = {}
        last: dict[tuple[str, int], int] = {}
        for r in records:
            per_topic[r.topic] = per_topic.get(r.topic, 0) + 1
            last[(r.topic, r.partition)] = max(last.get((r.topic, r.partition), -1), r.offset)
        for topic, n in per_topic.items():
            self.processed.labels(topic=topic).inc(n)
        for (topic, partition), offset in last.items():
            high = _highwater(consumer, topic, partition)
            if high is not None:
                self.lag.labels(topic=topic, partition=str(partition)).set(max(high - offset - 1, 0))

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format, with `service` on every sample."""
        text = generate_latest(self.registry).decode()
        return _with_label(text, "service", self.service).encode()


def _highwater(consumer: object | None, topic: str, partition: int) -> int | None:
    highwater = getattr(consumer, "highwater", None)
    if highwater is None:
        return None
    from aiokafka import TopicPartition

    try:
        value = highwater(TopicPartition(topic, partition))
    except (AssertionError, KeyError, ValueError):  # aiokafka asserts the partition is assigned
        return None
    return value if isinstance(value, int) else None


def _with_label(text: str, name: str, value: str) -> str:
    """Add `name="value"` to every sample line of a Prometheus text exposition."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            out.append(line)
            continue
        metric, _, rest = line.partition(" ")
        labelled = f'{name}="{value}"'
        metric = metric.replace("{", "{" + labelled + ",", 1) if "{" in metric else f"{metric}{{{labelled}}}"
        out.append(f"{metric} {rest}")
    return "\n".join(out) + "\n"


def database_check(get_pool: Callable[[], Any], seconds: float = 2.0) -> Check:
    """Ready when the service's pool (read when checked: it opens at startup) answers `SELECT 1`."""

    async def check() -> str | None:
        pool = get_pool()
        if pool is None:
            return "database: not connected yet"
        try:
            async with asyncio.timeout(seconds):
                await pool.fetchval("SELECT 1")
        except Exception as exc:  # asyncpg, OSError and timeouts alike mean "not ready"
            return f"database: {type(exc).__name__}: {exc}"[:300]
        return None

    return check


def broker_check(app: FastStream, seconds: float = 2.0) -> Check:
    """Ready when every broker of the app is started and answers a metadata request."""

    async def check() -> str | None:
        for broker in app.brokers:
            try:
                alive = await broker.ping(seconds)
            except Exception as exc:  # a broker that is not started raises instead of answering False
                return f"broker: {type(exc).__name__}: {exc}"[:300]
            if not alive:
                return "broker: did not answer"
        return None

    return check


class HttpService:
    """A FastStream app with its HTTP side; `run()` serves both until SIGTERM/SIGINT."""

    def __init__(
        self,
        app: FastStream,
        port: int,
        metrics: ServiceMetrics,
        checks: Sequence[Check],
        routes: Sequence[BaseRoute] = (),
        host: str = "0.0.0.0",  # noqa: S104  (inside a container: reached through its published port)
        middleware: Sequence[Middleware] = (),
    ) -> None:
        self.faststream = app
        self.port = port
        self.host = host
        self.metrics = metrics
        self.checks = tuple(checks)
        self.started = False
        self.stopping = False
        self.asgi = Starlette(routes=[*self._operational_routes(), *routes], lifespan=self._lifespan,
                              middleware=list(middleware))

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        await self.faststream.start()
        self.started = True
        try:
            yield
        finally:
            self.stopping = True
            await self.faststream.stop()

    def _operational_routes(self) -> list[BaseRoute]:
        async def healthz(_request: Request) -> Response:
            return JSONResponse({"status": "alive", "service": self.metrics.service})

        async def readyz(_request: Request) -> Response:
            problems = [p for p in await asyncio.gather(*(c() for c in self.checks)) if p is not None]
            if not self.started:
                problems.insert(0, "starting")
            if self.stopping:
                problems.insert(0, "stopping")
            body = {"status": "ready" if not problems else "not ready", "problems": problems}
            return JSONResponse(body, status_code=200 if not problems else 503)

        async def metrics(_request: Request) -> Response:
            return Response(self.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

        return [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]

    async def run(self) -> None:
        """Serve until SIGTERM/SIGINT, then shut down gracefully (see the module docstring)."""
        config = uvicorn.Config(
            self.asgi,
            host=self.host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=20,
        )
        server = _Server(config)
        await server.serve()
        if not self.started:
            raise RuntimeError(f"{self.metrics.service}: the service did not start (see the log above)")


class _Server(uvicorn.Server):
    """uvicorn's server, except that a captured SIGTERM/SIGINT is not raised again after the graceful shutdown:
    the process then exits normally, as the FastStream runner does."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def with_http(
    app: FastStream,
    port: int | None,
    *,
    metrics: ServiceMetrics,
    checks: Sequence[Check],
    routes: Sequence[BaseRoute] = (),
    middleware: Sequence[Middleware] = (),
) -> FastStream | HttpService:
    """The service's runnable: `app` itself when no HTTP port is configured, else an `HttpService`."""
    if port is None:
        return app
    return HttpService(app, port, metrics, checks, routes, middleware=middleware)
