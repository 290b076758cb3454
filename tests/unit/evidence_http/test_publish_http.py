"""`objektif publish --http`: NDJSON chunks to POST /submissions, each line answered by the response; refusals
(rate, size) retried. Against the HTTP intake over an in-memory store (http_intake_world.py)."""

from __future__ import annotations

import orjson
from http_intake_world import Service
from starlette.testclient import TestClient

from contracts.signing import sign_envelope
from objektif.commands.publish import publish_http
from objektif.publish_answers import Outcome, read_lines
from services.evidence.adapters.http_intake import HttpIntakeLimits
from tests.unit.evidence.evidence_world import SIKDA, STAFF1


def test_every_line_is_answered_in_chunks_even_when_the_service_refuses_large_bodies() -> None:
    service = Service(HttpIntakeLimits(max_body_bytes=4096))
    good = [orjson.dumps(sign_envelope(service.world.realisation(STAFF1, "iki-imunisasi", value=str(80 + i)),
                                       SIKDA)) for i in range(6)]
    lines = read_lines(b"\n".join([*good, b"not json", good[0]]))
    sent: list[int] = []
    with TestClient(service.app, base_url="http://evidence") as client:
        outcomes = publish_http("http://evidence", lines, 30.0, sent.append, chunk_lines=100, client=client)
    assert [o.status for _, o in sorted(outcomes.items())] == ["accepted"] * 6 + ["rejected", "duplicate"]
    assert outcomes[7] == Outcome("rejected", None, ("not_json",))
    assert outcomes[8].sequence == outcomes[1].sequence
    assert sum(sent) == len(lines)


def test_a_rate_limited_chunk_is_sent_again_after_the_wait_the_service_names() -> None:
    service = Service(HttpIntakeLimits(rate_per_second=1000.0, burst=1))
    lines = read_lines(b"a\nb\nc\n")
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        service.clock.now += seconds

    with TestClient(service.app, base_url="http://evidence") as client:
        outcomes = publish_http("http://evidence", lines, 30.0, lambda _n: None, chunk_lines=1, client=client,
                                sleep=sleep)
    assert {o.status for o in outcomes.values()} == {"rejected"}
    assert waited == [1.0, 1.0]
