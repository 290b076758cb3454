"""The AsyncAPI document of Objektif, generated from the three FastStream apps: `python -m objektif.asyncapi`
(or `objektif asyncapi`; `--check` exits 1 when `contracts/asyncapi.yaml` differs from what the apps generate).

Each service's composition root (`build_app`) is built with placeholder settings (nothing connects at build time,
STYLE.md), and FastStream's own generator (`faststream.specification.AsyncAPI`, AsyncAPI 3.0.0) reads the
subscribers from their brokers. Two things the apps cannot say themselves are added before generating:
- what each service publishes: it publishes through its transactional outbox (`chassis/outbox.py`) with
  `broker.publish`, so a documentation publisher per written topic is declared on its broker, with the envelope
  as its schema (ARCHITECTURE.md, "Services, and what each owns");
- what the subscribers receive: they take raw batches and validate them in bulk (STYLE.md, "Kafka specifics"), so
  their handlers carry no model; each record is an `Envelope`, and its schema replaces FastStream's empty one.
The event types a topic carries are listed under `x-objektif-event-types`, naming their JSON Schemas in
contracts/schemas/ (tests/contract/test_schemas.py keeps those in step with the models).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from faststream.specification import AsyncAPI

from contracts import events as ev
from contracts import topics
from contracts.envelope import Envelope
from contracts.registry import CURRENT_VERSION, PAYLOADS, SUBMITTABLE

DOCUMENT = Path(__file__).resolve().parent.parent / "contracts" / "asyncapi.yaml"
VERSION = "0.1.0"
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
        "Accepted events, each with its gap-free `sequence` and `recorded_at`.",
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
        "evidence": evidence_app(EvidenceSettings(admin_public_keys="", **common)),  # type: ignore[arg-type]
        "scoring": scoring_app(ScoringSettings(**common)),  # type: ignore[arg-type]
        "audit": audit_app(AuditSettings(**common)),  # type: ignore[arg-type]
    }


def _types_extension(types: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {
            "type": t,
            "schema_version": CURRENT_VERSION[t],
            "schema": f"contracts/schemas/{t}.v{CURRENT_VERSION[t]}.schema.json",
        }
        for t in types
        if t in PAYLOADS
    ]


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document as plain JSON values."""
    brokers, owner = [], {}
    for service, app in _apps().items():
        broker = app.brokers[0]
        owner.update(
            dict.fromkeys(AsyncAPI(broker).to_specification().to_jsonable().get("channels", {}), service)
        )
        for topic, why in PUBLISHES[service]:
            broker.publisher(
                topic,
                title=f"{service}:{topic}",
                schema=Envelope,
                description=f"The {service} service publishes {TOPICS[topic][0][0].lower()}"
                f"{TOPICS[topic][0][1:]} ({why})",
            )
        owner.update({f"{service}:{topic}": service for topic, _why in PUBLISHES[service]})
        brokers.append(broker)
    spec = (
        AsyncAPI(
            *brokers,
            title="Objektif",
            version=VERSION,
            description=(
                "Evidence-based, event-sourced appraisal of Indonesian civil servants (ASN): the evidence "
                "service (intake gate), the scoring service (projection) and the audit service (Merkle ledger). "
                "Every record is one envelope (contracts/envelope.py), keyed by its subject; batches are "
                "consumed in one PostgreSQL transaction each."
            ),
        )
        .to_specification()
        .to_jsonable()
    )
    envelope = Envelope.model_json_schema()
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("EmptyPayload", None)
    schemas["Envelope"] = envelope
    for message in spec["components"].get("messages", {}).values():
        if message.get("payload", {}).get("$ref") == "#/components/schemas/EmptyPayload":
            message["payload"] = {"$ref": "#/components/schemas/Envelope"}
    for key, channel in spec.get("channels", {}).items():
        summary, types = TOPICS[channel["address"]]
        channel["description"] = summary
        channel["x-objektif-service"] = owner[key]
        channel["x-objektif-event-types"] = _types_extension(types)
    return spec


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
