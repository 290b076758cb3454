"""Singly signed submissions' Ed25519 checks, made in threads while a batch's reads wait on the database
(issue 17; docs/performance.md, "2026-12-08 (morning)"). Off by default (`DEFAULT_THREADS`).

`cryptography` releases the GIL while it verifies, so the checks of one batch run beside the event loop and
beside each other: a batch of singly signed submissions takes less wall time wherever a core is free. The
verdicts only answer "did this key sign these bytes"; the gate still decides, in order, which of the source's
keys may be used (active, retired, revoked) and takes any key registered earlier in the same batch itself
(`services.evidence.domain.authenticate`). So the decisions are the gate's, made ahead or not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.evidence.domain.authenticate import SingleCheck, single_checks, verify_checks
from services.evidence.domain.parse import Parsed, Unparsed
from services.evidence.domain.state import IntakeState

#: Fewer checks than this per thread are not worth a thread's hand-over (≈ 100–300 µs of CPU measured against
#: ≈ 70–130 µs a check).
CHECKS_PER_THREAD = 4
#: Off unless configured. On this project's 2-CPU VM, where broker, database and services share the cores, one
#: thread made a batch of singly signed submissions 8–11% faster alone but cost 7–14% more CPU, and at 1,000/s
#: offered (the pipeline near its cores) p99 went from 489 ms to 3,458 ms at 200k events (docs/performance.md,
#: "2026-12-08 (morning)"). Give the evidence service threads where it has cores of its own.
DEFAULT_THREADS = 0

Verdicts = dict[SingleCheck, bool]


@dataclass(frozen=True, slots=True)
class Started:
    """Checks begun by `VerifyAhead.start`: the share left for the calling thread, and the threads' shares."""

    here: list[tuple[SingleCheck, Ed25519PublicKey]]
    others: asyncio.Future[list[Verdicts]]

    def cancel(self) -> None:
        """Drop the threads' answers (the batch failed before it needed them), and take the cancellation the
        gathering ends with, so that it is not reported as an error nobody retrieved."""
        self.others.cancel()
        self.others.add_done_callback(_taken)


def _taken(future: asyncio.Future[list[Verdicts]]) -> None:
    if not future.cancelled():
        future.exception()


class VerifyAhead:
    """A small thread pool for the gate's single-signature checks. ``threads=0`` checks nothing ahead (the gate
    then verifies each signature itself, on the event loop's thread)."""

    def __init__(self, threads: int) -> None:
        if threads < 0:
            raise ValueError(f"threads must be 0 or more, not {threads}")
        self._threads = threads
        #: checks made ahead so far
        self.checked = 0
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="objektif-ed25519") if threads else None

    def start(self, parsed: Iterable[Parsed | Unparsed], state: IntakeState) -> Started | None:
        """Begin the checks of ``parsed`` against the keys in ``state``; None when there is nothing to check.
        The threads take all but one share; `verdicts` makes that one on the calling thread, then collects the
        others (one hand-over fewer, and the event loop's thread works too). Cancel it if the batch fails before."""
        if self._pool is None:
            return None
        checks = list(single_checks(parsed, state).items())
        if not checks:
            return None
        self.checked += len(checks)
        shares = max(1, min(self._threads + 1, len(checks) // CHECKS_PER_THREAD))
        loop = asyncio.get_running_loop()
        others = asyncio.gather(*(loop.run_in_executor(self._pool, verify_checks, checks[i::shares])
                                  for i in range(1, shares)))
        return Started(checks[::shares], others)

    @staticmethod
    async def verdicts(started: Started | None) -> Verdicts:
        """What `start` began, as one mapping (empty for None)."""
        if started is None:
            return {}
        merged = verify_checks(started.here)
        for part in await started.others:
            merged.update(part)
        return merged

    def close(self) -> None:
        """Let the threads finish what they hold and stop."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
