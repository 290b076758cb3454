"""Re-appraising one employee while folding only what is new: `appraise_employee` with, per employee-period
stream, the State folded last time and the events it was folded from.

A fold is a left fold (`fold(a + b) == fold(b, fold(a))`), so when a stream's events in fold order begin with
exactly the events folded last time, folding only the rest onto the kept State gives the State a full fold
gives. Whenever they do not (`route` now sends an earlier policy, position or unit predicate into the stream,
an assignment moved it, an event is missing, or the order changed), the stream is folded from scratch. The
appraisal is then computed from the State and the annual policy (§1.8) applied over all the employee's
periods, exactly as `services.scoring.domain.stream.appraise_employee` does: same results, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from contracts.envelope import Envelope
from services.scoring.domain.annual import apply_annual_policy
from services.scoring.domain.appraisal import Appraisal
from services.scoring.domain.appraise import project
from services.scoring.domain.policy import Policy
from services.scoring.domain.state import State, fold
from services.scoring.domain.stream import route

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Folded:
    """A stream's State and the ids of the events it was folded from, in fold order."""

    event_ids: tuple[str, ...]
    state: State


def fold_order(stream: Sequence[Envelope]) -> list[Envelope]:
    """The order `appraise` folds a stream in: evidence sequence when every event carries one, else as given."""
    if all(e.sequence is not None for e in stream):
        return sorted(stream, key=lambda e: e.sequence or 0)
    return list(stream)


def folded_onto(stream: Sequence[Envelope], before: Folded | None) -> Folded:
    """The stream folded, starting from `before` when the stream (in fold order) begins with exactly the
    events `before` was folded from, else from the empty State."""
    ordered = fold_order(stream)
    ids = tuple(str(e.event_id) for e in ordered)
    done = len(before.event_ids) if before is not None else 0
    if before is not None and done <= len(ids) and ids[:done] == before.event_ids:
        return Folded(ids, fold(ordered[done:], before.state))
    return Folded(ids, fold(ordered))


def appraise_employee_folded(
    events: Iterable[Envelope], nip: str, policies: Mapping[str, Policy], folded: Mapping[Key, Folded]
) -> tuple[tuple[tuple[Key, tuple[Envelope, ...], Appraisal], ...], dict[Key, Folded]]:
    """`appraise_employee(events, nip, policies)`, folding each stream onto its entry in `folded` when that
    entry is a prefix of it; also returns each stream's new `Folded`, for the next call."""
    streams, _unit_events = route(events)
    mine = sorted(key for key in streams if key[0] == nip)
    now = {key: folded_onto(streams[key], folded.get(key)) for key in mine}
    appraisals = apply_annual_policy(tuple(project(now[k].state, policies) for k in mine), policies)
    return tuple((k, tuple(streams[k]), a) for k, a in zip(mine, appraisals, strict=True)), now
