"""The numeric regimes before PermenPANRB 6/2022: PP 30/2019 (REGULATION.md §2.2) and PP 46/2011 with
Perka BKN 1/2013 (§3). Pure functions over `Decimal`, constants from the policy."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from services.scoring.domain.numbers import exact, mean, rounded
from services.scoring.domain.policy import Band, Pp30Settings, Pp46Settings, Rounding

HUNDRED = Decimal(100)


def band_predikat(value: Decimal, bands: Sequence[Band], innovation: bool = False) -> str:
    """The first band (from the top) whose minimum `value` reaches; a band that requires an innovation is
    skipped without one (§2.2: 110+ without innovation is Baik)."""
    for band in bands:
        if value >= band.min and (innovation or not band.requires_innovation):
            return band.predikat
    return bands[-1].predikat


# --- PP 30/2019 (§2.2) --------------------------------------------------------------------------------------


@exact
def pp30_nilai(
    nilai_skp: Decimal, nilai_perilaku: Decimal, multi_rater: bool, settings: Pp30Settings, rounding: Rounding
) -> Decimal:
    """Nilai kinerja under PP 30/2019 Pasal 41: SKP 70% + behaviour 30%, or 60% / 40% where the agency uses
    peer and direct-subordinate input; capped at the scale maximum (120), rounded (§2.2: 100 and 80 give 92
    or 94)."""
    share = settings.weights_multi_rater if multi_rater else settings.weights
    value = nilai_skp * share + nilai_perilaku * (1 - share)
    return rounded(min(value, settings.scale_max), rounding.places, rounding.mode)


def pp30_predikat(nilai: Decimal, innovation: bool, settings: Pp30Settings) -> str:
    """§2.2 bands: Sangat Baik 110-120 with a recorded innovation; Baik 90-120; Cukup 70-<90; Kurang 50-<70;
    Sangat Kurang below 50 (89.99 → Cukup, 69.99 → Kurang, 49.99 → Sangat Kurang)."""
    return band_predikat(nilai, settings.bands, innovation)


# --- PP 46/2011 (§3) ----------------------------------------------------------------------------------------


@exact
def pp46_ratio(realisasi: Decimal, target: Decimal) -> Decimal:
    """Kuantitas `RO / TO * 100` or kualitas `RK / TK * 100` (§3 steps 1-2), unrounded."""
    return realisasi / target * HUNDRED


@exact
def pp46_efficiency_aspect(target: Decimal, realisasi: Decimal, settings: Pp46Settings) -> Decimal:
    """Waktu (or biaya, with TB/RB) under §3 step 3, in exact decimals.

    efisiensi = 100 - (R / T * 100); with X = ((1.76 * T - R) / T) * 100 the aspect is X when
    efisiensi ≤ 24, and `76 - (X - 100)` when efisiensi > 24 (not `76 - X - 100`). Exactly 24% gives 100.
    An aspect not carried out (R = 0) scores 0; a value below the policy floor is shown as the floor.
    """
    if realisasi == 0:
        return Decimal(0)
    efisiensi = HUNDRED - realisasi / target * HUNDRED
    x = (settings.factor * target - realisasi) / target * HUNDRED
    value = x if efisiensi <= settings.efficiency_threshold else settings.base - (x - HUNDRED)
    return max(value, settings.floor)


@exact
def pp46_activity(
    to: Decimal,
    ro: Decimal,
    tk: Decimal,
    rk: Decimal,
    tw: Decimal,
    rw: Decimal,
    tb: Decimal | None,
    rb: Decimal | None,
    settings: Pp46Settings,
    rounding: Rounding,
) -> tuple[Decimal, tuple[tuple[str, Decimal], ...]]:
    """Capaian of one activity (§3 step 5): the sum of its aspects divided by their number (4, or 3 when the
    activity has no budget). The time aspect counts in the divisor even when on time (76). An activity not
    carried out (RO = 0) scores 0 on every aspect. The capaian is computed from the aspects as shown
    (rounded); returns the rounded capaian and the rounded aspects."""
    if ro == 0:
        aspects = [("kuantitas", Decimal(0)), ("kualitas", Decimal(0)), ("waktu", Decimal(0))]
        if tb:
            aspects.append(("biaya", Decimal(0)))
    else:
        aspects = [
            ("kuantitas", pp46_ratio(ro, to)),
            ("kualitas", pp46_ratio(rk, tk)),
            ("waktu", pp46_efficiency_aspect(tw, rw, settings)),
        ]
        if tb:
            aspects.append(
                ("biaya", pp46_efficiency_aspect(tb, rb if rb is not None else Decimal(0), settings))
            )
    shown = tuple((name, rounded(v, rounding.places, rounding.mode)) for name, v in aspects)
    total = sum((v for _, v in shown), Decimal(0))
    return rounded(total / len(aspects), rounding.places, rounding.mode), shown


def pp46_tugas_tambahan_bonus(count: int, settings: Pp46Settings) -> Decimal:
    """Tugas tambahan bonus (§3 step 6): 1-3 tasks +1, 4-6 +2, 7 or more +3; none 0."""
    for minimum, bonus in settings.tugas_tambahan:
        if count >= minimum:
            return bonus
    return Decimal(0)


@exact
def pp46_nilai_skp(
    activities: Sequence[Decimal],
    tugas_tambahan: int,
    kreativitas: Decimal,
    settings: Pp46Settings,
    rounding: Rounding,
) -> Decimal:
    """Nilai capaian SKP (§3 step 6): mean of the activities + tugas tambahan bonus + kreativitas, rounded."""
    base = mean(activities) if activities else Decimal(0)
    value = base + pp46_tugas_tambahan_bonus(tugas_tambahan, settings) + kreativitas
    return rounded(value, rounding.places, rounding.mode)


@exact
def pp46_nilai_perilaku(aspects: Sequence[Decimal], rounding: Rounding) -> Decimal:
    """Nilai perilaku (§3): the mean of the aspects actually scored (5 or 6; kepemimpinan only for structural
    positions), never divided by a fixed 5."""
    return rounded(mean(aspects), rounding.places, rounding.mode)


@exact
def pp46_nilai(
    nilai_skp: Decimal, nilai_perilaku: Decimal, settings: Pp46Settings, rounding: Rounding
) -> Decimal:
    """Nilai prestasi kerja (§3): 60% * nilai SKP + 40% * nilai perilaku, rounded half up to 2 places."""
    value = nilai_skp * settings.weight_skp + nilai_perilaku * (1 - settings.weight_skp)
    return rounded(value, rounding.places, rounding.mode)


def pp46_predikat(value: Decimal, settings: Pp46Settings) -> str:
    """§3 bands on a value already rounded to 2 places: ≥ 91 Sangat Baik, ≥ 76 Baik, ≥ 61 Cukup, ≥ 51 Kurang,
    else Buruk (so 90.5 is Baik and 75.99 is Cukup; there is no gap between 90 and 91)."""
    return band_predikat(value, settings.bands)
