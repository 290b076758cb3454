"""The HTTP intake's answers as pydantic models, and its OpenAPI 3.1 document generated from them and from the
envelope contract. The document is served at `GET /openapi.json` and checked in as `contracts/openapi.json`
(`python -m services.evidence.adapters.http_openapi` rewrites it; a unit test fails when the two drift apart).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from contracts.envelope import Envelope
from contracts.events import RejectionReason

if TYPE_CHECKING:
    from services.evidence.adapters.http_intake import HttpIntakeLimits

DOCUMENT = Path(__file__).resolve().parents[3] / "contracts" / "openapi.json"
VERSION = "1.0.0"
_REF = "#/components/schemas/{model}"
#: Set by the evidence service on acceptance; a submission carrying them is refused (docs/signing.md §5).
SERVER_FIELDS = ("sequence", "recorded_at")


class AnswerBody(BaseModel):
    """The submission is stored: accepted now, or accepted before under the same event id (`duplicate`: the
    first acceptance stands and nothing else happens). `sequence` is the event's place in the
    evidence store's order (ADR 0013)."""

    model_config = ConfigDict(frozen=True, extra="forbid", title="Answer")
    event_id: UUID
    status: Literal["accepted", "duplicate"]
    sequence: int = Field(ge=1)


class RejectionBody(BaseModel):
    """The gate refused the submission: the reasons (stable codes, services/evidence/domain/reasons.py) are
    recorded with the original bytes as a `submission.rejected` event on `objektif.rejections.v1`."""

    model_config = ConfigDict(frozen=True, extra="forbid", title="Rejection")
    event_id: UUID | None = Field(description="The submission's event id, when it could be read.")
    status: Literal["rejected"] = "rejected"
    reasons: tuple[RejectionReason, ...] = Field(min_length=1)


class LineAnswerBody(BaseModel):
    """One NDJSON line's answer; `line` counts the submissions sent from 1 (blank lines are skipped)."""

    model_config = ConfigDict(frozen=True, extra="forbid", title="LineAnswer")
    line: int = Field(ge=1)
    answer: AnswerBody | RejectionBody


class BulkAnswerBody(BaseModel):
    """The answers to an NDJSON body, one per submission, in order, with the totals."""

    model_config = ConfigDict(frozen=True, extra="forbid", title="BulkAnswer")
    results: tuple[LineAnswerBody, ...]
    accepted: int = Field(ge=0)
    duplicate: int = Field(ge=0)
    rejected: int = Field(ge=0)


class RefusalBody(BaseModel):
    """The request was refused before the gate: nothing was recorded, and it may be sent again (after
    `retry_after` seconds when given). Codes: `http.rate_limited`, `http.body_too_large`, `http.too_many_lines`,
    `http.no_submissions`, `http.not_ready`."""

    model_config = ConfigDict(frozen=True, extra="forbid", title="Refusal")
    status: Literal["refused"] = "refused"
    reasons: tuple[RejectionReason, ...] = Field(min_length=1)
    retry_after: int | None = Field(default=None, ge=1)


def submission_schema() -> dict[str, Any]:
    """The envelope's JSON Schema as a submitter sends it: without the members the service sets."""
    schema = Envelope.model_json_schema(ref_template=_REF)
    schema["title"] = "Submission"
    schema["description"] = (
        "An envelope as submitted, signed by its source over its canonical bytes (docs/signing.md). The payload "
        "is typed by `type` and `schema_version` (contracts/schemas/)."
    )
    for name in SERVER_FIELDS:
        schema["properties"].pop(name, None)
    return schema


def _content(*names: str) -> dict[str, Any]:
    refs = [{"$ref": _REF.format(model=n)} for n in names]
    return {"application/json": {"schema": refs[0] if len(refs) == 1 else {"oneOf": refs}}}


def openapi_document(limits: HttpIntakeLimits) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the HTTP intake under `limits`."""
    _, defs = models_json_schema(
        [(m, "serialization") for m in (AnswerBody, RejectionBody, BulkAnswerBody, RefusalBody)], ref_template=_REF
    )
    schemas = {**defs["$defs"], "Submission": submission_schema()}
    retry = {"Retry-After": {"description": "Seconds to wait before sending again", "schema": {"type": "integer"}}}
    post = {
        "operationId": "submit",
        "summary": "Submit one signed envelope, or several as NDJSON",
        "description": (
            "Decided by the same gate as `objektif.submissions.v1`: every submission ends as exactly one accepted "
            f"or one rejected event. One envelope may have {limits.max_envelope_bytes} bytes; an NDJSON body "
            f"{limits.max_body_bytes} bytes and {limits.max_lines} lines. Each client may send {limits.burst} "
            f"requests at once and {limits.rate_per_second:g} a second on average."
        ),
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": _REF.format(model="Submission")}},
                "application/x-ndjson": {
                    "schema": {"type": "string", "description": "One Submission a line (UTF-8, LF-separated)."}
                },
            },
        },
        "responses": {
            "202": {"description": "Stored: every submission accepted or a duplicate",
                    "content": _content("AnswerBody", "BulkAnswerBody")},
            "207": {"description": "NDJSON: some submissions accepted, some rejected",
                    "content": _content("BulkAnswerBody")},
            "400": {"description": "NDJSON body without a submission", "content": _content("RefusalBody")},
            "413": {"description": "Too large: one envelope over the gate's limit (a recorded `oversize` "
                                   "rejection), or an NDJSON body over its limits (refused, not recorded)",
                    "content": _content("RejectionBody", "RefusalBody")},
            "422": {"description": "Rejected by the gate, with reasons (recorded)",
                    "content": _content("RejectionBody", "BulkAnswerBody")},
            "429": {"description": "Over the client's rate (refused, not recorded)", "headers": retry,
                    "content": _content("RefusalBody")},
            "503": {"description": "The service is starting", "headers": retry, "content": _content("RefusalBody")},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Objektif evidence intake",
            "version": VERSION,
            "description": "HTTP intake for departmental systems without a Kafka client (issue 6). Signing: "
                           "docs/signing.md. Rejection reason codes: services/evidence/domain/reasons.py.",
        },
        "paths": {
            "/submissions": {"post": post},
            "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document",
                                      "responses": {"200": {"description": "OpenAPI 3.1 document",
                                                            "content": {"application/json": {}}}}}},
        },
        "components": {"schemas": schemas},
    }


def document_text(limits: HttpIntakeLimits) -> str:
    """The document as checked in: indented, keys sorted, one final newline."""
    return json.dumps(openapi_document(limits), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    """Rewrite contracts/openapi.json under the default limits."""
    from services.evidence.adapters.http_intake import HttpIntakeLimits

    DOCUMENT.write_text(document_text(HttpIntakeLimits()), encoding="utf-8")
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
