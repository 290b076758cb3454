"""contracts/asyncapi.yaml is an AsyncAPI 3.0.0 document, valid against the specification's own JSON Schema
(bindings included), generated from the three apps: one channel per topic with its Kafka binding, the
operations of every service, and both framings of a submission, the envelope and the CloudEvent (issue 19)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from contracts import topics
from contracts.cloudevents import REQUIRED
from objektif.asyncapi import DOCUMENT, document, main, render
from objektif.stack import SERVICES

SCHEMA = Path(__file__).parent.parent / "data" / "asyncapi" / "asyncapi-3.0.0-without-id.schema.json.gz"


def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(gzip.decompress(SCHEMA.read_bytes()))
    return loaded


def test_the_checked_in_asyncapi_document_matches_the_apps() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == render(), "run `make asyncapi` and commit contracts/asyncapi.yaml"
    assert main(["--check"]) == 0


def test_the_document_is_valid_asyncapi_3_0_0_bindings_included() -> None:
    checked_in = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    assert checked_in["asyncapi"] == "3.0.0"
    errors = [f"{list(e.path)}: {e.message[:200]}" for e in jsonschema.Draft7Validator(_schema()).iter_errors(
        checked_in)]
    assert errors == []


def test_a_binding_the_kafka_bindings_do_not_define_makes_the_document_invalid() -> None:
    spoilt = document()
    spoilt["channels"]["evidence"]["bindings"]["kafka"]["partitionCount"] = 3
    assert not jsonschema.Draft7Validator(_schema()).is_valid(spoilt)


def test_one_channel_per_topic_with_its_kafka_binding() -> None:
    channels = document()["channels"]
    assert sorted(c["address"] for c in channels.values()) == sorted(topics.ALL)
    for channel in channels.values():
        kafka = channel["bindings"]["kafka"]
        assert (kafka["topic"], kafka["partitions"]) == (channel["address"], topics.DEFAULT_PARTITIONS)


def test_every_service_has_its_operations_and_every_consumer_its_group() -> None:
    doc = document()
    operations = doc["operations"].values()
    assert {o["x-objektif-service"] for o in operations} == set(SERVICES)

    def topics_of(service: str, action: str) -> set[str]:
        return {doc["channels"][o["channel"]["$ref"].rsplit("/", 1)[1]]["address"] for o in operations
                if o["x-objektif-service"] == service and o["action"] == action}

    assert topics_of("evidence", "receive") == {topics.SUBMISSIONS}
    assert topics_of("evidence", "send") == {topics.EVIDENCE, topics.REJECTIONS}
    assert topics_of("scoring", "receive") == {topics.EVIDENCE}
    assert topics_of("scoring", "send") == {topics.SCORES, topics.SUBMISSIONS}
    assert topics_of("audit", "receive") == {topics.EVIDENCE, topics.REJECTIONS, topics.SCORES}
    for o in operations:
        if o["action"] == "receive":
            assert o["bindings"]["kafka"]["groupId"]["enum"] == [f"objektif-{o['x-objektif-service']}"]


def test_a_submission_is_an_envelope_or_a_cloudevent_in_binary_mode_and_published_records_carry_ce_headers(
) -> None:
    doc = document()
    messages = doc["components"]["messages"]
    submissions = doc["channels"]["submissions"]["messages"]
    assert set(submissions) == {"envelope", "cloudEventSubmission"}
    assert messages["envelope"]["payload"] == {"$ref": "#/components/schemas/Envelope"}
    headers = doc["components"]["schemas"]["CloudEventSubmissionHeaders"]
    assert set(headers["required"]) == {f"ce_{a}" for a in REQUIRED} | {"ce_objektifsig", "content-type"}
    published = doc["components"]["schemas"]["CloudEventPublishedHeaders"]
    for channel in ("evidence", "rejections"):
        (message,) = doc["channels"][channel]["messages"]
        assert messages[message]["payload"] == {"$ref": "#/components/schemas/Envelope"}
        assert messages[message]["headers"] == {"$ref": "#/components/schemas/CloudEventPublishedHeaders"}
    assert "ce_objektifsig" not in published["properties"]  # the envelope in the value carries the signature


def test_each_channel_names_the_json_schemas_and_cloudevents_types_of_the_event_types_it_carries() -> None:
    for channel in document()["channels"].values():
        for t in channel["x-objektif-event-types"]:
            assert (DOCUMENT.parent / "schemas" / t["schema"].rsplit("/", 1)[1]).exists(), t
            assert t["cloudevents_type"] == f"id.go.semarangkota.objektif.{t['type']}.v{t['schema_version']}"
