"""Running the auditor's long computations at the CPU's pace."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk job that makes many objects and almost no cycles (a
    rebuild, a verification): each collection would walk every object the job still holds, a quarter to a
    third of its CPU; what few cycles there are are collected when it ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
