"""Appraising one employee for one period: fold the stream, then read the state under the policy in force
(REGULATION.md §0 regime by period or by adoption; §1.3-§1.5 PermenPANRB 6/2022; §2.2 PP 30/2019;
§3 PP 46/2011; §2.4 an accepted objection's decision re-projects the result, `services.scoring.domain.objection`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from contracts import events as ev
from contracts.canonical import basis_hash
from contracts.envelope import Envelope
from contracts.events import Rating
from services.scoring.domain.angka_kredit import angka_kredit
from services.scoring.domain.appraisal import Appraisal, Divergence, Pp30Detail
from services.scoring.domain.behaviour import RaterScore, ValueResult, behaviour_of
from services.scoring.domain.capaian import rating_from_bands
from services.scoring.domain.hasil import HasilKerja, hasil_kerja
from services.scoring.domain.numbers import exact, rounded
from services.scoring.domain.objection import objection_view, original_summary, with_decided_realisations
from services.scoring.domain.older import pp30_nilai, pp30_predikat
from services.scoring.domain.older_stream import pp46_detail
from services.scoring.domain.policy import Policy, select_policy
from services.scoring.domain.predikat import predikat as matrix_predikat
from services.scoring.domain.state import FACT_SLOTS, Fact, State, fold
from services.scoring.domain.timeline import assignment_in_force

#: Facts whose subject is not the appraised employee (policies for "*" or a unit; unit predicates; positions).
_NOT_EMPLOYEE_SLOTS = ("policies", "org_predicates", "positions")
#: The slots of the employee's own facts (every fact is in one slot only).
_EMPLOYEE_SLOTS = tuple(slot for slot in FACT_SLOTS if slot not in _NOT_EMPLOYEE_SLOTS)


class StreamError(ValueError):
    """The events do not form one employee-period stream (empty, or mixing employees or periods)."""


#: The status of a result an objection's decision made final (§2.4: the decision is final).
FINAL_BY_DECISION = "final (keberatan)"

_NO_HASIL = HasilKerja(None, (), (), None, ())
_NO_DIVERGENCE = Divergence(False, False, None, False, None)


@dataclass(frozen=True, slots=True)
class _Scored:
    """What a regime makes of the stream, before identity, objection and basis are added."""

    hk: HasilKerja = _NO_HASIL
    rating_hasil_kerja: tuple[Rating | None, Rating | None, Rating | None] = (None, None, None)
    rating_perilaku: tuple[Rating | None, Rating | None, Rating | None] = (None, None, None)
    perilaku_score: Decimal | None = None
    per_value: tuple[ValueResult, ...] = ()
    predikat: str | None = None
    nilai: Decimal | None = None
    divergence: Divergence = _NO_DIVERGENCE
    pp30: Pp30Detail | None = None
    pp46: Any = None
    behaviour_scores: tuple[RaterScore, ...] = ()
    hasil_kerja_source: str = "evidence"
    perilaku_justified: bool = False
    used: tuple[str, ...] = field(default=())


def appraise(events: Sequence[Envelope], policies: Mapping[str, Policy]) -> Appraisal:
    """Appraise one employee for one period from ALL its accepted events, in evidence-sequence order.

    `reduce(evolve, events, State())`, then the regime of the period (§0) or of the last `policy.adopted`.
    Duplicates change nothing; a superseding event replaces the one it names. When every event carries its
    evidence `sequence`, that order is used whatever order the events were handed over in.
    """
    if all(e.sequence is not None for e in events):
        events = sorted(events, key=lambda e: e.sequence or 0)
    return project(fold(events), policies)


def identity(state: State) -> tuple[str, str]:
    """The stream's employee (NIP) and period. Assignments may come from an earlier period (the position held
    since then); every other employee fact must agree on both."""
    subjects = {f.subject for slot in _EMPLOYEE_SLOTS for f in getattr(state, slot)}
    if len(subjects) != 1:
        raise StreamError(f"a stream appraises one employee; found {sorted(subjects) or 'none'}")
    periods = {f.period for slot in _EMPLOYEE_SLOTS if slot != "assignments" for f in getattr(state, slot)}
    if len(periods) > 1:
        raise StreamError(f"a stream appraises one period; found {sorted(periods)}")
    period = next(iter(periods)) if periods else max(f.period for f in state.assignments)
    return next(iter(subjects)), period


@exact
def project(state: State, policies: Mapping[str, Policy]) -> Appraisal:
    """The appraisal a folded state amounts to under the policy in force (in the scoring decimal context, entered
    once for all the arithmetic below)."""
    nip, period = identity(state)
    adopted = [f for f in state.policies if f.period == period]
    policy = select_policy(
        period,
        (adopted[-1].payload.policy_id, adopted[-1].payload.content_hash) if adopted else None,
        policies,
    )
    assignment = assignment_in_force(state.assignments, period)
    original = _score(state, policy, assignment, period)
    closure = state.closures[-1] if state.closures else None
    objection, objection_used = objection_view(state, policy.keberatan.decision_days)
    scored = original
    if objection is not None and objection.decision is not None and objection.changes_result:
        # §2.4: the Atasan "may change and set" the result: re-project with what the decision sets; the result
        # before it stays visible in `objection.original`
        decision = objection.decision
        changed = _score(with_decided_realisations(state, decision), policy, assignment, period)
        scored = _as_decided(changed, decision.payload, policy)
        summary = original_summary(
            original.predikat,
            (original.rating_hasil_kerja[2], original.rating_perilaku[2]),
            original.hk.capaian,
            original.nilai,
            original.hk.iki,
        )
        objection = replace(objection, original=summary)
        scored = replace(scored, used=(*original.used, *scored.used))
    extra = [f.event_id for f in (adopted[-1] if adopted else None, assignment, closure) if f is not None]
    credit = angka_kredit(state.assignments, period, scored.predikat, policy.angka_kredit)  # §5
    extra += credit.event_ids if credit is not None else ()
    positions = {f.event_id: f.position for slot in FACT_SLOTS for f in getattr(state, slot)}
    basis = tuple(sorted(set(scored.used) | set(extra) | set(objection_used), key=positions.__getitem__))
    a = assignment.payload if assignment is not None else None
    status = "final" if closure is not None else "provisional"
    if objection is not None and objection.decision is not None:
        status = FINAL_BY_DECISION  # §2.4: the decision is final, whatever its outcome
    return Appraisal(
        nip=nip,
        period=period,
        evaluation="tahunan" if len(period) == 4 else "periodik",
        status=status,
        name=a.name if a else None,
        unit_id=a.unit_id if a else None,
        jabatan=a.jabatan if a else None,
        pejabat_penilai_nip=a.pejabat_penilai_nip if a else None,
        policy=(policy.id, policy.version, policy.content_hash),
        iki=scored.hk.iki,
        rhk=scored.hk.rhk,
        capaian_hasil_kerja=scored.hk.capaian,
        rating_hasil_kerja=scored.rating_hasil_kerja,
        rating_perilaku=scored.rating_perilaku,
        perilaku_score=scored.perilaku_score,
        per_value=scored.per_value,
        predikat_computed=original.predikat,
        predikat=scored.predikat,
        nilai=scored.nilai,
        divergence=scored.divergence,
        objection=objection,
        pp30=scored.pp30,
        pp46=scored.pp46,
        behaviour_scores=scored.behaviour_scores,
        basis_event_ids=basis,
        basis_hash=basis_hash(basis),
        hasil_kerja_source=scored.hasil_kerja_source,
        perilaku_justified=scored.perilaku_justified,
        angka_kredit=credit,
    )


def _score(
    state: State, policy: Policy, assignment: Fact[ev.EmployeeAssigned] | None, period: str
) -> _Scored:
    """What the regime in force makes of the stream (§1.3-§1.5, §2.2 or §3)."""
    if policy.id == "permenpanrb-6-2022":
        return _permen(state, policy, _leader_rating(state, assignment, period, policy))
    if policy.id == "pp30-2019":
        return _pp30(state, policy)
    detail, nilai, predikat, used = pp46_detail(state, policy)
    return _Scored(pp46=detail, nilai=nilai, predikat=predikat, used=used)


def _as_decided(scored: _Scored, decided: ev.ObjectionDecidedV2, policy: Policy) -> _Scored:
    """The re-projected result with the decision's ratings in place of the ones used (§2.4) and the predikat
    that follows: set directly by the decision, or under PermenPANRB 6/2022 from the §1.5 matrix. The numeric
    regimes (§2.2, §3) have no ratings to modify: their value follows from modified realisations only."""
    evidence_hk, pp_hk, used_hk = scored.rating_hasil_kerja
    evidence_p, pp_p, used_p = scored.rating_perilaku
    hk = decided.modified_rating_hasil_kerja or used_hk
    p = decided.modified_rating_perilaku or used_p
    predikat = scored.predikat
    if decided.predikat is not None:
        predikat = decided.predikat
    elif policy.id == "permenpanrb-6-2022":
        predikat = matrix_predikat(hk, p) if hk and p else None
    return replace(
        scored,
        rating_hasil_kerja=(evidence_hk, pp_hk, hk),
        rating_perilaku=(evidence_p, pp_p, p),
        predikat=predikat,
    )


def decide_rating(
    objective: Rating | None, pp: Rating | None, justified: bool, mode: str
) -> tuple[Rating | None, bool, bool]:
    """(rating used, divergent, justification missing) for one rating (§1.3, §1.4): the Pejabat Penilai's
    rating is used where recorded; one that differs from the objective rating without a justification is
    flagged, and under `use_evidence` the objective rating is used instead."""
    if pp is None or objective is None:
        return (pp or objective), False, False
    if pp == objective:
        return pp, False, False
    if justified:
        return pp, True, False
    return (objective if mode == "use_evidence" else pp), True, True


def _last_rating(state: State, attribute: str) -> Fact[Any] | None:
    facts = [f for f in state.pejabat_penilai if getattr(f.payload, attribute) is not None]
    return facts[-1] if facts else None


def _leader_rating(
    state: State, assignment: Fact[ev.EmployeeAssigned] | None, period: str, policy: Policy
) -> tuple[Rating, tuple[str, ...]] | None:
    """§1.3: a unit's leader takes the unit's performance as his or her rating hasil kerja. Applies when the
    stream holds the registration of the employee's position as the unit's leader and the unit's predicate for
    the period (the service routes both into the leader's stream); the mapping comes from the policy."""
    settings = policy.permenpanrb
    if assignment is None or settings is None or not settings.leader_rating:
        return None
    held = assignment.payload
    positions = [f for f in state.positions if f.payload.position_id == held.position_id]
    if not positions or not positions[-1].payload.is_unit_leader:
        return None
    unit = [f for f in state.org_predicates if f.payload.unit_id == held.unit_id and f.period == period]
    if not unit:
        return None
    rating = settings.leader_rating.get(unit[-1].payload.predicate.value)
    return None if rating is None else (rating, (positions[-1].event_id, unit[-1].event_id))


def _permen(state: State, policy: Policy, leader: tuple[Rating, tuple[str, ...]] | None) -> _Scored:
    """§1.3-§1.5 for one stream; `leader` is the unit-based rating hasil kerja of a unit's leader."""
    settings = policy.permenpanrb
    assert settings is not None
    hk = hasil_kerja(state, settings.capaian, policy.rounding)
    evidence = rating_from_bands(hk.capaian, settings.evidence_rating) if hk.capaian is not None else None
    if leader is not None:
        evidence = leader[0]
    behaviour, current = behaviour_of(state.behaviour, settings.behaviour, policy.rounding)
    pp_hk, pp_p = _last_rating(state, "rating_hasil_kerja"), _last_rating(state, "rating_perilaku")
    texts = tuple(
        dict.fromkeys(f.payload.justification for f in (pp_hk, pp_p) if f and f.payload.justification)
    )
    mode = settings.unjustified_divergence
    hk_pp = pp_hk.payload.rating_hasil_kerja if pp_hk else None
    p_pp = pp_p.payload.rating_perilaku if pp_p else None
    hk_used, hk_div, hk_missing = decide_rating(
        evidence, hk_pp, bool(pp_hk and pp_hk.payload.justification), mode
    )
    p_used, p_div, p_missing = decide_rating(
        behaviour.rating, p_pp, bool(pp_p and pp_p.payload.justification), mode
    )
    missing = hk_missing or p_missing
    note = None
    if missing:
        note = "the Pejabat Penilai's rating differs from the objective rating without a justification; " + (
            "the objective rating is used" if mode == "use_evidence" else "it is used and flagged"
        )
    used = (*hk.used, *(s.event_id for s in current), *(f.event_id for f in (pp_hk, pp_p) if f))
    used += leader[1] if leader is not None else ()
    return _Scored(
        hk=hk,
        rating_hasil_kerja=(evidence, hk_pp, hk_used),
        rating_perilaku=(behaviour.rating, p_pp, p_used),
        perilaku_score=behaviour.score,
        per_value=behaviour.per_value,
        predikat=matrix_predikat(hk_used, p_used) if hk_used and p_used else None,
        divergence=Divergence(hk_div, p_div, "\n".join(texts) or None, missing, note),
        behaviour_scores=current,
        hasil_kerja_source="unit" if leader is not None else "evidence",
        perilaku_justified=bool(pp_p and pp_p.payload.justification),
        used=used,
    )


def _pp30(state: State, policy: Policy) -> _Scored:
    """§2.2 for one stream: the recorded SKP value (or the plan's capaian hasil kerja), the behaviour value,
    70/30 or 60/40, and the bands with the innovation condition."""
    settings = policy.pp30
    assert settings is not None
    hk = hasil_kerja(state, settings.capaian, policy.rounding)
    skp = state.pp30_skp[-1] if state.pp30_skp else None
    beh = state.pp30_behaviour[-1] if state.pp30_behaviour else None
    if skp is not None:
        nilai_skp: Decimal | None = rounded(
            skp.payload.nilai_skp, policy.rounding.places, policy.rounding.mode
        )
        source: str | None = "recorded"
        used = [skp.event_id]
    else:
        nilai_skp, source, used = hk.capaian, ("computed" if hk.capaian is not None else None), list(hk.used)
    innovation = bool(state.pp30_innovation)
    used += [f.event_id for f in state.pp30_innovation]
    nilai_perilaku = None
    multi = False
    if beh is not None:
        used.append(beh.event_id)
        nilai_perilaku = rounded(beh.payload.nilai_perilaku, policy.rounding.places, policy.rounding.mode)
        multi = beh.payload.peer_input
    nilai = None
    predikat = None
    if nilai_skp is not None and nilai_perilaku is not None:
        nilai = pp30_nilai(nilai_skp, nilai_perilaku, multi, settings, policy.rounding)
        predikat = pp30_predikat(nilai, innovation, settings)
    share = settings.weights_multi_rater if multi else settings.weights
    detail = Pp30Detail(nilai_skp, source, nilai_perilaku, share, innovation)
    return _Scored(hk=hk, nilai=nilai, predikat=predikat, pp30=detail, used=tuple(used))
