"""The AsyncAPI 3.0.0 document of Objektif, generated from the three FastStream apps: `python -m objektif.asyncapi`
(or `objektif asyncapi`; `--check` exits 1 when `contracts/asyncapi.yaml` differs from what the apps generate).

Each service's composition root (`build_app`) is built with placeholder settings (nothing connects at build time,
STYLE.md), and its subscribers are read from its broker: the topics, consumer group and client id of every
`receive` operation. The document is laid out as AsyncAPI 3 intends: one channel per topic (its Kafka channel
binding: topic, partitions), the messages a channel carries, and operations that point at channels, one per
service and topic, with the Kafka operation binding (consumer group, client id). What the apps cannot say
themselves is stated here:
- what each service publishes: through its transactional outbox (`chassis/outbox.py`), not a FastStream
  publisher (ARCHITECTURE.md, "Services, and what each owns");
- the messages: each record is an `Envelope` (the subscribers take raw batches and validate them in bulk,
  STYLE.md), keyed by its subject (the Kafka message binding); a submission may instead be a CloudEvent in the
  Kafka binding's binary mode, and the evidence and scoring services' records carry ce_ headers beside the envelope
  (contracts/cloudevents.py, docs/adr/0011-cloudevents.md), both described as message headers.
The event types a topic carries are listed under `x-objektif-event-types`, naming their JSON Schemas in
contracts/schemas/ (tests/contract/test_schemas.py keeps those in step with the models) and their CloudEvents
`type`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from contracts import cloudevents as ce
from contracts import events as ev
from contracts import topics
from contracts.cloudevents import ce_type
from contracts.envelope import PERIOD_PATTERN, Envelope
from contracts.registry import CURRENT_VERSION, PAYLOADS, SUBMITTABLE

DOCUMENT = Path(__file__).resolve().parent.parent / "contracts" / "asyncapi.yaml"
VERSION = "0.2.0"
#: The AsyncAPI Kafka bindings version used throughout (github.com/asyncapi/bindings, kafka/).
KAFKA_BINDINGS = "0.5.0"
_PLACEHOLDER_DSN = "postgresql://objektif@postgres:5432/objektif"
_BOOTSTRAP = "kafka:9092"

#: topic → (summary, the event types it carries)
TOPICS: dict[str, tuple[str, tuple[str, ...]]] = {
    topics.SUBMISSIONS: (
        "Submissions from departmental systems, superiors and employees, signed by their source; "
        "keyed by the subject (NIP or unit id).",
        tuple(sorted(SUBMITTABLE)),
    ),
    topics.EVIDENCE: (
        "Accepted events, each with its `sequence` (the store's order: ADR 0013) and `recorded_at`.",
        tuple(sorted(SUBMITTABLE)),
    ),
    topics.REJECTIONS: (
        "Refused submissions with their reasons and original bytes (base64).",
        (ev.SubmissionRejected.TYPE,),
    ),
    topics.SCORES: ("Appraisal results with their basis (event ids and hash).", (ev.ScoreComputed.TYPE,)),
}
#: service → (topic it publishes, why)
PUBLISHES: dict[str, tuple[tuple[str, str], ...]] = {
    "evidence": (
        (topics.EVIDENCE, "through its outbox, in sequence order"),
        (topics.REJECTIONS, "through its outbox"),
    ),
    "scoring": (
        (topics.SCORES, "through its outbox"),
        (
            topics.SUBMISSIONS,
            "objections an employee signed in the web page, unchanged (POST /api/objections)",
        ),
    ),
    "audit": (),
}


def _apps() -> dict[str, Any]:
    """The three FastStream apps, built with placeholder settings and no HTTP side."""
    from services.audit.main import AuditSettings
    from services.audit.main import build_app as audit_app
    from services.evidence.main import EvidenceSettings
    from services.evidence.main import build_app as evidence_app
    from services.scoring.main import ScoringSettings
    from services.scoring.main import build_app as scoring_app

    common = {"kafka_bootstrap": _BOOTSTRAP, "database_url": _PLACEHOLDER_DSN, "http_port": None}
    return {
        "evidence": evidence_app(EvidenceSettings(admin_public_keys="", pdp_kek="A" * 43 + "=", **common)),  # type: ignore[arg-type]
        "scoring": scoring_app(ScoringSettings(**common)),  # type: ignore[arg-type]
        "audit": audit_app(AuditSettings(**common)),  # type: ignore[arg-type]
    }


def _types_extension(types: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {
            "type": t,
            "schema_version": CURRENT_VERSION[t],
            "schema": f"contracts/schemas/{t}.v{CURRENT_VERSION[t]}.schema.json",
            "cloudevents_type": ce_type(t, CURRENT_VERSION[t]),
        }
        for t in types
        if t in PAYLOADS
    ]


def _subscriptions() -> list[tuple[str, str, str, str]]:
    """(service, topic, consumer group, client id) of every subscriber of the three apps, as they run."""
    found = []
    for service, app in _apps().items():
        for subscriber in app.brokers[0].subscribers:
            for topic in subscriber.topic_names:
                found.append((service, topic, subscriber.group_id, subscriber.client_id))
    return sorted(found)


def _const(value: str) -> dict[str, Any]:
    return {"type": "string", "enum": [value]}


def _header(description: str, **schema: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **schema}


def _cloudevent_headers(*, published: bool) -> dict[str, Any]:
    """The Kafka headers of CloudEvents' binary content mode (contracts/cloudevents.py, ADR 0011)."""
    headers: dict[str, Any] = {
        "ce_specversion": _const(ce.SPECVERSION),
        "ce_id": _header("`event_id`", format="uuid"),
        "ce_source": _header("`source`, the submitting system or person (source id)"),
        "ce_type": _header(f"`{ce.TYPE_PREFIX}<type>.v<schema_version>`",
                           pattern="^" + re.escape(ce.TYPE_PREFIX) + r"[a-z0-9_.]+\.v[1-9][0-9]*$"),
        "ce_subject": _header("`subject`: the appraised employee's NIP, or a unit id"),
        "ce_time": _header("`occurred_at`; the header text is the text signed", format="date-time"),
        "ce_objektifperiod": _header("`period`", pattern=PERIOD_PATTERN),
        "ce_objektifsupersedes": _header("`supersedes`, only when set", format="uuid"),
        "ce_objektifcorrelation": _header("`correlation_id`, only when set"),
        "content-type": _const(ce.CONTENT_TYPE),
    }
    required = ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time", "ce_objektifperiod",
                "content-type"]
    if published:
        headers["ce_dataschema"] = _const(ce.ENVELOPE_SCHEMA)
        headers["ce_recordedtime"] = _header("`recorded_at` (CloudEvents' Recorded Time extension)",
                                             format="date-time")
        headers["ce_objektifsequence"] = _header("`sequence`, the store's order", pattern="^[1-9][0-9]*$")
        required += ["ce_dataschema"]
    else:
        headers["ce_objektifsig"] = _header("`signature`: single (base64) or `batch:…` (docs/signing.md)")
        required += ["ce_objektifsig"]
    return {"type": "object", "properties": headers, "required": required}


def _messages() -> dict[str, Any]:
    key = {"kafka": {"key": {"type": "string", "description": "the subject: NIP or unit id"},
                     "bindingVersion": KAFKA_BINDINGS}}
    by_payload = {"location": "$message.payload#/correlation_id"}
    return {
        "envelope": {
            "name": "envelope", "title": "Envelope", "contentType": "application/json",
            "summary": "One envelope (contracts/envelope.py) as the record value: today's framing.",
            "payload": {"$ref": "#/components/schemas/Envelope"}, "correlationId": by_payload, "bindings": key,
        },
        "cloudEventSubmission": {
            "name": "cloudEventSubmission", "title": "CloudEvent (Kafka binding, binary mode)",
            "contentType": "application/json",
            "summary": "The same signed envelope framed as a CloudEvent: its members as ce_ headers, its payload "
                       "as the record value (docs/adr/0011-cloudevents.md).",
            "headers": {"$ref": "#/components/schemas/CloudEventSubmissionHeaders"},
            "payload": {"type": "object", "description": "The envelope's `payload`: the JSON Schema of the "
                        "event type that ce_type names (contracts/schemas/)."},
            "correlationId": {"location": "$message.header#/ce_objektifcorrelation"}, "bindings": key,
        },
        "publishedEnvelope": {
            "name": "publishedEnvelope", "title": "Envelope, with CloudEvents headers",
            "contentType": "application/json",
            "summary": "One envelope as the record value, unchanged; ce_ headers beside it make the record a "
                       "binary-mode CloudEvent whose data is the whole envelope.",
            "headers": {"$ref": "#/components/schemas/CloudEventPublishedHeaders"},
            "payload": {"$ref": "#/components/schemas/Envelope"}, "correlationId": by_payload, "bindings": key,
        },
    }


#: topic → the messages it carries
CHANNEL_MESSAGES: dict[str, tuple[str, ...]] = {
    topics.SUBMISSIONS: ("envelope", "cloudEventSubmission"),
    topics.EVIDENCE: ("publishedEnvelope",),
    topics.REJECTIONS: ("publishedEnvelope",),
    topics.SCORES: ("publishedEnvelope",),
}


def _channel_id(topic: str) -> str:
    return topic.split(".")[1]


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document as plain JSON values: one channel per topic with its Kafka binding, one
    operation per service and topic (receive with its consumer group, send through its outbox)."""
    channels = {
        _channel_id(topic): {
            "address": topic,
            "description": TOPICS[topic][0],
            "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in CHANNEL_MESSAGES[topic]},
            "bindings": {"kafka": {"topic": topic, "partitions": topics.DEFAULT_PARTITIONS,
                                   "bindingVersion": KAFKA_BINDINGS}},
            "x-objektif-event-types": _types_extension(TOPICS[topic][1]),
        }
        for topic in topics.ALL
    }
    operations: dict[str, Any] = {}

    def operation(service: str, action: str, topic: str, description: str, **kafka: Any) -> None:
        channel = _channel_id(topic)
        operations[f"{service}.{action}.{channel}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel}"},
            "description": description,
            "messages": [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in CHANNEL_MESSAGES[topic]],
            "bindings": {"kafka": {**kafka, "bindingVersion": KAFKA_BINDINGS}},
            "x-objektif-service": service,
        }

    for service, topic, group, client in _subscriptions():
        operation(service, "receive", topic, f"The {service} service consumes raw batches in consumer group "
                  f"{group}, one PostgreSQL transaction each.", groupId=_const(group), clientId=_const(client))
    for service, published in PUBLISHES.items():
        for topic, why in published:
            operation(service, "send", topic, f"The {service} service publishes {TOPICS[topic][0][0].lower()}"
                      f"{TOPICS[topic][0][1:]} ({why})")
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Objektif",
            "version": VERSION,
            "description": (
                "Evidence-based, event-sourced appraisal of Indonesian civil servants (ASN): the evidence "
                "service (intake gate), the scoring service (projection) and the audit service (Merkle ledger). "
                "Every record is one envelope (contracts/envelope.py), keyed by its subject; batches are "
                "consumed in one PostgreSQL transaction each. A submission may also be a CloudEvent in the "
                "Kafka binding's binary mode, and what the evidence and scoring services publish carries the ce_ "
                "headers beside the envelope (docs/adr/0011-cloudevents.md)."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {"development": {"host": _BOOTSTRAP, "protocol": "kafka",
                                    "description": "The Kafka-protocol broker (Tansu in development)",
                                    "bindings": {"kafka": {"bindingVersion": KAFKA_BINDINGS}}}},
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": {
                "Envelope": Envelope.model_json_schema(),
                "CloudEventSubmissionHeaders": _cloudevent_headers(published=False),
                "CloudEventPublishedHeaders": _cloudevent_headers(published=True),
            },
            "messages": _messages(),
        },
    }


def render() -> str:
    """The document as YAML text (stable: sorted keys)."""
    return yaml.safe_dump(document(), sort_keys=True, allow_unicode=True, width=110)


def main(argv: Sequence[str] | None = None) -> int:
    """Write contracts/asyncapi.yaml; with `--check`, exit 1 instead when the checked-in file differs."""
    args = list(sys.argv[1:] if argv is None else argv)
    text = render()
    if "--check" in args:
        current = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""
        if current != text:
            print(f"{DOCUMENT} drifted from the apps: run `python -m objektif.asyncapi`", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text, encoding="utf-8")
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
