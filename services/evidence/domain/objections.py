"""Keberatan at the gate (REGULATION.md §2.4, PP 30/2019 Pasal 59; issue 4): who may file, ask, explain and
decide, and until when. Pure: the gate's clock arrives as `received_at`.

- Filing: only the appraised employee, against a delivered result, at most 14 calendar days after the delivery
  (`filing_time` says which moment counts), once per delivered result, and never after the decision (final).
- Explanations: only the Atasan Pejabat Penilai asks, and only the Pejabat Penilai or the employee is asked;
  only a person asked answers; nothing is asked or answered after the decision.
- Decision: only the Atasan Pejabat Penilai, once (final); modified realisations only for IKI of the plan.
  A decision beyond the policy's decision deadline is accepted and reported by scoring, never refused here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from contracts import events as ev
from contracts.envelope import Envelope
from services.evidence.domain.reasons import Code, reason
from services.evidence.domain.state import Delivery, IntakeState

#: §2.4: an objection at most 14 days after the result was received. Policy: calendar days, counted in the
#: UTC offset the delivery states.
OBJECTION_DAYS = timedelta(days=14)

Reasons = tuple[ev.RejectionReason, ...]


def filing_time(delivery: Delivery, claimed: datetime, received_at: datetime) -> datetime:
    """The moment a filing counts as made (§2.4 deadline): its claimed `occurred_at`, bounded by the gate's clock.

    §2.4 counts from when the result was *received* to when the objection is filed, both facts of the world.
    The gate trusts neither claim beyond what its own clock shows:
    - never later than the gate received the filing (nobody files in the future);
    - never earlier than the delivery's time plus the time the gate itself saw pass between recording the
      delivery and receiving the filing. Backdating cannot shrink the elapsed time below what the gate observed.

    Live, a delivery is recorded as it happens, so both bounds meet and the filing counts at its received time:
    no backdating at all. When a history is recorded late (an import, the demo: the delivery's
    `occurred_at` is long before its `recorded_at`) the events' own times count, within that same delay.
    A delivery claimed after the gate recorded it counts at its recording (nothing is delivered in the future).
    """
    delivered = min(delivery.occurred_at, delivery.recorded_at)
    observed = received_at - delivery.recorded_at
    return min(received_at, max(claimed, delivered + observed))


def last_filing_day(delivery: Delivery) -> str:
    """The last calendar day (ISO date) an objection against `delivery` may be filed (§2.4, policy)."""
    delivered = min(delivery.occurred_at, delivery.recorded_at)
    return (delivered.date() + OBJECTION_DAYS).isoformat()


def atasan_at(state: IntakeState, nip: str, when: datetime) -> str | None:
    """The employee's Atasan Pejabat Penilai at `when`: his or her Pejabat Penilai's Pejabat Penilai (§2.3)."""
    pejabat_penilai = state.pejabat_penilai_at(nip, when)
    return state.pejabat_penilai_at(pejabat_penilai, when) if pejabat_penilai else None


def filing_failures(envelope: Envelope, me: str, state: IntakeState, received_at: datetime) -> Reasons:
    """Why the person `me` may not file this objection now (§2.4); empty when he or she may."""
    if envelope.subject != me:
        return (reason(Code.OBJECTION_NOT_SUBJECT, path="subject"),)
    key = (envelope.subject, envelope.period)
    delivery = state.deliveries.get(key)
    if delivery is None:
        return (reason(Code.OBJECTION_NO_RESULT, envelope.period, path="period"),)
    earlier = state.objection_of.get(key)
    if earlier is not None and earlier in state.decided:
        return (reason(Code.OBJECTION_DECIDED_FINAL, f"decision {state.decided[earlier]}"),)
    filed = filing_time(delivery, envelope.occurred_at, received_at)
    delivered = min(delivery.occurred_at, delivery.recorded_at)
    if filed.astimezone(delivered.tzinfo).date() > delivered.date() + OBJECTION_DAYS:
        return (reason(Code.OBJECTION_LATE, f"last day {last_filing_day(delivery)}"),)
    if earlier is not None:
        return (reason(Code.OBJECTION_DUPLICATE, f"objection {earlier}"),)
    return ()


def _open_objection(envelope: Envelope, objection_id: UUID, state: IntakeState, path: str) -> Reasons:
    """The objection must be this employee-period's, and not yet decided (the decision is final, §2.4)."""
    if state.objections.get(objection_id) != (envelope.subject, envelope.period):
        return (reason(Code.OBJECTION_UNKNOWN, path=path),)
    decision = state.decided.get(objection_id)
    if decision is not None:
        return (reason(Code.OBJECTION_DECIDED_FINAL, f"decision {decision}", path=path),)
    return ()


def request_failures(
    envelope: Envelope, payload: ev.ObjectionExplanationRequested, me: str, state: IntakeState
) -> Reasons:
    """Why `me` may not ask these explanations: only the Atasan asks, only the Pejabat Penilai and the employee
    are asked (§2.4 "the Atasan asks both the Pejabat Penilai and the employee")."""
    when = envelope.occurred_at
    failure = _open_objection(envelope, payload.objection_event_id, state, "payload.objection_event_id")
    if failure:
        return failure
    if atasan_at(state, envelope.subject, when) != me:
        return (reason(Code.EXPLANATION_NOT_ATASAN, path="payload.requested_by_nip"),)
    parties = {envelope.subject, state.pejabat_penilai_at(envelope.subject, when)}
    strangers = [nip for nip in payload.from_nips if nip not in parties]
    if strangers:
        return (reason(Code.EXPLANATION_NOT_PARTY, ", ".join(strangers), path="payload.from_nips"),)
    return ()


def explanation_failures(
    envelope: Envelope, payload: ev.ObjectionExplanationGiven, me: str, state: IntakeState
) -> Reasons:
    """Why `me` may not give this explanation: only a person the request asked answers it, before the decision."""
    request = state.explanation_requests.get(payload.request_event_id)
    if request is None or state.objections.get(request.objection_event_id) != (envelope.subject, envelope.period):
        return (reason(Code.EXPLANATION_UNKNOWN, path="payload.request_event_id"),)
    failure = _open_objection(envelope, request.objection_event_id, state, "payload.request_event_id")
    if failure:
        return failure
    if me not in request.asked:
        return (reason(Code.EXPLANATION_NOT_ASKED, path="payload.given_by_nip"),)
    return ()


def decision_failures(envelope: Envelope, payload: ev.ObjectionDecidedV2, me: str, state: IntakeState) -> Reasons:
    """Why `me` may not decide this objection: only the Atasan Pejabat Penilai, once (final, §2.4); modified
    realisations only for IKI in the employee's SKP (§1.2)."""
    failure = _open_objection(envelope, payload.objection_event_id, state, "payload.objection_event_id")
    if failure:
        return failure
    if atasan_at(state, envelope.subject, envelope.occurred_at) != me:
        return (reason(Code.DECISION_NOT_ATASAN, path="payload.decided_by_nip"),)
    if payload.modified_realisations:
        plan = state.plans.get((envelope.subject, envelope.period)) or state.plans.get(
            (envelope.subject, envelope.period[:4]), frozenset()
        )
        unknown = [m.iki_id for m in payload.modified_realisations if m.iki_id not in plan]
        if unknown:
            return (reason(Code.INDICATOR_NOT_IN_PLAN, ", ".join(unknown), path="payload.modified_realisations"),)
    return ()
