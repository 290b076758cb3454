"""Re-appraising one employee while redoing only what changed: `appraise_employee`, given what the last call for
the same employee kept (`Kept`).

Two ways, each reusing what was kept only where that provably equals what doing the step again gives:

- `appraise_extension`, the hit path: the employee's new events, alone, onto what was kept. It applies only
  when every new event is a fact of one of the employee's existing streams (not an assignment, a policy
  adoption or a unit-level event) numbered after everything kept: then `route` would append each to its own
  stream and route every earlier event as before (the streams' keys, hence the positions held and everything
  routed by them, are unchanged), and each stream's fold is the kept State folded on with its new events (a
  fold is a left fold: `fold(a + b) == fold(b, fold(a))`). The history is not read, parsed or routed again;
  the caller checks that what was kept is the whole history (`Kept.own`, the count the store holds).
- `appraise_employee_folded`, everything else: the whole history routed again; a stream that in fold order
  begins with exactly the events folded last time is folded onto the kept State, only the rest; any other
  stream (an earlier policy, position or unit predicate routed into it, an assignment moved it, an event
  missing, the order changed) is folded from scratch.

Projecting: a stream's appraisal is a function of its State and the policies, so an unchanged State (the
same object) under the same policies keeps its appraisal. The annual policy (§1.8) is then applied over all the
employee's periods, exactly as `services.scoring.domain.stream.appraise_employee` does: same results, byte for
byte. What is kept holds States and ids, never the events themselves (a parsed event costs more memory than
its fact, measured with tracemalloc: ≈ 2.6 kB against ≈ 1.6 kB).
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
    """What appraising one employee leaves for the next time: how many of the events were the employee's own
    (subject = NIP: what the store counts), the highest sequence number of all of them (None unless every one
    has one), each stream's `Folded` and its appraisal before the annual policy, under `policies`, and the
    caller's `context` token (what unit-level events the history was routed with)."""

    own: int
    last: int | None
    folded: Mapping[Key, Folded]
    projected: Mapping[Key, Appraisal]
    policies: Mapping[str, Policy]
    context: object = None

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


def _projected(kept: Kept | None, folded: Mapping[Key, Folded], policies: Mapping[str, Policy]
               ) -> dict[Key, Appraisal]:
    """Each stream's appraisal before the annual policy: the kept one where its State is the very one kept
    under the same policies, else projected again."""
    projected = {}
    for key, f in folded.items():
        before = kept.folded.get(key) if kept is not None and kept.policies is policies else None
        projected[key] = kept.projected[key] if before is not None and before.state is f.state else (  # type: ignore[union-attr]
            project(f.state, policies))
    return projected


def appraise_employee_folded(
    events: Iterable[Envelope], nip: str, policies: Mapping[str, Policy], kept: Kept | None,
    *, context: object = None,
) -> tuple[tuple[tuple[Key, tuple[Envelope, ...], Appraisal], ...], Kept]:
    """`appraise_employee(events, nip, policies)` (every event of the employee, and the context that can reach
    them), reusing the folds `kept` (the last call's, for `nip`) provably still holds; also returns what to
    keep for the next call, tagged with `context`."""
    ordered = route_order(events)
    routed, _unit_events = route(ordered)
    mine = sorted(key for key in routed if key[0] == nip)
    streams = {key: tuple(routed[key]) for key in mine}
    earlier = kept.folded if kept is not None else {}
    folded = {key: folded_onto(streams[key], earlier.get(key)) for key in mine}
    numbered = bool(ordered) and all(e.sequence is not None for e in ordered)
    own = sum(1 for e in ordered if e.subject == nip)
    return _appraised(kept, folded, streams, policies, own, ordered[-1].sequence if numbered else None, context)


def appraise_extension(
    kept: Kept, new: Sequence[Envelope], policies: Mapping[str, Policy]
) -> tuple[tuple[tuple[Key, tuple[Envelope, ...], Appraisal], ...], Kept] | None:
    """The employee's appraisals once `new` (his or her own events, every one after those `kept` was made of)
    is added to the history `kept` was made of, without that history: ((nip, period), the events the stream
    gained, in stream order, appraisal) for every stream, and what to keep next. None when `new` is not only
    facts of the existing streams numbered after `kept.last`: then only routing everything again is exact
    (`appraise_employee_folded`)."""
    if kept.last is None or any(e.sequence is None for e in new):
        return None
    last = kept.last
    gained: dict[Key, list[Envelope]] = {}
    for event in sorted(new, key=lambda e: e.sequence or 0):
        key = (event.subject, event.period)
        if (event.sequence or 0) <= last or key not in kept.folded or not is_own_fact(event):
            return None
        last = event.sequence or 0
        gained.setdefault(key, []).append(event)
    folded = dict(kept.folded)
    for key, events in gained.items():
        before = folded[key]
        folded[key] = Folded((*before.event_ids, *(str(e.event_id) for e in events)), fold(events, before.state))
    streams = {key: tuple(gained.get(key, ())) for key in folded}
    return _appraised(kept, folded, streams, policies, kept.own + len(new), last, kept.context)


def _appraised(
    kept: Kept | None, folded: Mapping[Key, Folded], events: Mapping[Key, tuple[Envelope, ...]],
    policies: Mapping[str, Policy], own: int, last: int | None, context: object,
) -> tuple[tuple[tuple[Key, tuple[Envelope, ...], Appraisal], ...], Kept]:
    """Each stream's appraisal from its fold (the kept one where the State is the kept one), the annual policy
    (§1.8) over them all: ((nip, period), its `events`, appraisal) in key order, and what to keep next."""
    mine = sorted(folded)
    projected = _projected(kept, folded, policies)
    appraisals = apply_annual_policy(tuple(projected[k] for k in mine), policies)
    results = tuple((k, events[k], a) for k, a in zip(mine, appraisals, strict=True))
    return results, Kept(own, last, folded, projected, policies, context)
