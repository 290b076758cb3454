"""chassis.collector: the collector paused during a batch, what the batch kept frozen after it, and cycles still
found by the periodic full collection."""

from __future__ import annotations

import gc
import weakref

import pytest

from chassis import collector


class Node:
    """A container that can be part of a reference cycle and be watched with a weak reference."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def _restore_the_collector() -> object:
    enabled, thresholds, callbacks = gc.isenabled(), gc.get_threshold(), list(gc.callbacks)
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    gc.callbacks[:] = callbacks
    (gc.enable if enabled else gc.disable)()


def test_no_collection_runs_during_a_batch_and_the_collector_is_back_after_it() -> None:
    with collector.batch_collection():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_what_a_batch_keeps_is_frozen_and_never_walked_again() -> None:
    gc.unfreeze()
    kept: list[Node] = []
    with collector.batch_collection():
        kept.extend(Node() for _ in range(1000))
    assert gc.get_freeze_count() >= 1000
    assert all(not gc.is_finalized(n) for n in kept)


def test_the_collector_comes_back_even_when_the_batch_fails() -> None:
    with pytest.raises(RuntimeError), collector.batch_collection():
        raise RuntimeError("the batch failed")
    assert gc.isenabled()


def test_a_cycle_a_batch_left_is_found_by_the_periodic_full_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    def a_cycle() -> weakref.ref[Node]:
        a, b = Node(), Node()
        a.other, b.other = b, a
        return weakref.ref(a)

    with collector.batch_collection():
        cycle = a_cycle()
    assert cycle() is not None  # frozen with the rest: no collection has looked at it
    monkeypatch.setattr(collector, "FULL_COLLECTION_SECONDS", 0.0)
    with collector.batch_collection():
        pass
    assert cycle() is None


def test_gc_seconds_counts_the_collections_after_settling() -> None:
    collector.settle_collector()
    before = collector.gc_seconds()
    gc.collect()
    assert collector.gc_seconds() > before
