"""Properties of the fold (STYLE.md): same events, same result; a duplicate changes nothing; a prefix then the
rest equals the whole; arrival order across employees does not matter."""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scoring_events import ATASAN, BAWAHAN, REKAN_1, REKAN_2, VALUES, Stream, iki, rhk

from contracts.envelope import Envelope
from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.domain import Policy, appraise, fold, project, score_stream

POLICIES: Mapping[str, Policy] = load_default_policies()
RATERS = [(ATASAN, "atasan"), (REKAN_1, "rekan"), (REKAN_2, "rekan"), (BAWAHAN, "bawahan")]
LABELS = ["Di Atas Ekspektasi", "Sesuai Ekspektasi", "Di Bawah Ekspektasi", None]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def employee_stream(draw: st.DrawFn, nip: str | None = None) -> list[Envelope]:
    """A plausible stream: an assignment, a plan, realisations (some corrected), ratings, maybe a closure."""
    number = nip or f"19800101200604{draw(st.integers(0, 9999)):04d}"
    s = Stream(number, draw(st.sampled_from(["2019", "2021-S2", "2025", "2025-Q2"])))
    s.assigned(unit_id=draw(st.sampled_from(["dinkes", "disdik"])))
    s.plan(
        rhk("r1", iki("a", "100"), iki("b", "80", "90")), rhk("r2", iki("c", "7", "8", "lower"), weight="2")
    )
    for _ in range(draw(st.integers(0, 5))):
        value = str(draw(st.decimals("0", "200", places=2)))
        event = s.realised(draw(st.sampled_from(["a", "b", "c"])), value)
        if draw(st.booleans()):
            s.realised(
                event.payload["iki_id"], str(draw(st.decimals("0", "200", places=2))), supersedes=event
            )
    for _ in range(draw(st.integers(0, 8))):
        rater, relation = draw(st.sampled_from(RATERS))
        s.rated(rater, relation, draw(st.sampled_from(VALUES)), draw(st.integers(1, 3)))
    if draw(st.booleans()):
        hasil, perilaku = draw(st.sampled_from(LABELS)), draw(st.sampled_from(LABELS))
        if hasil or perilaku:
            s.pejabat(hasil, perilaku, draw(st.sampled_from([None, "Dokumen pendukung terlampir"])))
    if draw(st.booleans()):
        s.closed()
    return s.events


@FAST
@given(events=employee_stream(), data=st.data())
def test_a_duplicate_event_changes_nothing(events: list[Envelope], data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(events) - 1))
    j = data.draw(st.integers(i + 1, len(events)))
    with_duplicate = [*events[:j], events[i], *events[j:]]
    assert appraise(with_duplicate, POLICIES) == appraise(events, POLICIES)


@FAST
@given(events=employee_stream(), data=st.data())
def test_scoring_a_prefix_then_the_rest_equals_scoring_the_whole(
    events: list[Envelope], data: st.DataObject
) -> None:
    k = data.draw(st.integers(0, len(events)))
    resumed = fold(events[k:], fold(events[:k]))
    assert resumed == fold(events)
    assert project(resumed, POLICIES) == appraise(events, POLICIES)


@FAST
@given(events=employee_stream())
def test_the_same_events_give_the_same_json(events: list[Envelope]) -> None:
    assert appraise(events, POLICIES).to_json() == appraise(list(events), POLICIES).to_json()


def _interleave(streams: list[list[Envelope]], picks: list[int]) -> list[Envelope]:
    queues = [list(s) for s in streams]
    out: list[Envelope] = []
    for pick in picks:
        live = [q for q in queues if q]
        if not live:
            break
        out.append(live[pick % len(live)].pop(0))
    return out + [e for q in queues for e in q]


def _without_sequence(events: list[Envelope]) -> list[Envelope]:
    return [e.model_copy(update={"sequence": None}) for e in events]


@FAST
@given(
    a=employee_stream("198001012006041001"),
    b=employee_stream("198502022010012002"),
    c=employee_stream("199003032015031003"),
    picks=st.lists(st.integers(0, 2), max_size=80),
)
def test_output_does_not_depend_on_arrival_order_across_employees(
    a: list[Envelope], b: list[Envelope], c: list[Envelope], picks: list[int]
) -> None:
    streams = [_without_sequence(s) for s in (a, b, c)]
    one = score_stream([e for s in streams for e in s], POLICIES).to_json()
    other = score_stream(_interleave(streams[::-1], picks), POLICIES).to_json()
    assert one == other


@FAST
@given(events=employee_stream(), data=st.data())
def test_events_with_sequences_are_appraised_in_sequence_order(
    events: list[Envelope], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(events))
    assert appraise(shuffled, POLICIES) == appraise(events, POLICIES)
