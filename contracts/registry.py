"""Which payload class reads which `(type, schema_version)`, and the upcasters between versions.

Services call `parse_payload(envelope)` and get the newest version of the payload: an old event is upcast on read,
so history stays readable (ARCHITECTURE.md, "Contracts").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contracts import events as ev
from contracts.envelope import Envelope

#: Every event class, newest version per type. The key is the `type` string on the envelope.
PAYLOADS: dict[str, type[ev.Payload]] = {
    cls.TYPE: cls
    for cls in (
        ev.UnitRegistered,
        ev.PositionRegistered,
        ev.EmployeeAssigned,
        ev.PolicyAdopted,
        ev.SkpPlanned,
        ev.RealisationRecorded,
        ev.BehaviourRated,
        ev.PejabatPenilaiRated,
        ev.FeedbackGiven,
        ev.OrgPredicateSet,
        ev.PeriodClosed,
        ev.ScoreComputed,
        ev.SubmissionRejected,
        # sources and keys (issue 6); FeedbackGivenV2 comes after FeedbackGiven so it is the newest version
        ev.SourceRegistered,
        ev.SourceKeyRotated,
        ev.SourceKeyRevoked,
        ev.ResultDelivered,
        ev.ObjectionFiled,
        ev.ObjectionDecided,
        ev.FeedbackGivenV2,
        # older regimes (REGULATION.md §2.2, §3; issue 3)
        ev.Pp46ActivityRecorded,
        ev.Pp46TugasTambahanRecorded,
        ev.Pp46KreativitasRecorded,
        ev.Pp46BehaviourScored,
        ev.Pp30SkpValued,
        ev.Pp30BehaviourValued,
        ev.Pp30InnovationRecorded,
        # keberatan (REGULATION.md §2.4; issue 4); ObjectionDecidedV2 after ObjectionDecided: the newest version
        ev.ObjectionExplanationRequested,
        ev.ObjectionExplanationGiven,
        ev.ObjectionDecidedV2,
        # personal data (UU PDP; issue 18, ADR 0010)
        ev.PersonalDataErased,
    )
}

#: The schema version each type is currently written in.
CURRENT_VERSION: dict[str, int] = {t: getattr(cls, "SCHEMA_VERSION", 1) for t, cls in PAYLOADS.items()}


def _feedback_given_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 `refers_to` held bare event ids; v2 holds references `{"event_id": id}` (issue 6).

    Anything that is not a list is left alone, so a malformed v1 payload fails validation, not the upcaster.
    """
    refers_to = payload.get("refers_to")
    if not isinstance(refers_to, list | tuple):
        return payload
    return {**payload, "refers_to": [{"event_id": ref} for ref in refers_to]}


def _objection_decided_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 held only `predikat`; v2 adds modified ratings and realisations (issue 4, §2.4). A v1 predikat is
    kept as v2's directly set predikat when the objection was accepted (`diterima`); a rejected decision's
    predikat never had an effect (v1 scoring applied only accepted ones), so it is dropped."""
    if payload.get("outcome") == "ditolak":
        return {k: v for k, v in payload.items() if k != "predikat"}
    return payload


#: Upcasters: (type, from_version) -> function turning that version's payload dict into the next version's.
UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {
    ("feedback.given", 1): _feedback_given_v1_to_v2,
    ("objection.decided", 1): _objection_decided_v1_to_v2,
}

#: Event types a submitter may send through intake; derived events are written by the services only.
SUBMITTABLE: frozenset[str] = frozenset(PAYLOADS) - {ev.ScoreComputed.TYPE, ev.SubmissionRejected.TYPE}


class UnknownEventType(ValueError):
    """The envelope names a `type` no contract defines."""


class UnsupportedSchemaVersion(ValueError):
    """The envelope's `schema_version` is newer than this code knows, or has no upcaster."""


def upcast(type_: str, version: int, payload: dict[str, Any]) -> dict[str, Any]:
    """Bring a payload dict from `version` up to the current version of its type."""
    if type_ not in PAYLOADS:
        raise UnknownEventType(type_)
    current = CURRENT_VERSION[type_]
    if version > current:
        raise UnsupportedSchemaVersion(f"{type_} v{version} (this code knows up to v{current})")
    while version < current:
        step = UPCASTERS.get((type_, version))
        if step is None:
            raise UnsupportedSchemaVersion(f"{type_} v{version} has no upcaster")
        payload = step(payload)
        version += 1
    return payload


def parse_payload(envelope: Envelope) -> ev.Payload:
    """The typed payload of an envelope, upcast to the current version. Raises pydantic's ValidationError."""
    data = upcast(envelope.type, envelope.schema_version, envelope.payload)
    return PAYLOADS[envelope.type].model_validate(data)
