"""Keeping CPython's cyclic garbage collector off the services' hot paths."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator
from typing import Any

#: Tracked allocations (net of frees) between two young-generation collections; CPython's default is 700.
GC_YOUNG_THRESHOLD = 50_000


def settle_collector() -> None:
    """Call once a service has started: what exists then (modules, settings, the gate's state) lives as long as
    the process, so it is frozen out of the collector's reach; and a batch of thousands of records keeps ~100k
    objects alive while it is handled, which under the default thresholds were walked again and again
    (measured in the evidence service: ~65 µs of CPU per submission, a quarter of its CPU). Nearly all of that
    garbage is freed by reference counting; the cycles that remain (tracebacks, futures) wait for the next
    collection, after 50k allocations instead of 700."""
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 10)
    if _track not in gc.callbacks:
        gc.callbacks.append(_track)


#: How often `batch_collection` lets the collector look at everything (for cycles among frozen objects).
FULL_COLLECTION_SECONDS = 3600.0
_full = [time.monotonic()]


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for work that makes many objects and almost no cycles (a batch, a
    rebuild, a verification): each collection would walk every object the work still holds, a quarter to a
    third of its CPU; what few cycles there are are collected after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def batch_collection() -> Iterator[None]:
    """Around each batch: no collection while it is handled, and what it allocated and still holds (a cache's
    new entries) frozen after it with the rest, so no collection walks it again. A service whose caches hold
    millions of objects (scoring: parsed events and their folds) otherwise walked them over and over: 18.6 of
    scoring's 86.9 busy seconds at 200k events were the collector's (measured with `gc_ms`, in every batch's
    log line).

    What a batch leaves is garbage-free as far as we measured: a young collection after each of 442 batches of
    the three handlers (bench.stages, 100k events) found 0 unreachable objects, so freezing without looking
    first (a list splice) loses nothing; looking first cost scoring ≈ 1 s per batch of 10,000 at 1M events.
    A batch's garbage is freed by reference counting as it goes; cycles, should a batch ever make some, are
    found by the full collection every `FULL_COLLECTION_SECONDS`, which unfreezes everything first."""
    try:
        with paused_gc():
            yield
    finally:
        if time.monotonic() - _full[0] > FULL_COLLECTION_SECONDS:
            gc.unfreeze()
            gc.collect()
            _full[0] = time.monotonic()
        gc.freeze()


_spent = [0.0, 0.0, 0.0]  # seconds collecting, by generation
_began = [0.0]


def _track(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _began[0] = time.perf_counter()
    else:
        _spent[info["generation"]] += time.perf_counter() - _began[0]


def gc_seconds() -> float:
    """Seconds the collector has spent since `settle_collector` (what each batch's log line reports as
    `gc_ms`: the part of its time that was no work of ours)."""
    return sum(_spent)


def gc_seconds_by_generation() -> dict[str, float]:
    """`gc_seconds` by generation ("0", "1", "2"), for the metrics."""
    return {str(generation): spent for generation, spent in enumerate(_spent)}
