"""Capaian (achievement) of indicators and results, and the evidence rating (REGULATION.md §1.3).

Pure functions over `Decimal`. Formulas are PermenPANRB 8/2021's; the cap, floor, bands and rounding come from
the policy. Each stage is computed from the rounded numbers the stage before it shows, so an employee can redo
every step by hand from the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from contracts.events import Direction, Rating
from services.scoring.domain.numbers import exact, mean, rounded
from services.scoring.domain.policy import Bands3, CapaianRules, Rounding

HUNDRED = Decimal(100)


@exact
def capaian_iki(
    realisasi: Decimal,
    low: Decimal,
    high: Decimal,
    direction: Direction,
    rules: CapaianRules,
    rounding: Rounding,
) -> Decimal:
    """Capaian of one IKI (§1.3).

    Higher is better: `realisasi / target * 100`. Lower is better: `(1 + (1 - realisasi / target)) * 100`.
    With a range target `low-high` the bound nearest the realisation is the target (above the range: the upper
    bound; below it: the lower bound); inside the range the target is met (`rules.within_range`, 100).
    Clamped to `[rules.floor, rules.cap]` (120, the PP 30/2019 scale maximum), then rounded.
    """
    if low <= realisasi <= high and low != high:
        value = rules.within_range
    else:
        target = high if realisasi > high else low
        ratio = realisasi / target
        value = ratio * HUNDRED if direction is Direction.HIGHER_IS_BETTER else (1 + (1 - ratio)) * HUNDRED
    return rounded(min(max(value, rules.floor), rules.cap), rounding.places, rounding.mode)


@exact
def capaian_rhk(capaian_of_iki: Sequence[Decimal], rounding: Rounding) -> Decimal:
    """Capaian of one RHK: the mean of its IKI's capaian (§1.3), rounded."""
    return rounded(mean(capaian_of_iki), rounding.places, rounding.mode)


@exact
def capaian_hasil_kerja(
    main_rhk: Sequence[tuple[Decimal, Decimal | None]], rounding: Rounding
) -> Decimal | None:
    """Weighted mean of the main RHK's capaian (§1.3): `(capaian, weight)` pairs, weights from the plan.

    Weights apply only when every main RHK carries one; otherwise all count equally (a plan that weights some
    results and not others states no usable weighting). `None` when the plan has no main RHK.
    """
    if not main_rhk:
        return None
    weights = [w for _, w in main_rhk]
    if any(w is None for w in weights):
        return rounded(mean(c for c, _ in main_rhk), rounding.places, rounding.mode)
    total = sum((w for w in weights if w is not None), Decimal(0))
    weighted = sum((c * w for c, w in main_rhk if w is not None), Decimal(0))
    return rounded(weighted / total, rounding.places, rounding.mode)


def rating_from_bands(value: Decimal, bands: Bands3) -> Rating:
    """Map a number onto the three levels: `≥ di_atas_min` Di Atas, `≥ sesuai_min` Sesuai, else Di Bawah
    (§1.3 evidence rating with 110/90; §1.4 behaviour with 2.5/1.5)."""
    if value >= bands.di_atas_min:
        return Rating.DI_ATAS
    if value >= bands.sesuai_min:
        return Rating.SESUAI
    return Rating.DI_BAWAH
