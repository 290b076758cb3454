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
    Known,
    Rejected,
    Screened,
    decide,
    decide_batch,
    decide_batch_and_evolve,
    decide_screened,
    screen,
)
from services.evidence.domain.reasons import MESSAGES, Code
from services.evidence.domain.state import IntakeState, SeenEvent, evolve, evolve_parsed, initial_state

__all__ = [
    "MAX_BYTES",
    "MESSAGES",
    "Accepted",
    "Code",
    "Decision",
    "Duplicate",
    "IntakeState",
    "Known",
    "Rejected",
    "Screened",
    "SeenEvent",
    "decide",
    "decide_batch",
    "decide_batch_and_evolve",
    "decide_screened",
    "evolve",
    "evolve_parsed",
    "initial_state",
    "screen",
]
