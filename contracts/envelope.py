"""The one envelope every Objektif event travels in (ARCHITECTURE.md, "Contracts").

The envelope is what crosses Kafka and HTTP. Its `payload` is typed per `type` by the models in
`contracts.events`; `contracts.registry.parse_payload` does that translation.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: NIP: the 18-digit civil-servant number (birth date, appointment month, sex, serial).
NIP_PATTERN = r"^[0-9]{18}$"

#: A period: a year ("2025"), a quarter ("2025-Q3", REGULATION.md §1.1 triwulan) or a semester ("2025-S1").
PERIOD_PATTERN = r"^(19|20)[0-9]{2}(-(Q[1-4]|S[12]))?$"

_PERIOD_RE = re.compile(PERIOD_PATTERN)


class Envelope(BaseModel):
    """An event as submitted, accepted, rejected or derived.

    `occurred_at` is when the fact happened in the world; `recorded_at` when Objektif recorded it (set by the
    evidence service on acceptance). `subject` is the appraised employee's NIP, or for organisation-wide facts the
    unit id. `sequence` is the evidence service's order of accepted events (unique; increasing within a store partition,
    in time order across them: ADR 0013) and exists only on accepted events.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    type: str = Field(min_length=1, max_length=80)
    schema_version: int = Field(default=1, ge=1)
    occurred_at: datetime
    recorded_at: datetime | None = None
    source: str = Field(min_length=1, max_length=120, description="The submitting system or person (source id).")
    subject: str = Field(min_length=1, max_length=64, description="The appraised employee's NIP, or a unit id.")
    period: str = Field(pattern=PERIOD_PATTERN)
    payload: dict[str, Any]
    supersedes: UUID | None = Field(
        default=None, description="A correction names the event it replaces; nothing is edited in place."
    )
    correlation_id: str | None = Field(default=None, max_length=120)
    signature: str | None = Field(default=None, description="Base64 Ed25519 signature over the canonical bytes.")
    sequence: int | None = Field(
        default=None, ge=1,
        description="Order in the evidence store: unique, increasing within a partition, in time order across them.",
    )

    @field_validator("occurred_at", "recorded_at")
    @classmethod
    def _must_be_aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamps must carry a UTC offset (RFC 3339), e.g. 2025-07-01T08:00:00+07:00")
        return value


def period_year(period: str) -> int:
    """The calendar year a period belongs to (REGULATION.md §0: the regime follows the period)."""
    if not _PERIOD_RE.match(period):
        raise ValueError(f"not a period: {period!r}")
    return int(period[:4])
