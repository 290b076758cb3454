"""The AsyncAPI document is what the three FastStream apps generate, and the compose file wires the services'
HTTP side into their health checks."""

from __future__ import annotations

from typing import Any

import yaml

from contracts import topics
from objektif.asyncapi import DOCUMENT, document, main, render
from objektif.stack import SERVICES


def test_the_checked_in_asyncapi_document_matches_the_apps() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == render(), (
        "run `make asyncapi` and commit contracts/asyncapi.yaml"
    )
    assert main(["--check"]) == 0


def test_the_document_is_asyncapi_3_with_every_topic_and_every_service() -> None:
    doc = document()
    assert doc["asyncapi"] == "3.0.0"
    channels = doc["channels"].values()
    assert {c["address"] for c in channels} == set(topics.ALL)
    assert {c["x-objektif-service"] for c in channels} == set(SERVICES)
    receive = {c["address"] for c in channels if c["x-objektif-service"] == "scoring"}
    assert receive == {topics.EVIDENCE, topics.SCORES, topics.SUBMISSIONS}


def test_every_message_carries_the_envelope_schema() -> None:
    doc = document()
    assert "EmptyPayload" not in doc["components"]["schemas"]
    for message in doc["components"]["messages"].values():
        assert message["payload"] == {"$ref": "#/components/schemas/Envelope"}
    assert "event_id" in doc["components"]["schemas"]["Envelope"]["properties"]


def test_each_channel_names_the_json_schemas_of_the_event_types_it_carries() -> None:
    for channel in document()["channels"].values():
        for t in channel["x-objektif-event-types"]:
            assert (DOCUMENT.parent / "schemas" / t["schema"].rsplit("/", 1)[1]).exists(), t


def _compose() -> dict[str, Any]:
    return yaml.safe_load(
        (DOCUMENT.parent.parent / "deploy" / "docker-compose.yml").read_text(encoding="utf-8")
    )


def test_every_service_in_compose_serves_http_so_its_health_check_reaches_healthz() -> None:
    services = _compose()["services"]
    for name in SERVICES:
        env = services[name]["environment"]
        assert env[f"OBJEKTIF_{name.upper()}_HTTP_PORT"] == "8080", name
        # objektif.health asks /healthz whenever http_port is set (objektif/health.py)
        assert services[name]["healthcheck"]["test"] == ["CMD", "python", "-m", "objektif.health", name]


def test_the_web_page_is_published_for_every_scaled_scoring_instance() -> None:
    scoring = _compose()["services"]["scoring"]
    assert scoring["ports"] == ["8080-8082:8080"]
    assert scoring["environment"]["OBJEKTIF_SCORING_TOKEN_SECRET"].startswith("${OBJEKTIF_TOKEN_SECRET:?")
