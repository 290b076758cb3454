"""The projector's stream cache: bounded, least recently used first out, and ordered as the table is read."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from contracts.envelope import Envelope
from services.scoring.adapters.stream_cache import StreamCache, stream_order
from services.scoring.adapters.stream_reads import _merged


def _event(n: int, sequence: int | None = None) -> Envelope:
    return Envelope(event_id=UUID(int=n), type="realisation.recorded", occurred_at=datetime(2025, 7, 1, tzinfo=UTC),
                    source="s", subject="198001012005011001", period="2025-Q3", payload={}, sequence=sequence)


def test_the_cache_never_holds_more_events_than_its_bound_and_drops_the_least_recently_used() -> None:
    cache = StreamCache(max_events=5)
    cache.put("a", [_event(1), _event(2)])
    cache.put("b", [_event(3), _event(4)])
    assert cache.get("a") is not None  # "a" is now the most recently used
    cache.put("c", [_event(5), _event(6)])
    assert cache.events <= 5
    assert cache.get("b") is None
    assert [e.event_id.int for e in cache.get("a") or ()] == [1, 2]
    assert [e.event_id.int for e in cache.get("c") or ()] == [5, 6]


def test_replacing_a_stream_counts_only_the_new_one() -> None:
    cache = StreamCache(max_events=3)
    cache.put("a", [_event(1), _event(2)])
    cache.put("a", [_event(1), _event(2), _event(3)])
    assert cache.events == 3


def test_a_stream_longer_than_the_bound_is_not_kept() -> None:
    cache = StreamCache(max_events=2)
    cache.put("a", [_event(1), _event(2), _event(3)])
    assert (cache.get("a"), cache.events) == (None, 0)


def test_streams_are_ordered_by_sequence_then_event_id_as_postgresql_orders_uuids() -> None:
    events = [_event(2, 7), _event(1, 7), _event(9, 3), _event(4)]
    ordered = sorted(events, key=stream_order)
    assert [(e.sequence, e.event_id.int) for e in ordered] == [(None, 4), (3, 9), (7, 1), (7, 2)]
    high, low = UUID("ff000000-0000-0000-0000-000000000000"), UUID("0f000000-0000-0000-0000-000000000001")
    assert stream_order(_event(high.int, 1)) > stream_order(_event(low.int, 1))


@given(keys=st.lists(st.tuples(st.integers(0, 5), st.integers(1, 50)), unique_by=lambda k: k[1], max_size=12),
       cut=st.integers(0, 12))
def test_a_cached_stream_with_added_events_is_in_stream_order(keys: list[tuple[int, int]], cut: int) -> None:
    events = [_event(n, sequence or None) for sequence, n in keys]
    cached = sorted(events[:cut], key=stream_order)
    assert _merged(cached, events[cut:]) == sorted(events, key=stream_order)
