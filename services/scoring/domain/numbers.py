"""Exact decimal arithmetic for scoring: one explicit context, never the thread's ambient one.

STYLE.md: `Decimal`, never float. Python's decimal operators use the *current* context, which any caller could
have changed; every public computation in this package therefore runs inside `CONTEXT` (via `exact`), so the
same inputs give the same digits on every machine and in every replay (REGULATION.md §3: the 24% boundary).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    getcontext,
    localcontext,
)
from fractions import Fraction
from typing import ParamSpec, TypeVar

#: 50 significant digits: far beyond any score, so only an explicit quantize ever rounds a shown number.
CONTEXT = Context(prec=50, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])

ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}

P = ParamSpec("P")
R = TypeVar("R")


def _in_scoring_context() -> bool:
    """Whether the current context already is the scoring context (nested calls need not switch again)."""
    current = getcontext()
    return (
        current.prec == CONTEXT.prec
        and current.rounding == CONTEXT.rounding
        and current.Emax == CONTEXT.Emax
        and current.Emin == CONTEXT.Emin
        and current.traps == CONTEXT.traps
    )


def exact(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` inside the scoring decimal context (deterministic precision and traps)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if _in_scoring_context():
            return fn(*args, **kwargs)
        with localcontext(CONTEXT):
            return fn(*args, **kwargs)

    return wrapper


@exact
def rounded(value: Decimal, places: int, mode: str = "half_up") -> Decimal:
    """`value` rounded to `places` decimals with the policy's rounding `mode` (fixed places: 100 → 100.00)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUNDING_MODES[mode])


@exact
def mean(values: Iterable[Decimal]) -> Decimal:
    """The arithmetic mean of a non-empty collection of decimals."""
    items = tuple(values)
    if not items:
        raise ValueError("mean of nothing")
    return sum(items, Decimal(0)) / len(items)


@exact
def fraction_to_decimal(value: Fraction, places: int, mode: str = "half_up") -> Decimal:
    """An exact fraction shown as a decimal with `places` places (used for alpha and shares)."""
    return rounded(Decimal(value.numerator) / Decimal(value.denominator), places, mode)
