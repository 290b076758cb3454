"""The scoring core: pure, deterministic functions of accepted events and policies (REGULATION.md §1-§3).

No clock, no randomness, no I/O: `appraise` folds one employee-period stream
(`reduce(evolve, events, State())`) and reads it under the policy in force; `summarise_units` adds the
unit view (§1.6, §1.7, rater bias §1.4); `score_stream` does both for any number of employees.
"""

from collections.abc import Mapping

from services.scoring.domain.appraisal import Appraisal
from services.scoring.domain.appraise import StreamError, appraise, project
from services.scoring.domain.policy import (
    NoRegimeForPeriod,
    Policy,
    PolicyError,
    PolicyNotAvailable,
    load_policy,
    regime_for_period,
)
from services.scoring.domain.predikat import normalise_rating, predikat
from services.scoring.domain.state import State, UnhandledEventType, evolve, fold
from services.scoring.domain.stream import ScoringOutput, score_stream
from services.scoring.domain.units import UnitSummary, summarise_units


def load_default_policies() -> Mapping[str, Policy]:
    """The three policy files shipped with the service. A convenience for callers of this package: the reading
    is done by the adapter (imported here, on call), never by the domain's functions."""
    from services.scoring.adapters.policy_files import load_default_policies as _load

    return _load()


__all__ = [
    "Appraisal",
    "NoRegimeForPeriod",
    "Policy",
    "PolicyError",
    "PolicyNotAvailable",
    "ScoringOutput",
    "State",
    "StreamError",
    "UnhandledEventType",
    "UnitSummary",
    "appraise",
    "evolve",
    "fold",
    "load_default_policies",
    "load_policy",
    "normalise_rating",
    "predikat",
    "project",
    "regime_for_period",
    "score_stream",
    "summarise_units",
]
