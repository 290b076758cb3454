"""The evidence service's pure domain: the intake gate (issue 6). No I/O, no clock, no randomness.

`decide` turns a submission's raw bytes into exactly one `Accepted`, `Rejected` or `Duplicate`; `evolve`
teaches the `IntakeState` what an accepted event changes (sources and keys, organisation structure, plans,
results).
"""

from services.evidence.domain.gate import (
    MAX_BYTES,
    Accepted,
    Decision,
    Duplicate,
    Rejected,
    decide,
    decide_batch,
    decide_batch_and_evolve,
)
from services.evidence.domain.reasons import MESSAGES, Code
from services.evidence.domain.state import IntakeState, evolve, evolve_parsed, initial_state

__all__ = [
    "MAX_BYTES",
    "MESSAGES",
    "Accepted",
    "Code",
    "Decision",
    "Duplicate",
    "IntakeState",
    "Rejected",
    "decide",
    "decide_batch",
    "decide_batch_and_evolve",
    "evolve",
    "evolve_parsed",
    "initial_state",
]
