"""What appraising each employee left (`services.scoring.domain.incremental.Kept`) and the appraisals announced
from it, kept between batches so that a batch redoes only what its new events change: routing, folding,
projecting and writing the score event of one employee's one stream, not of the whole history again.

What is kept is checked before use, not trusted. The projector extends a kept fold with the new events alone
(`appraise_extension`, the history not read) only when it was made of the whole stored history (its count of
the employee's events plus the new ones is the store's count), with the very context list served now, and
the new events are facts of its streams numbered after it; otherwise it reads the history and
`appraise_employee_folded` reuses a kept fold or appraisal only where the events read now provably give the
same. An entry is kept only once its batch committed. So a stale entry (another instance's events meanwhile,
a context event routed into the middle of a stream) costs a full appraisal, never a wrong score. Bounded by a
number of folded events, least recently used employee first out, so memory stays flat however long the log
grows.

When the employees one batch touches hold more events than the bound (a city's backlog: every employee in
every batch), plain LRU would keep none of them for the next batch: each batch visits employees in NIP order,
and each newcomer evicts an employee the same order is about to revisit (measured at 200k events, 5,128
employees: no fold was ever reused). So an employee used in the current batch is never evicted for a
newcomer; the newcomer is not kept instead. Then the employees kept stay kept, batch after batch: the part of
the working set that fits is reused, and whoever stops being touched leaves at the next batch.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Generic, TypeVar

from services.scoring.domain.incremental import Kept, Key

#: Folded events kept in all (`OBJEKTIF_SCORING_FOLDED_CACHE_EVENTS`). Each costs its fact in a State (its typed
#: payload: measured with tracemalloc over the bench's streams, ≈ 1.6 kB an event) and its id in what was
#: announced, and saves reading, parsing and routing the history at every re-appraisal
#: (`incremental.appraise_extension`): so the bound is set for a large city's quarter to fit (bench/ at 1M:
#: 25,641 employees, 1.07M events), ≈ 2 GB at the bound.
DEFAULT_FOLDED_EVENTS = 1_200_000

A = TypeVar("A")


class FoldCache(Generic[A]):
    """NIP → (its `Kept`, what was announced per stream), at most `max_events` folded events in all (LRU by
    employee)."""

    def __init__(self, max_events: int = DEFAULT_FOLDED_EVENTS) -> None:
        self._max = max_events
        self._employees: OrderedDict[str, tuple[Kept, Mapping[Key, A], int]] = OrderedDict()
        self._events = 0
        self._batch = 0
        self._used_in: dict[str, int] = {}  # NIP → the batch that last used it

    def begin_batch(self) -> None:
        """A new batch starts: what the last one used may now give way to newcomers."""
        self._batch += 1

    def get(self, nip: str) -> tuple[Kept | None, Mapping[Key, A]]:
        """What was kept for `nip` (None and nothing when nothing), marking it recently used."""
        kept = self._employees.get(nip)
        if kept is None:
            return None, {}
        self._employees.move_to_end(nip)
        self._used_in[nip] = self._batch
        return kept[0], kept[1]

    def put(self, nip: str, kept: Kept, announced: Mapping[Key, A]) -> None:
        """Keep `nip`'s appraisal as just done (replacing what was kept), evicting beyond the bound."""
        old = self._employees.pop(nip, None)
        self._events -= old[2] if old is not None else 0
        self._used_in.pop(nip, None)
        size = kept.size
        if size > self._max:
            return
        self._employees[nip] = (kept, announced, size)
        self._used_in[nip] = self._batch
        self._events += size
        while self._events > self._max:
            oldest = next(iter(self._employees))
            if oldest != nip and self._used_in.get(oldest) == self._batch:
                # everyone kept was used in this batch (LRU order): keep them, do not keep the newcomer
                oldest = nip
            _kept, _announced, evicted_size = self._employees.pop(oldest)
            self._used_in.pop(oldest, None)
            self._events -= evicted_size

    @property
    def events(self) -> int:
        """How many folded events are kept."""
        return self._events
