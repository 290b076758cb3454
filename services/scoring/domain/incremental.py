"""Re-appraising one employee while redoing only what changed: `appraise_employee`, given what the last call for
the same employee kept (`Kept`).

Each step reuses what it kept only where that provably equals what doing the step again gives:

- routing: when the events, in route order, are the events routed last time followed by new facts of the
  employee's existing streams (not assignments, policy adoptions or unit-level events), `route` would append
  each new event to its own stream and route every earlier event as before (the streams' keys, hence the
  positions held and everything routed by them, are unchanged); any other change routes everything again;
- folding: a fold is a left fold (`fold(a + b) == fold(b, fold(a))`), so a stream that in fold order begins
  with exactly the events folded last time is folded onto the kept State, only the rest; any other stream
  (an earlier policy, position or unit predicate routed into it, an assignment moved it, an event missing, the
  order changed) is folded from scratch;
- projecting: a stream's appraisal is a function of its State and the policies, so an unchanged State (the
  same object) under the same policies keeps its appraisal.

The annual policy (§1.8) is then applied over all the employee's periods, exactly as
`services.scoring.domain.stream.appraise_employee` does: same results, byte for byte.
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
from services.scoring.domain.stream import is_own_fact, route, route_order

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Folded:
    """A stream's State and the ids of the events it was folded from, in fold order."""

    event_ids: tuple[str, ...]
    state: State


@dataclass(frozen=True, slots=True)
class Kept:
    """What appraising one employee leaves for the next time: the events routed (in route order) and the
    highest of their sequence numbers (None unless every one has one), the employee's streams, each stream's
    `Folded` and its appraisal before the annual policy, under `policies`."""

    routed: tuple[Envelope, ...]
    last: int | None
    streams: Mapping[Key, tuple[Envelope, ...]]
    folded: Mapping[Key, Folded]
    projected: Mapping[Key, Appraisal]
    policies: Mapping[str, Policy]

    @property
    def size(self) -> int:
        """How many folded events this holds (what bounds a cache of them)."""
        return sum(len(f.event_ids) for f in self.folded.values())


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


def _in_route_order(kept: Kept | None, events: list[Envelope]) -> tuple[list[Envelope], int | None]:
    """`route_order(events)` and the highest sequence number (None unless every event has one). When `events`
    begin with the very events `kept` routed, in route order, all numbered, and go on with numbers above
    theirs, increasing, the route order is those followed by the rest: the routed ones are not read again."""
    if kept is not None and kept.last is not None:
        before, last = kept.routed, kept.last
        if len(events) >= len(before) and all(a is b for a, b in zip(before, events, strict=False)):
            for event in events[len(before):]:
                if event.sequence is None or event.sequence <= last:
                    break
                last = event.sequence
            else:
                return [*before, *events[len(before):]], last
    ordered = route_order(events)
    numbered = bool(ordered) and all(e.sequence is not None for e in ordered)
    return ordered, ordered[-1].sequence if numbered else None


def _extended(kept: Kept, ordered: Sequence[Envelope]) -> dict[Key, list[Envelope]] | None:
    """The events appended to each kept stream when `ordered` (in route order) is what `kept` routed followed
    by facts of the employee's existing streams only (then `route` would only append them); else None."""
    before = kept.routed
    if len(ordered) < len(before):
        return None
    for old, now in zip(before, ordered, strict=False):
        if old is not now and old.event_id != now.event_id:
            return None
    appended: dict[Key, list[Envelope]] = {}
    for event in ordered[len(before):]:
        key = (event.subject, event.period)
        if key not in kept.streams or not is_own_fact(event):
            return None
        appended.setdefault(key, []).append(event)
    return appended


def appraise_employee_folded(
    events: Iterable[Envelope], nip: str, policies: Mapping[str, Policy], kept: Kept | None
) -> tuple[tuple[tuple[Key, tuple[Envelope, ...], Appraisal], ...], Kept]:
    """`appraise_employee(events, nip, policies)`, reusing what `kept` (the last call's, for `nip`) provably
    still holds; also returns what to keep for the next call."""
    ordered, last = _in_route_order(kept, list(events))
    appended = _extended(kept, ordered) if kept is not None else None
    folded: dict[Key, Folded] = {}
    if kept is not None and appended is not None:
        streams = dict(kept.streams)
        # in sequence order throughout, each stream's fold order is its route order: the new events come last
        sequenced = last is not None
        for key, new in appended.items():
            streams[key] = (*streams[key], *new)
            before = kept.folded[key]
            folded[key] = (
                Folded((*before.event_ids, *(str(e.event_id) for e in new)), fold(new, before.state))
                if sequenced
                else folded_onto(streams[key], before)
            )
        mine = sorted(streams)
        folded = {key: folded.get(key) or kept.folded[key] for key in mine}
    else:
        routed, _unit_events = route(ordered)
        mine = sorted(key for key in routed if key[0] == nip)
        streams = {key: tuple(routed[key]) for key in mine}
        earlier = kept.folded if kept is not None else {}
        folded = {key: folded_onto(streams[key], earlier.get(key)) for key in mine}
    projected = {}
    for key in mine:
        state = folded[key].state
        same = kept is not None and kept.policies is policies and key in kept.folded
        projected[key] = (
            kept.projected[key] if same and kept.folded[key].state is state else project(state, policies)  # type: ignore[union-attr]
        )
    appraisals = apply_annual_policy(tuple(projected[k] for k in mine), policies)
    results = tuple((k, streams[k], a) for k, a in zip(mine, appraisals, strict=True))
    return results, Kept(tuple(ordered), last, streams, folded, projected, policies)
