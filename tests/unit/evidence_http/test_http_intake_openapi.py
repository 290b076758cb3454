"""The HTTP intake's OpenAPI document: generated from the models, checked in, served, and true to the answers;
and the per-client rate limiter it uses."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import orjson
from http_intake_world import Clock, Service

from contracts.signing import sign_envelope
from services.evidence.adapters.http_intake import HttpIntakeLimits, RateLimiter
from services.evidence.adapters.http_openapi import DOCUMENT, document_text, openapi_document
from tests.unit.evidence.evidence_world import SIKDA, STAFF1

REGENERATE = "python -m services.evidence.adapters.http_openapi"


def test_the_checked_in_openapi_document_is_what_the_models_generate() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == document_text(HttpIntakeLimits()), f"run `{REGENERATE}`"


def test_every_reference_in_the_document_names_a_schema_it_defines() -> None:
    document = openapi_document(HttpIntakeLimits())
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(document)))
    assert refs
    assert refs <= set(document["components"]["schemas"])


def test_a_submission_may_not_carry_the_fields_the_service_sets() -> None:
    properties = openapi_document(HttpIntakeLimits())["components"]["schemas"]["Submission"]["properties"]
    assert {"event_id", "signature", "payload"} <= set(properties)
    assert not {"sequence", "recorded_at"} & set(properties)


def _validator(name: str, document: dict[str, Any]) -> jsonschema.protocols.Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return jsonschema.Draft202012Validator(schema)


def _response_schema(document: dict[str, Any], status: int) -> dict[str, Any]:
    content = document["paths"]["/submissions"]["post"]["responses"][str(status)]["content"]
    return {**content["application/json"]["schema"], "components": document["components"]}


async def test_the_service_serves_the_document_and_its_answers_validate_against_it() -> None:
    service = Service(HttpIntakeLimits(rate_per_second=1.0, burst=4))
    raw = orjson.dumps(sign_envelope(service.world.realisation(STAFF1, "iki-imunisasi"), SIKDA))
    async with service.client() as client:
        served = (await client.get("/openapi.json")).json()
        answers = [
            await client.post("/submissions", content=raw),
            await client.post("/submissions", content=b"[1, 2]"),
            await client.post("/submissions", content=raw + b"\n" + b"{}",
                              headers={"content-type": "application/x-ndjson"}),
            await client.post("/submissions", content=b"x" * 300_000),
            await client.post("/submissions", content=raw),
        ]
    assert served == openapi_document(HttpIntakeLimits(rate_per_second=1.0, burst=4))
    assert [a.status_code for a in answers] == [202, 422, 207, 413, 429]
    for answer in answers:
        jsonschema.Draft202012Validator(_response_schema(served, answer.status_code)).validate(answer.json())


def test_a_bucket_allows_its_burst_then_one_request_per_refill_interval() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_second=4.0, burst=3, max_clients=10, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == 0.25
    clock.now += 0.25
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0.0


def test_refused_requests_do_not_spend_tokens() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_second=1.0, burst=1, max_clients=10, clock=clock)
    assert limiter.take("a") == 0.0
    for _ in range(5):
        assert limiter.take("a") > 0.0
    clock.now += 1.0
    assert limiter.take("a") == 0.0


def test_the_limiter_keeps_at_most_its_number_of_clients_forgetting_the_least_recently_seen() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_second=1.0, burst=1, max_clients=2, clock=clock)
    for client in ("a", "b", "c"):
        assert limiter.take(client) == 0.0
    assert limiter.take("c") > 0.0  # still remembered
    assert limiter.take("a") == 0.0  # forgotten: a full bucket again
