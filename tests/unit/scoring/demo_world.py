"""The demo's accepted events, for scoring tests that check a property over every employee of Candisari."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from contracts.envelope import Envelope
from objektif import candisari
from services.scoring.domain.stream import is_context


@functools.cache
def demo_events() -> list[Envelope]:
    """The demo's submissions as the evidence service accepts them (numbered in order)."""
    return [Envelope.model_validate({**body, "sequence": n})
            for n, (_source, body) in enumerate(candisari.build().submissions, 1)]


def demo_employees() -> Iterator[tuple[str, list[Envelope], list[Envelope]]]:
    """Each demo employee's NIP, own events and the unit-level context events (the same list for all)."""
    events = demo_events()
    context = [e for e in events if is_context(e)]
    for nip in sorted({p.nip for p in candisari.build().people}):
        yield nip, [e for e in events if e.subject == nip], context
