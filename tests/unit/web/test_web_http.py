"""The HTTP side every service shares (chassis/http.py): liveness, readiness, Prometheus metrics, and the
FastStream app started and stopped by the server's lifespan."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from faststream import FastStream
from faststream.kafka import KafkaBroker, TestKafkaBroker
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from chassis.http import HttpService, ServiceMetrics, with_http
from objektif.stack import free_port


@dataclass
class Record:
    topic: str
    partition: int
    offset: int


class Consumer:
    """What `ServiceMetrics.batch` reads of an aiokafka consumer: the high watermark per partition."""

    def highwater(self, tp: object) -> int:
        return {0: 10, 1: 4}[tp.partition]  # type: ignore[attr-defined]


def samples(metrics: ServiceMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_a_batch_counts_its_records_per_topic_and_sets_the_lag_of_each_partition() -> None:
    metrics = ServiceMetrics("scoring")
    with metrics.batch([Record("t", 0, 5), Record("t", 0, 6), Record("t", 1, 3)], Consumer()):
        pass
    got = samples(metrics)
    assert got[("objektif_events_processed_total", (("service", "scoring"), ("topic", "t")))] == 3
    assert got[("objektif_consumer_lag", (("partition", "0"), ("service", "scoring"), ("topic", "t")))] == 3
    assert got[("objektif_consumer_lag", (("partition", "1"), ("service", "scoring"), ("topic", "t")))] == 0
    assert got[("objektif_batch_seconds_count", (("service", "scoring"),))] == 1


def test_a_failed_batch_is_counted_as_failed_and_not_as_processed() -> None:
    metrics = ServiceMetrics("audit")
    try:
        with metrics.batch([Record("t", 0, 1)]):
            raise RuntimeError("database gone")
    except RuntimeError:
        pass
    got = samples(metrics)
    assert got[("objektif_batches_failed_total", (("service", "audit"),))] == 1
    assert ("objektif_events_processed_total", (("service", "audit"), ("topic", "t"))) not in got


def test_rejections_by_reason_and_relayed_outbox_records_are_read_when_scraped() -> None:
    metrics = ServiceMetrics("evidence")
    seen = {"signature.invalid": 2}
    metrics.track_rejections(lambda: seen)
    metrics.track_outboxes(lambda: {"evidence": 7})
    seen["scope.unit"] = 1
    got = samples(metrics)
    assert (
        got[("objektif_events_rejected_total", (("reason", "signature.invalid"), ("service", "evidence")))]
        == 2
    )
    assert got[("objektif_events_rejected_total", (("reason", "scope.unit"), ("service", "evidence")))] == 1
    assert got[("objektif_outbox_relayed_total", (("outbox", "evidence"), ("service", "evidence")))] == 7


def test_streams_served_by_tier_and_the_collector_s_seconds_are_read_when_scraped() -> None:
    metrics = ServiceMetrics("scoring")
    served = {"parsed": 3, "raw": 0, "database": 1}
    metrics.track_streams_served(lambda: served)
    served["raw"] = 2
    got = samples(metrics)
    assert got[("objektif_streams_served_total", (("service", "scoring"), ("tier", "raw")))] == 2
    assert got[("objektif_streams_served_total", (("service", "scoring"), ("tier", "database")))] == 1
    assert {labels for name, labels in got if name == "objektif_gc_seconds_total"} == {
        (("generation", g), ("service", "scoring")) for g in "012"
    }


def test_without_a_port_the_service_is_the_faststream_app_itself() -> None:
    app = FastStream()
    assert with_http(app, None, metrics=ServiceMetrics("x"), checks=[]) is app


async def test_the_lifespan_starts_and_stops_the_app_and_readiness_follows_the_checks() -> None:
    events: list[str] = []
    problem: list[str | None] = [None]

    async def check() -> str | None:
        return problem[0]

    broker = KafkaBroker("localhost:9")
    app = FastStream(
        broker, on_startup=[lambda: events.append("started")], on_shutdown=[lambda: events.append("stopped")]
    )
    service = with_http(app, 1, metrics=ServiceMetrics("scoring"), checks=[check])
    assert isinstance(service, HttpService)
    async with TestKafkaBroker(broker):  # FastStream's in-memory broker: nothing connects
        _serve_and_check(service, events, problem)
    assert events == ["started", "stopped"]


def _serve_and_check(service: HttpService, events: list[str], problem: list[str | None]) -> None:
    with TestClient(service.asgi) as client:
        assert events == ["started"]
        assert client.get("/healthz").json() == {"status": "alive", "service": "scoring"}
        assert client.get("/readyz").status_code == 200
        problem[0] = "database: connection refused"
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["problems"] == ["database: connection refused"]
        assert "objektif_batch_seconds" in client.get("/metrics").text


SERVER = """
import asyncio, sys
from faststream import FastStream
from faststream.kafka import KafkaBroker, TestKafkaBroker
from chassis.http import ServiceMetrics, with_http

async def bye():
    print("shutdown hook ran", flush=True)

async def main():
    broker = KafkaBroker("localhost:9")
    app = FastStream(broker, on_shutdown=[bye])
    async with TestKafkaBroker(broker):
        await with_http(app, int(sys.argv[1]), metrics=ServiceMetrics("t"), checks=[]).run()

asyncio.run(main())
"""


def test_sigterm_stops_the_server_gracefully_runs_the_shutdown_hooks_and_exits_zero(tmp_path: Path) -> None:
    port = free_port()
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    root = Path(__file__).resolve().parents[3]
    proc = subprocess.Popen(
        [sys.executable, str(script), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, (
                    proc.stderr.read().decode() if proc.poll() is not None else ""
                )
                time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()
    assert b"shutdown hook ran" in out


@dataclass(frozen=True)
class StampedRecord:
    topic: str
    partition: int
    offset: int
    timestamp: int  # ms since the epoch, as the broker hands it


def test_a_batch_reports_how_long_its_oldest_record_waited() -> None:
    metrics = ServiceMetrics("evidence")
    now_ms = int(time.time() * 1000)
    with metrics.batch([StampedRecord("t", 0, 1, now_ms - 300), StampedRecord("t", 0, 2, now_ms - 100)]):
        pass
    assert 300 <= metrics.last_wait_ms < 300 + 60_000
    got = samples(metrics)
    assert got[("objektif_record_age_seconds_count", (("service", "evidence"),))] == 1
    assert got[("objektif_record_age_seconds_sum", (("service", "evidence"),))] >= 0.3
