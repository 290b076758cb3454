"""Annual from periodic evaluations (REGULATION.md §1.8). Policy default `own`: the annual evaluation is its
own evaluation over the year's evidence and ratings. `worst-period` takes the worst periodic predikat; `mean`
averages the periodic ratings used (hasil kerja and perilaku separately, on the 1-3 scale, half up) and reads
the matrix, so good results still never compensate for bad behaviour (§1.5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

from contracts.canonical import basis_hash
from contracts.events import Rating
from services.scoring.domain.appraisal import Appraisal
from services.scoring.domain.numbers import exact, mean
from services.scoring.domain.policy import Policy
from services.scoring.domain.predikat import MATRIX, PREDIKAT_ORDER, level_rank, rank_level


def _mode(appraisal: Appraisal, policies: Mapping[str, Policy]) -> str:
    for policy in policies.values():
        if (policy.id, policy.version, policy.content_hash) == appraisal.policy and policy.permenpanrb:
            return policy.permenpanrb.annual
    return "own"


@exact
def _mean_level(levels: Sequence[Rating]) -> Rating:
    value = mean(Decimal(level_rank(r)) for r in levels).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return rank_level(int(value))


def annual_predikat(mode: str, periodic: Sequence[Appraisal]) -> str | None:
    """The annual predikat derived from periodic appraisals under `worst-period` or `mean`."""
    with_predikat = [a for a in periodic if a.predikat is not None]
    if not with_predikat:
        return None
    if mode == "worst-period":
        return max((a.predikat for a in with_predikat if a.predikat), key=PREDIKAT_ORDER.index)
    hasil = [a.rating_hasil_kerja[2] for a in with_predikat if a.rating_hasil_kerja[2] is not None]
    perilaku = [a.rating_perilaku[2] for a in with_predikat if a.rating_perilaku[2] is not None]
    if not hasil or not perilaku:
        return None
    return MATRIX[(_mean_level(hasil), _mean_level(perilaku))]


def apply_annual_policy(
    appraisals: Sequence[Appraisal], policies: Mapping[str, Policy]
) -> tuple[Appraisal, ...]:
    """Annual appraisals rewritten from the same employee's periodic ones where the policy is not `own`; the
    basis then also holds the periodic bases (in period order). An accepted objection still sets the
    result."""
    periodic_of: dict[tuple[str, str], list[Appraisal]] = {}
    for a in sorted(appraisals, key=lambda a: a.period):
        if a.evaluation == "periodik":
            periodic_of.setdefault((a.nip, a.period[:4]), []).append(a)
    result = []
    for appraisal in appraisals:
        mode = _mode(appraisal, policies) if appraisal.evaluation == "tahunan" else "own"
        periodic = periodic_of.get((appraisal.nip, appraisal.period), [])
        derived = annual_predikat(mode, periodic) if mode != "own" else None
        if derived is None:
            result.append(appraisal)
            continue
        basis = tuple(
            dict.fromkeys((*appraisal.basis_event_ids, *(i for a in periodic for i in a.basis_event_ids)))
        )
        objection = appraisal.objection
        overridden = objection is not None and objection.changes_result
        result.append(
            replace(
                appraisal,
                predikat_computed=derived,
                predikat=appraisal.predikat if overridden else derived,
                basis_event_ids=basis,
                basis_hash=basis_hash(basis),
                annual_from=tuple(a.period for a in periodic),
                # §5: the year's months under the predikat now in force
                angka_kredit=None if appraisal.angka_kredit is None else appraisal.angka_kredit.regraded(
                    appraisal.predikat if overridden else derived
                ),
            )
        )
    return tuple(result)
