"""Issuing checkpoints (signed tree heads), on demand and periodically (issue 9; c2sp.org/tlog-checkpoint).

Before a new checkpoint is signed, the tree it commits to must extend the last one signed: the consistency
proof between them, built from the stored nodes, is checked with `check_successor`. A ledger rewritten behind
the database's triggers therefore cannot obtain a new signature (REGULATION.md §2.1 *akuntabel*; §4).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import structlog

from services.audit.adapters import queries
from services.audit.adapters.queries import StoredCheckpoint
from services.audit.app.errors import AuditError, HistoryRewritten, StoredTreeDamaged
from services.audit.app.stored_tree import stored_consistency_proof, stored_root
from services.audit.domain.checkpoint import Checkpoint, NoteSigner, check_successor
from services.audit.domain.errors import AuditDomainError
from services.audit.domain.note import parse_note

#: The log's origin line (and the signing key's name): who vouches for this tree.
DEFAULT_ORIGIN = "objektif.semarang.go.id/candisari"


@dataclass(frozen=True, slots=True)
class Issued:
    """The latest checkpoint after an issuing attempt; ``fresh`` when it was signed just now."""

    checkpoint: StoredCheckpoint
    fresh: bool

    def to_json(self) -> dict[str, object]:
        """``{size, root (hex), note, issued_at, fresh}``."""
        c = self.checkpoint
        return {
            "size": c.size,
            "root": c.root.hex(),
            "note": c.note,
            "issued_at": c.issued_at.isoformat(),
            "fresh": self.fresh,
        }


def signer_from_seed(seed_b64: str, origin: str = DEFAULT_ORIGIN) -> NoteSigner:
    """The checkpoint signer from a base64 Ed25519 seed (env `OBJEKTIF_AUDIT_CHECKPOINT_KEY`); key name =
    origin."""
    return NoteSigner.from_private_bytes(base64.b64decode(seed_b64, validate=True), origin)


def checkpoint_of(stored: StoredCheckpoint) -> Checkpoint:
    """The checkpoint a stored note carries; its root must be the one stored beside it."""
    try:
        checkpoint = Checkpoint.from_text(parse_note(stored.note).text)
    except AuditDomainError as exc:
        raise HistoryRewritten(
            f"the stored checkpoint at size {stored.size} is not a checkpoint: {exc}"
        ) from exc
    if checkpoint.size != stored.size or checkpoint.root != stored.root:
        raise HistoryRewritten(
            f"the stored checkpoint at size {stored.size} disagrees with its own signed note"
        )
    return checkpoint


async def issue_checkpoint(conn: asyncpg.Connection, signer: NoteSigner, now: datetime) -> Issued:
    """Sign a checkpoint over the current tree if it grew since the last one; otherwise return the last one.

    The origin is the signer's key name. Raises `HistoryRewritten` if the tree does not extend the previous
    checkpoint (different origin, a shrunk tree, a different root at the same size, or a failed consistency
    proof) and `StoredTreeDamaged` if the stored nodes do not give the head's root."""
    async with conn.transaction():
        await queries.take_checkpoint_lock(conn)
        head = await queries.head(conn)
        stored = await queries.latest_checkpoint(conn)
        if stored is not None and stored.size == head.size and stored.root == head.root:
            return Issued(stored, fresh=False)
        if await stored_root(conn, head.size) != head.root:
            raise StoredTreeDamaged(f"the stored nodes do not give the tree head's root at size {head.size}")
        candidate = Checkpoint(signer.name, head.size, head.root)
        if stored is not None:
            await _check_extends(conn, checkpoint_of(stored), candidate)
        issued = StoredCheckpoint(head.size, head.root, signer.sign(candidate), now)
        await queries.register_checkpoint_key(conn, signer.verifier_key(), signer.name, now)
        await queries.insert_checkpoint(conn, issued)
    return Issued(issued, fresh=True)


async def _check_extends(conn: asyncpg.Connection, previous: Checkpoint, candidate: Checkpoint) -> None:
    if candidate.size < previous.size:
        raise HistoryRewritten(f"the tree shrank from {previous.size} to {candidate.size} leaves")
    if candidate.size == previous.size:
        raise HistoryRewritten(f"the root at size {candidate.size} differs from the signed checkpoint's")
    proof = await stored_consistency_proof(conn, previous.size, candidate.size)
    try:
        check_successor(previous, candidate, proof)
    except AuditDomainError as exc:
        raise HistoryRewritten(
            f"the tree of {candidate.size} leaves does not extend the checkpoint of {previous.size}: {exc}"
        ) from exc


class PeriodicCheckpoints:
    """The audit service's background task: a checkpoint every ``interval`` seconds while the tree grows."""

    def __init__(
        self, signer: NoteSigner, interval: float, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        """Sign with ``signer`` every ``interval`` seconds; ``clock`` stamps `issued_at`."""
        self._signer, self._interval, self._clock = signer, interval, clock
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._log = structlog.get_logger("audit.checkpoints")

    def start(self, pool: asyncpg.Pool) -> None:
        """Start issuing in the background over connections of ``pool``."""
        self._task = asyncio.create_task(self._run(pool))

    async def stop(self) -> None:
        """Issue no more; wait for an issuing in progress to finish."""
        self._stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self, pool: asyncpg.Pool) -> None:
        while not self._stop.is_set():
            try:
                async with pool.acquire() as conn:
                    issued = await issue_checkpoint(conn, self._signer, self._clock())
                if issued.fresh:
                    self._log.info(
                        "checkpoint.issued", size=issued.checkpoint.size, root=issued.checkpoint.root.hex()
                    )
            except AuditError as exc:
                # A refused checkpoint is an alarm for the auditors, not a reason to stop ledgering.
                self._log.error("checkpoint.refused", reason=str(exc))
            # A PostgreSQL restart answers new connections "the database system is shutting down" / "starting up"
            # (CannotConnectNowError), ends open ones "due to administrator command" (AdminShutdownError) or
            # leaves them closed (InterfaceError): none is a PostgresConnectionError, so each ended this task, and
            # no checkpoint was signed again until the service restarted (the fault suite's PostgreSQL restart).
            except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.AdminShutdownError,
                    asyncpg.CannotConnectNowError) as exc:
                self._log.warning("checkpoint.postponed", reason=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval)
