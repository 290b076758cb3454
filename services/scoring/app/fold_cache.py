"""Each employee's folded streams, kept between batches so that a batch folds only an employee's new events
(`services.scoring.domain.incremental`), not the whole history again.

What is kept is checked before use, not trusted: a kept State is only folded onto when the stream read now, in
fold order, begins with exactly the events it was folded from; otherwise the stream is folded from scratch. So
a stale entry (a transaction that rolled back, another instance's events meanwhile, a context event routed
into the middle of a stream) costs a full fold, never a wrong score. Bounded by a number of folded events,
least recently used employee first out, so memory stays flat however long the log grows.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

from services.scoring.domain.incremental import Folded, Key

#: Folded events kept in all: each holds its parsed payload (as the stream cache holds its envelope).
DEFAULT_FOLDED_EVENTS = 50_000


class FoldCache:
    """NIP → its streams' `Folded`, at most `max_events` folded events in all (LRU by employee)."""

    def __init__(self, max_events: int = DEFAULT_FOLDED_EVENTS) -> None:
        self._max = max_events
        self._employees: OrderedDict[str, tuple[dict[Key, Folded], int]] = OrderedDict()
        self._events = 0

    def get(self, nip: str) -> Mapping[Key, Folded]:
        """What was kept for `nip` (empty when nothing), marking it recently used."""
        kept = self._employees.get(nip)
        if kept is None:
            return {}
        self._employees.move_to_end(nip)
        return kept[0]

    def put(self, nip: str, folded: Mapping[Key, Folded]) -> None:
        """Keep `nip`'s streams as just folded (replacing what was kept), evicting beyond the bound."""
        old = self._employees.pop(nip, None)
        self._events -= old[1] if old is not None else 0
        size = sum(len(f.event_ids) for f in folded.values())
        if size > self._max:
            return
        self._employees[nip] = (dict(folded), size)
        self._events += size
        while self._events > self._max:
            _, (_evicted, evicted_size) = self._employees.popitem(last=False)
            self._events -= evicted_size

    @property
    def events(self) -> int:
        """How many folded events are kept."""
        return self._events
