"""Folding only what is new (`services.scoring.domain.incremental`, `services.scoring.app.fold_cache`): the
appraisals equal `appraise_employee`'s from scratch whatever was folded before, including context events
(policies, a leader's position and unit predicate) and assignments routed into the middle of a stream."""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scoring_events import ATASAN, NIP_A, UNIT, VALUES, Stream, iki, rhk

from contracts.envelope import Envelope
from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.app.fold_cache import FoldCache
from services.scoring.domain import Policy
from services.scoring.domain.incremental import (
    Folded,
    Kept,
    appraise_employee_folded,
    appraise_extension,
    folded_onto,
)
from services.scoring.domain.state import State, fold
from services.scoring.domain.stream import appraise_employee, is_own_fact

POLICIES: Mapping[str, Policy] = load_default_policies()
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _log(draw: st.DrawFn) -> list[Envelope]:
    """One employee's events in two periods and the unit's context, in a drawn global order, numbered."""
    pieces: list[Envelope] = []
    for period in ("2025-Q1", "2025"):
        s = Stream(NIP_A, period)
        s.assigned(position_id="kepala")
        s.plan(rhk("r1", iki("a", "100"), iki("b", "80")))
        for _ in range(draw(st.integers(0, 4))):
            made = s.realised(draw(st.sampled_from(["a", "b"])), str(draw(st.integers(50, 130))))
            if draw(st.booleans()):
                s.realised(made.payload["iki_id"], "99", supersedes=made)
        for value in draw(st.lists(st.sampled_from(VALUES), max_size=4)):
            s.rated(ATASAN, "atasan", value, draw(st.integers(1, 3)))
        if draw(st.booleans()):
            s.closed()
        pieces += s.events
    u = Stream(UNIT, "2025")
    u.env("org.position.registered", {"position_id": "kepala", "unit_id": UNIT, "title": "Kepala Dinas",
                                      "jenis": "struktural", "is_unit_leader": True})
    u.env("org.predicate.set", {"unit_id": UNIT, "predicate": "Baik", "set_by_nip": ATASAN})
    pieces += u.events
    if draw(st.booleans()):
        permen = POLICIES["permenpanrb-6-2022"]
        p = Stream("*", "2025")
        p.env("policy.adopted", {"policy_id": permen.id, "policy_version": permen.version,
                                 "content_hash": permen.content_hash})
        pieces += p.events
    order = draw(st.permutations(range(len(pieces))))
    return [pieces[i].model_copy(update={"sequence": n}) for n, i in enumerate(order, 1)]


@st.composite
def employee_log(draw: st.DrawFn) -> list[Envelope]:
    return _log(draw)


def _json(results: tuple) -> list:
    return [(key, [str(e.event_id) for e in stream], a.to_json()) for key, stream, a in results]


@FAST
@given(events=employee_log(), data=st.data())
def test_appraising_after_any_earlier_batch_equals_appraising_from_scratch(
    events: list[Envelope], data: st.DataObject
) -> None:
    earlier = data.draw(st.lists(st.sampled_from(events), unique_by=lambda e: e.event_id))
    _, kept = appraise_employee_folded(earlier, NIP_A, POLICIES, None)
    results, _ = appraise_employee_folded(events, NIP_A, POLICIES, kept)
    assert _json(results) == _json(appraise_employee(events, NIP_A, POLICIES))


@FAST
@given(events=employee_log(), data=st.data())
def test_appraising_batch_after_batch_equals_appraising_from_scratch(
    events: list[Envelope], data: st.DataObject
) -> None:
    _assert_batches_equal_from_scratch(sorted(events, key=lambda e: e.sequence or 0), data)


def _assert_batches_equal_from_scratch(ordered: list[Envelope], data: st.DataObject) -> None:
    """Appraising `ordered` in batches cut where drawn, each onto what the last one kept, gives what appraising
    it at once gives."""
    cuts = sorted(data.draw(st.lists(st.integers(0, len(ordered)), max_size=4)))
    kept: Kept | None = None
    for cut in cuts:
        _, kept = appraise_employee_folded(ordered[:cut], NIP_A, POLICIES, kept)
    results, _ = appraise_employee_folded(ordered, NIP_A, POLICIES, kept)
    assert _json(results) == _json(appraise_employee(ordered, NIP_A, POLICIES))


def _stream(n: int) -> list[Envelope]:
    s = Stream(NIP_A, "2025")
    s.assigned()
    s.plan(rhk("r1", iki("a", "100")))
    for i in range(n):
        s.realised("a", str(90 + i))
    return s.events


def test_a_stream_that_only_grew_is_folded_onto_the_kept_state() -> None:
    events = _stream(3)
    kept = Folded(tuple(str(e.event_id) for e in events[:2]), State())  # a State the prefix never gives
    grown = folded_onto(events, kept)
    assert grown.state.applied == 3  # only the tail was folded, onto the kept State
    assert grown.event_ids == tuple(str(e.event_id) for e in events)


def test_a_stream_that_does_not_begin_with_what_was_kept_is_folded_from_scratch() -> None:
    events = _stream(3)
    kept = Folded((str(events[1].event_id),), State())
    assert folded_onto(events, kept).state == fold(events)
    longer = Folded(tuple(str(e.event_id) for e in [*events, *_stream(6)[-1:]]), State())
    assert folded_onto(events, longer).state == fold(events)


def _kept(events: list[Envelope]) -> Kept:
    return appraise_employee_folded(events, NIP_A, POLICIES, None)[1]


def test_the_fold_cache_keeps_at_most_its_bound_least_recently_used_out() -> None:
    cache: FoldCache[str] = FoldCache(max_events=10)
    four = _kept(_stream(2))  # an assignment, a plan and two realisations: four folded events
    cache.put("1", four, {})
    cache.put("2", four, {})
    cache.begin_batch()
    assert cache.get("1") == (four, {})  # "1" is now the most recently used
    cache.put("3", four, {})
    assert (cache.get("2"), cache.get("1"), cache.events) == ((None, {}), (four, {}), 8)
    cache.put("4", _kept(_stream(9)), {})  # larger than the bound
    assert (cache.get("4"), cache.events) == ((None, {}), 8)


def test_a_working_set_larger_than_the_bound_keeps_what_fits_batch_after_batch() -> None:
    """Each batch visits the same employees in NIP order and they do not all fit: plain LRU would evict each
    one just before the next batch needs it; the cache keeps the first ones instead, and reuses them."""
    cache: FoldCache[str] = FoldCache(max_events=10)
    four = _kept(_stream(2))
    reused = []
    for _batch in range(3):
        cache.begin_batch()
        hits = 0
        for nip in ("1", "2", "3", "4"):
            hits += cache.get(nip)[0] is not None
            cache.put(nip, four, {})
        reused.append(hits)
    assert reused == [0, 2, 2]
    cache.begin_batch()  # "1" and "2" stop being touched: newcomers take their place
    cache.put("5", four, {})
    cache.put("6", four, {})
    assert [cache.get(n)[0] is not None for n in ("1", "2", "5", "6")] == [False, False, True, True]


@FAST
@given(events=employee_log(), data=st.data())
def test_batch_after_batch_without_sequence_numbers_equals_appraising_from_scratch(
    events: list[Envelope], data: st.DataObject
) -> None:
    ordered = [e.model_copy(update={"sequence": None}) for e in sorted(events, key=lambda e: e.sequence or 0)]
    _assert_batches_equal_from_scratch(ordered, data)


def test_a_new_fact_of_one_period_leaves_the_other_periods_appraisals_as_they_were() -> None:
    quarter, year = Stream(NIP_A, "2025-Q1"), Stream(NIP_A, "2025")
    for s in (quarter, year):
        s.assigned()
        s.plan(rhk("r1", iki("a", "100")))
        s.realised("a", "90")
    events = [e.model_copy(update={"sequence": n}) for n, e in enumerate([*quarter.events, *year.events], 1)]
    before, kept = appraise_employee_folded(events, NIP_A, POLICIES, None)
    more = quarter.realised("a", "95").model_copy(update={"sequence": len(events) + 1})
    after, _ = appraise_employee_folded([*events, more], NIP_A, POLICIES, kept)
    assert [key for key, _, _ in after] == [(NIP_A, "2025"), (NIP_A, "2025-Q1")]
    assert after[0][2] is before[0][2]  # the year's stream did not change: its appraisal is the one kept
    assert after[1][1] == (*before[1][1], more)
    assert _json(after) == _json(appraise_employee([*events, more], NIP_A, POLICIES))


def test_an_event_numbered_before_what_was_kept_is_routed_in_its_place() -> None:
    events = [e.model_copy(update={"sequence": n}) for n, e in enumerate(_stream(4), 1)]
    late = events.pop(3)  # the third realisation arrives after the fourth
    _, kept = appraise_employee_folded(events, NIP_A, POLICIES, None)
    results, _ = appraise_employee_folded([*events, late], NIP_A, POLICIES, kept)
    assert _json(results) == _json(appraise_employee([*events, late], NIP_A, POLICIES))
    assert [e.sequence for e in results[0][1]] == [1, 2, 3, 4, 5, 6]


def _context_first(events: list[Envelope]) -> list[Envelope]:
    """`events` with everything not the employee's own first, then the employee's, numbered again in that
    order: what a history looks like to a batch whose new events are the employee's alone."""
    ordered = sorted(events, key=lambda e: (e.subject == NIP_A, e.sequence or 0))
    return [e.model_copy(update={"sequence": n}) for n, e in enumerate(ordered, 1)]


def _appraisals(results: tuple) -> list:
    return [(key, a.to_json()) for key, _events, a in results]


@FAST
@given(events=employee_log(), data=st.data())
def test_extending_what_was_kept_with_new_events_alone_equals_appraising_from_scratch(
    events: list[Envelope], data: st.DataObject
) -> None:
    """Event after event (or in drawn runs), onto what the last call kept, without the history: the same
    appraisals as from scratch, each stream announcing exactly the events it gained; and None exactly when a
    new event is not a fact of an existing stream (an assignment, a new period), where routing again is due."""
    ordered = _context_first(events)
    first = next(n for n, e in enumerate(ordered) if e.subject == NIP_A)
    cut = data.draw(st.integers(first, len(ordered)))
    _, kept = appraise_employee_folded(ordered[:cut], NIP_A, POLICIES, None)
    done = cut
    while done < len(ordered):
        run = ordered[done:done + data.draw(st.integers(1, 3))]
        extension = appraise_extension(kept, run, POLICIES)
        event("extended" if extension is not None else "routed again")
        _scratch, fresh = appraise_employee_folded(ordered[:done + len(run)], NIP_A, POLICIES, None)
        if extension is None:
            assert any(not is_own_fact(e) or (e.subject, e.period) not in kept.folded for e in run)
            kept = fresh
        else:
            results, kept = extension
            assert _appraisals(results) == _appraisals(appraise_employee(ordered[:done + len(run)], NIP_A, POLICIES))
            assert {key: [e.event_id for e in gained] for key, gained, _ in results if gained} == {
                key: [e.event_id for e in run if (e.subject, e.period) == key] for key in {(e.subject, e.period)
                                                                                       for e in run}}
            assert (kept.own, kept.last) == (fresh.own, fresh.last)
            assert {k: f.event_ids for k, f in kept.folded.items()} == {k: f.event_ids for k, f in fresh.folded.items()}
        done += len(run)


def test_an_extension_needs_numbered_events_after_everything_kept() -> None:
    events = [e.model_copy(update={"sequence": n}) for n, e in enumerate(_stream(4), 1)]
    _, kept = appraise_employee_folded(events[:-1], NIP_A, POLICIES, None)
    assert appraise_extension(kept, [events[-1]], POLICIES) is not None
    assert appraise_extension(kept, [events[-1].model_copy(update={"sequence": 2})], POLICIES) is None
    assert appraise_extension(kept, [events[-1].model_copy(update={"sequence": None})], POLICIES) is None
    unnumbered = [e.model_copy(update={"sequence": None}) for e in events]
    _, kept = appraise_employee_folded(unnumbered[:-1], NIP_A, POLICIES, None)
    assert kept.last is None and appraise_extension(kept, [events[-1]], POLICIES) is None
