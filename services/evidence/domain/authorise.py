"""May this (authenticated) source submit this event? REGULATION.md §1.2, §1.4, §2.3, §2.4.

- A departmental system: only for units in its scope (a unit covers its subtree) and, for realisations, only
  IKI it measures that are in the employee's SKP.
- A person: only in his or her own name, and as a rater only in the relation the organisation structure gives
  at the rating's time (raters are assigned by the structure, never chosen by the ratee, §2.3); a result is
  delivered by a person only when he or she is the subject's Pejabat Penilai at that time (ADR 0007).
- An administrator (a configured admin key, e.g. the scoring service's registrar): source registrations, key
  rotations and revocations, policies, and closing a period of a known unit or employee (BKPSDM, ADR 0007).
- An objection: only by the appraised employee, within 14 calendar days of the result's delivery, once per
  delivered result; explanations asked by the Atasan Pejabat Penilai of the Pejabat Penilai and the employee, and
  given by those asked; the decision only by the Atasan, and final (§2.4; `services.evidence.domain.objections`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from contracts import events as ev
from contracts.envelope import Envelope
from services.evidence.domain import objections
from services.evidence.domain.authenticate import admin_signed
from services.evidence.domain.reasons import Code, reason
from services.evidence.domain.state import IntakeState, SeenEvent, Source

#: §2.4: an objection at most 14 days after the result was received (`objections.filing_time` says when).
OBJECTION_DAYS = objections.OBJECTION_DAYS

Reasons = tuple[ev.RejectionReason, ...]

SYSTEM_TYPES: frozenset[str] = frozenset(
    {
        ev.UnitRegistered.TYPE,
        ev.PositionRegistered.TYPE,
        ev.EmployeeAssigned.TYPE,
        ev.SkpPlanned.TYPE,
        ev.RealisationRecorded.TYPE,
        ev.OrgPredicateSet.TYPE,
        ev.PeriodClosed.TYPE,
        ev.ResultDelivered.TYPE,
    }
)
PERSON_TYPES: frozenset[str] = frozenset(
    {
        ev.BehaviourRated.TYPE,
        ev.PejabatPenilaiRated.TYPE,
        ev.FeedbackGivenV2.TYPE,
        ev.ObjectionFiled.TYPE,
        ev.ObjectionDecidedV2.TYPE,
        ev.ObjectionExplanationRequested.TYPE,
        ev.ObjectionExplanationGiven.TYPE,
        ev.ResultDelivered.TYPE,
    }
)


def _subject_is(envelope: Envelope, expected: str, field: str) -> Reasons:
    if envelope.subject == expected:
        return ()
    return (reason(Code.SUBJECT_MISMATCH, f"subject must equal payload.{field}", path="subject"),)


def relation_failure(
    state: IntakeState, rater: str, subject: str, relation: ev.RaterRelation, when: datetime
) -> Code | None:
    """Why `rater` is not in `relation` to `subject` at `when` (§1.4 policy, §2.3); None when he or she is.

    atasan: the subject's Pejabat Penilai; bawahan: someone whose Pejabat Penilai is the subject; rekan:
    another employee with the same Pejabat Penilai; diri: the subject.
    """
    rater_pp = state.pejabat_penilai_at(rater, when)
    subject_pp = state.pejabat_penilai_at(subject, when)
    match relation:
        case ev.RaterRelation.ATASAN:
            if rater == subject:
                return Code.RATER_SELF_AS_ATASAN
            holds = subject_pp == rater
        case ev.RaterRelation.DIRI:
            holds = rater == subject
        case ev.RaterRelation.BAWAHAN:
            holds = rater_pp == subject
        case ev.RaterRelation.REKAN:
            holds = rater != subject and rater_pp is not None and rater_pp == subject_pp
    return None if holds else Code.RATER_NOT_IN_RELATION


def _system(source: Source, envelope: Envelope, payload: ev.Payload, state: IntakeState) -> Reasons:
    when = envelope.occurred_at

    def covered(unit_id: str | None) -> Reasons:
        if state.unit_covered(source.units, unit_id):
            return ()
        return (reason(Code.SCOPE_UNIT, str(unit_id)[:64], path="subject"),)

    def employee_unit() -> tuple[str | None, Reasons]:
        assignment = state.assignment_at(envelope.subject, when)
        if assignment is None:
            return None, (reason(Code.SUBJECT_UNKNOWN, envelope.subject[:64], path="subject"),)
        return assignment.unit_id, ()

    match payload:
        case ev.UnitRegistered():
            own = payload.unit_id in source.units
            return _subject_is(envelope, payload.unit_id, "unit_id") or (
                () if own else covered(payload.parent_unit_id)
            )
        case ev.PositionRegistered() | ev.OrgPredicateSet():
            return _subject_is(envelope, payload.unit_id, "unit_id") or covered(payload.unit_id)
        case ev.EmployeeAssigned():
            if payload.pejabat_penilai_nip == payload.nip:
                return (reason(Code.RATER_SELF_AS_ATASAN, path="payload.pejabat_penilai_nip"),)
            return _subject_is(envelope, payload.nip, "nip") or covered(payload.unit_id)
        case ev.PeriodClosed() if envelope.subject in state.units:
            return covered(envelope.subject)
        case ev.SkpPlanned() | ev.PeriodClosed() | ev.ResultDelivered():
            unit, unknown = employee_unit()
            return unknown or covered(unit)
        case ev.RealisationRecorded():
            unit, unknown = employee_unit()
            failure = unknown or covered(unit)
            if failure:
                return failure
            if payload.iki_id not in source.indicators:
                return (reason(Code.SCOPE_INDICATOR, payload.iki_id, path="payload.iki_id"),)
            plan = state.plans.get((envelope.subject, envelope.period)) or state.plans.get(
                (envelope.subject, envelope.period[:4]), frozenset()
            )
            if payload.iki_id not in plan:
                return (reason(Code.INDICATOR_NOT_IN_PLAN, payload.iki_id, path="payload.iki_id"),)
            return ()
    return (reason(Code.SCOPE_KIND, envelope.type, path="type"),)


def _person(
    source: Source, envelope: Envelope, payload: ev.Payload, state: IntakeState, received_at: datetime
) -> Reasons:
    me = source.nip or ""
    when = envelope.occurred_at
    if isinstance(payload, ev.ObjectionFiled):
        return objections.filing_failures(envelope, me, state, received_at)
    if isinstance(payload, ev.ResultDelivered):
        if state.assignment_at(envelope.subject, when) is None:
            return (reason(Code.SUBJECT_UNKNOWN, envelope.subject[:64], path="subject"),)
        if me == envelope.subject or state.pejabat_penilai_at(envelope.subject, when) != me:
            return (reason(Code.DELIVERY_NOT_PEJABAT_PENILAI, path="source"),)
        return ()
    claimed = {
        ev.BehaviourRated: "rater_nip",
        ev.PejabatPenilaiRated: "rater_nip",
        ev.FeedbackGivenV2: "from_nip",
        ev.ObjectionDecidedV2: "decided_by_nip",
        ev.ObjectionExplanationRequested: "requested_by_nip",
        ev.ObjectionExplanationGiven: "given_by_nip",
    }[type(payload)]
    if getattr(payload, claimed) != me:
        return (reason(Code.SCOPE_PERSON, path=f"payload.{claimed}"),)
    if state.assignment_at(envelope.subject, when) is None:
        return (reason(Code.SUBJECT_UNKNOWN, envelope.subject[:64], path="subject"),)
    failure: Code | None
    match payload:
        case ev.BehaviourRated():
            failure = relation_failure(state, me, envelope.subject, payload.relation, when)
        case ev.PejabatPenilaiRated():
            failure = relation_failure(state, me, envelope.subject, ev.RaterRelation.ATASAN, when)
        case ev.FeedbackGivenV2():
            relations = (relation_failure(state, me, envelope.subject, r, when) for r in ev.RaterRelation)
            failure = None if None in relations else Code.RATER_NOT_IN_RELATION
        case ev.ObjectionDecidedV2():
            return objections.decision_failures(envelope, payload, me, state)
        case ev.ObjectionExplanationRequested():
            return objections.request_failures(envelope, payload, me, state)
        case ev.ObjectionExplanationGiven():
            return objections.explanation_failures(envelope, payload, me, state)
    return (reason(failure, path=f"payload.{claimed}"),) if failure else ()


def _admin(envelope: Envelope, payload: ev.Payload, state: IntakeState) -> Reasons:
    if isinstance(payload, ev.SourceRegistered | ev.SourceKeyRotated | ev.SourceKeyRevoked):
        return _subject_is(envelope, payload.source_id, "source_id")
    if isinstance(payload, ev.PersonalDataErased):  # UU PDP (ADR 0010): the erased person is the subject
        return _subject_is(envelope, payload.nip, "nip")
    if isinstance(payload, ev.PeriodClosed):
        known = envelope.subject in state.units or state.assignment_at(envelope.subject, envelope.occurred_at)
        return () if known else (reason(Code.SUBJECT_UNKNOWN, envelope.subject[:64], path="subject"),)
    return ()


def authorise(envelope: Envelope, payload: ev.Payload, state: IntakeState, received_at: datetime) -> Reasons:
    """No reasons when the (authenticated) source may submit this event now; otherwise why not."""
    if admin_signed(envelope.type, envelope.source, state):
        return _admin(envelope, payload, state)
    source = state.sources.get(envelope.source)
    if source is None:  # authenticate() has already refused it; kept for a caller that skips it
        return (reason(Code.KEY_UNKNOWN, envelope.source[:120], path="source"),)
    if envelope.type in SYSTEM_TYPES and source.kind is ev.SourceKind.SYSTEM:
        return _system(source, envelope, payload, state)
    if envelope.type in PERSON_TYPES and source.kind is ev.SourceKind.PERSON:
        return _person(source, envelope, payload, state, received_at)
    return (reason(Code.SCOPE_KIND, f"{source.kind.value} → {envelope.type}", path="type"),)


def supersession(envelope: Envelope, known: Mapping[UUID, SeenEvent]) -> Reasons:
    """A correction must name an accepted event of the same source, type and subject (`known`: the accepted
    events among the ids the batch names)."""
    if envelope.supersedes is None:
        return ()
    original = known.get(envelope.supersedes)
    if original is None:
        return (reason(Code.SUPERSEDES_UNKNOWN, str(envelope.supersedes), path="supersedes"),)
    if original.source != envelope.source:
        return (reason(Code.SUPERSEDES_OTHER_SOURCE, path="supersedes"),)
    if original.type != envelope.type or original.subject != envelope.subject:
        return (reason(Code.SUPERSEDES_OTHER_TYPE, path="supersedes"),)
    return ()
