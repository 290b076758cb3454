"""The linear fold (one working copy, frozen once) gives exactly the State of the reference fold, which
rebuilds a frozen State per event (STYLE.md "Shape": `reduce(evolve, events, State())`): same facts, same
positions, same seen and superseded sets, whatever the duplicates, corrections and starting state."""

from __future__ import annotations

from functools import reduce
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scoring_events import ATASAN, VALUES, Stream, iki, rhk

from contracts.envelope import Envelope
from contracts.registry import parse_payload
from services.scoring.domain.state import FACT_SLOTS, Fact, State, _slot, evolve, fold

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference_evolve(state: State, envelope: Envelope) -> State:
    """The fold step as first written: copy the seen set and the slot tuples for every event."""
    event_id = str(envelope.event_id)
    if event_id in state.seen:
        return state
    payload = parse_payload(envelope)
    slot = _slot(payload)
    changes: dict[str, Any] = {"seen": state.seen | {event_id}, "applied": state.applied + 1}
    superseded = state.superseded
    if envelope.supersedes is not None:
        retired = str(envelope.supersedes)
        superseded = superseded | {retired}
        changes["superseded"] = superseded
        for name in FACT_SLOTS:
            facts = getattr(state, name)
            if any(f.event_id == retired for f in facts):
                changes[name] = tuple(f for f in facts if f.event_id != retired)
    if slot is not None and event_id not in superseded:
        fact = Fact(event_id, state.applied + 1, envelope.subject, envelope.period, envelope.occurred_at, payload)
        changes[slot] = (*changes.get(slot, getattr(state, slot)), fact)
    return State(**{**{n: getattr(state, n) for n in State.__dataclass_fields__}, **changes})


@st.composite
def tangled_stream(draw: st.DrawFn) -> list[Envelope]:
    """Realisations and ratings with corrections of corrections, corrections of events that arrive later,
    and redelivered events anywhere."""
    s = Stream("198001012006041001", "2025")
    s.assigned()
    s.plan(rhk("r1", iki("a", "100"), iki("b", "80")))
    made: list[Envelope] = []
    for _ in range(draw(st.integers(0, 25))):
        action = draw(st.sampled_from(["realise", "rate", "correct", "redeliver", "close"]))
        if action == "realise" or (action in ("correct", "redeliver") and not made):
            made.append(s.realised(draw(st.sampled_from(["a", "b"])), str(draw(st.integers(0, 150)))))
        elif action == "rate":
            made.append(s.rated(ATASAN, "atasan", draw(st.sampled_from(VALUES)), draw(st.integers(1, 3))))
        elif action == "correct":
            target = draw(st.sampled_from(made))
            if target.type == "realisation.recorded":
                made.append(s.realised(target.payload["iki_id"], "77", supersedes=target))
            else:
                made.append(s.rated(ATASAN, "atasan", target.payload["value"], 2, supersedes=target))
        elif action == "redeliver":
            s.events.append(draw(st.sampled_from(made)))
        else:
            s.closed()
    events = list(s.events)
    if len(events) > 3 and draw(st.booleans()):  # a correction delivered before the event it retires
        i = draw(st.integers(2, len(events) - 1))
        events.insert(draw(st.integers(2, i)), events.pop(i))
    return events


@FAST
@given(events=tangled_stream())
def test_the_linear_fold_equals_the_per_event_reference_fold(events: list[Envelope]) -> None:
    assert fold(events) == reduce(reference_evolve, events, State())


@FAST
@given(events=tangled_stream(), data=st.data())
def test_folding_onto_a_folded_state_equals_the_reference_from_scratch(
    events: list[Envelope], data: st.DataObject
) -> None:
    k = data.draw(st.integers(0, len(events)))
    assert fold(events[k:], fold(events[:k])) == reduce(reference_evolve, events, State())


@FAST
@given(events=tangled_stream())
def test_evolve_one_event_at_a_time_equals_the_fold(events: list[Envelope]) -> None:
    assert reduce(evolve, events, State()) == fold(events)


def test_a_fold_of_nothing_new_returns_the_starting_state_itself() -> None:
    s = Stream("198001012006041001", "2025")
    s.assigned()
    s.plan(rhk("r1", iki("a", "100")))
    state = fold(s.events)
    assert fold(s.events, state) is state
    assert fold((), state) is state
