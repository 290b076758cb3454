"""The keberatan submissions `objektif keberatan …` builds (REGULATION.md §2.4; issue 4), as plain envelopes
checked against their contracts before they are signed. Pure: the event id and the time are arguments.

Subject of each: the objecting employee's NIP. Source: the signer's person source, `nip:<NIP>` unless given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from contracts import events as ev
from contracts.envelope import Envelope
from contracts.registry import CURRENT_VERSION, PAYLOADS


def person_source(nip: str) -> str:
    """The source id a person signs with (docs/signing.md): `nip:<NIP>`."""
    return f"nip:{nip}"


def envelope(
    type_: str,
    subject: str,
    period: str,
    payload: Mapping[str, Any],
    *,
    source: str,
    event_id: UUID,
    at: datetime,
) -> dict[str, Any]:
    """An unsigned envelope of the current version of `type_`; raises pydantic's ValidationError when the payload
    or the envelope breaks its contract (so nothing invalid is signed)."""
    model = PAYLOADS[type_].model_validate(dict(payload))
    checked = Envelope(
        event_id=event_id,
        type=type_,
        schema_version=CURRENT_VERSION[type_],
        occurred_at=at,
        source=source,
        subject=subject,
        period=period,
        payload=model.model_dump(mode="json", exclude_none=True, exclude_defaults=True),
    )
    return checked.model_dump(mode="json", exclude_none=True)


def filing(
    nip: str, period: str, reasons: str, *, event_id: UUID, at: datetime, result_event_id: UUID | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """`objection.filed`: the appraised employee objects to the delivered result, with reasons (§2.4)."""
    payload: dict[str, Any] = {"reasons": reasons}
    if result_event_id is not None:
        payload["result_event_id"] = str(result_event_id)
    return envelope(ev.ObjectionFiled.TYPE, nip, period, payload, source=source or person_source(nip),
                    event_id=event_id, at=at)


def request(
    atasan: str, subject: str, period: str, objection_event_id: UUID, from_nips: Sequence[str], question: str, *,
    event_id: UUID, at: datetime, source: str | None = None,
) -> dict[str, Any]:
    """`objection.explanation.requested`: the Atasan asks the Pejabat Penilai and/or the employee (§2.4)."""
    payload = {"objection_event_id": str(objection_event_id), "requested_by_nip": atasan,
               "from_nips": list(from_nips), "question": question}
    return envelope(ev.ObjectionExplanationRequested.TYPE, subject, period, payload,
                    source=source or person_source(atasan), event_id=event_id, at=at)


def explanation(
    nip: str, subject: str, period: str, request_event_id: UUID, text: str, *, event_id: UUID, at: datetime,
    refers_to: Sequence[UUID] = (), source: str | None = None,
) -> dict[str, Any]:
    """`objection.explanation.given`: a person asked explains (§2.4)."""
    payload: dict[str, Any] = {"request_event_id": str(request_event_id), "given_by_nip": nip, "explanation": text}
    if refers_to:
        payload["refers_to"] = [str(r) for r in refers_to]
    return envelope(ev.ObjectionExplanationGiven.TYPE, subject, period, payload,
                    source=source or person_source(nip), event_id=event_id, at=at)


def decision(
    atasan: str, subject: str, period: str, objection_event_id: UUID, outcome: str, reasons: str, *,
    event_id: UUID, at: datetime, rating_hasil_kerja: str | None = None, rating_perilaku: str | None = None,
    realisations: Mapping[str, Decimal] | None = None, predikat: str | None = None, source: str | None = None,
) -> dict[str, Any]:
    """`objection.decided` (v2): the Atasan's final decision, with what it modifies (§2.4)."""
    payload: dict[str, Any] = {"objection_event_id": str(objection_event_id), "decided_by_nip": atasan,
                               "outcome": outcome, "reasons": reasons}
    if rating_hasil_kerja:
        payload["modified_rating_hasil_kerja"] = rating_hasil_kerja
    if rating_perilaku:
        payload["modified_rating_perilaku"] = rating_perilaku
    if realisations:
        payload["modified_realisations"] = [{"iki_id": k, "value": str(v)} for k, v in realisations.items()]
    if predikat:
        payload["predikat"] = predikat
    return envelope(ev.ObjectionDecidedV2.TYPE, subject, period, payload, source=source or person_source(atasan),
                    event_id=event_id, at=at)


def parse_realisation(text: str) -> tuple[str, Decimal]:
    """`IKI_ID=VALUE` (a decimal, written as text) from the command line."""
    iki_id, sep, value = text.partition("=")
    if not sep or not iki_id:
        raise ValueError(f"expected IKI_ID=VALUE, got {text!r}")
    return iki_id.strip(), Decimal(value.strip())
