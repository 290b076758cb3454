"""Krippendorff's alpha, computed exactly with fractions
(REGULATION.md §1.4: inter-rater reliability per unit).

Our own implementation of K. Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), via the
coincidence matrix: `alpha = 1 - D_o / D_e`, with
`D_o = (1/n) * sum_ck o_ck * delta2(c, k)` and `D_e = (1/(n(n-1))) * sum_ck n_c * n_k * delta2(c, k)`.
Only units with at least two values are pairable; a unit's values are the values its coders assigned (a coder
assigns at most one value per unit; missing values are simply absent).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Literal

Metric = Literal["nominal", "ordinal", "interval", "ratio"]


def coincidences(units: Iterable[Iterable[int]]) -> dict[tuple[int, int], Fraction]:
    """The coincidence matrix `o_ck`: each pairable unit with `m` values contributes, for every ordered pair
    of values from different coders, `1 / (m - 1)`. Pair counts are summed as integers per `m` first, so
    only one division per cell and unit size is exact-rational work."""
    by_size: dict[int, Counter[tuple[int, int]]] = {}
    for unit in units:
        values = Counter(unit)
        m = sum(values.values())
        if m < 2:
            continue
        pairs = by_size.setdefault(m, Counter())
        for c, n_c in values.items():
            for k, n_k in values.items():
                pairs[(c, k)] += n_c * (n_c - 1) if c == k else n_c * n_k
    result: dict[tuple[int, int], Fraction] = {}
    for m, pairs in sorted(by_size.items()):
        for cell, count in pairs.items():
            if count:
                result[cell] = result.get(cell, Fraction(0)) + Fraction(count, m - 1)
    return result


def _delta2(
    metric: Metric, c: int, k: int, marginals: dict[int, Fraction], ordered: Sequence[int]
) -> Fraction:
    if c == k:
        return Fraction(0)
    if metric == "nominal":
        return Fraction(1)
    if metric == "interval":
        return Fraction((c - k) ** 2)
    if metric == "ratio":
        return Fraction(c - k, c + k) ** 2
    low, high = (c, k) if ordered.index(c) < ordered.index(k) else (k, c)
    between = sum((marginals[g] for g in ordered if low <= g <= high), Fraction(0))
    return (between - (marginals[c] + marginals[k]) / 2) ** 2


def alpha(units: Iterable[Iterable[int]], metric: Metric = "ordinal") -> Fraction | None:
    """Krippendorff's alpha of reliability data given per unit as the values assigned to it.

    `None` when alpha is undefined: no pairable unit, or no variation at all (expected disagreement 0).
    """
    o = coincidences(units)
    marginals: dict[int, Fraction] = {}
    for (c, _k), count in o.items():
        marginals[c] = marginals.get(c, Fraction(0)) + count
    n = sum(marginals.values(), Fraction(0))
    if n <= 1:
        return None
    ordered = sorted(marginals)
    observed = sum(
        (count * _delta2(metric, c, k, marginals, ordered) for (c, k), count in o.items()), Fraction(0)
    )
    expected = sum(
        (
            marginals[c] * marginals[k] * _delta2(metric, c, k, marginals, ordered)
            for c in ordered
            for k in ordered
        ),
        Fraction(0),
    )
    if expected == 0:
        return None
    return 1 - (n - 1) * observed / expected


def units_from_matrix(rows: Sequence[Sequence[int | None]]) -> tuple[tuple[int, ...], ...]:
    """Reliability data in canonical form (one row per coder, one column per unit, `None` for missing) as the
    values per unit that `alpha` takes."""
    width = max((len(r) for r in rows), default=0)
    return tuple(tuple(r[u] for r in rows if u < len(r) and r[u] is not None) for u in range(width))  # type: ignore[misc]
