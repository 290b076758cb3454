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


#: How often `batch_collection` lets the collector look at everything again (cycles among frozen objects).
FULL_COLLECTION_SECONDS = 600.0
_full = [time.monotonic()]


@contextlib.contextmanager
def batch_collection() -> Iterator[None]:
    """Around each batch: no collection while it is handled; after it, what it allocated and still holds (a
    cache's new entries) is looked at once for cycles, then frozen with the rest, so no later collection walks
    it again. A batch's garbage is freed by reference counting as it goes; only its garbage cycles wait for
    its end. Without this, a service whose caches hold millions of objects (scoring: parsed events and their
    folds) walked them over and over: 18.6 of scoring's 86.9 busy seconds at 200k events were the
    collector's (measured with `gc_ms`).

    Freezing is a list splice; `gc.collect(1)` walks only what is young, i.e. what the batch allocated and kept.
    Frozen objects are still freed by reference counting when a cache lets go of them; only garbage cycles among
    frozen objects would wait, for the full collection every `FULL_COLLECTION_SECONDS`."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.collect(1)
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
