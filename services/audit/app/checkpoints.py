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

from services.audit.adapters import checkpoint_rows, queries
from services.audit.adapters.checkpoint_rows import StoredCheckpoint, StoredPartitions
from services.audit.adapters.queries import Head
from services.audit.app.errors import AuditError, HistoryRewritten, StoredTreeDamaged
from services.audit.app.stored_tree import stored_consistency_proof, stored_root
from services.audit.domain.checkpoint import Checkpoint, NoteSigner, check_successor
from services.audit.domain.errors import AuditDomainError
from services.audit.domain.note import parse_note
from services.audit.domain.partitions import partition_origin, partitions_origin, partitions_root

#: The log's origin line (and the signing key's name): who vouches for this tree.
DEFAULT_ORIGIN = "objektif.semarang.go.id/candisari"


@dataclass(frozen=True, slots=True)
class Issued:
    """The latest checkpoint over every partition after an issuing attempt, with the partitions' checkpoints
    signed with it; ``fresh`` when it was signed just now."""

    partitions: StoredPartitions
    signed: tuple[StoredCheckpoint, ...]
    fresh: bool

    @property
    def size(self) -> int:
        """How many leaves the checkpoint covers, over every partition."""
        return sum(self.partitions.sizes)

    def to_json(self) -> dict[str, object]:
        """``{size (leaves), root (hex), note, issued_at, fresh, partitions: [{part, size, root}], signed:
        [{part, size, root, note}]}``: the checkpoint over every partition, then the partitions' own."""
        c = self.partitions
        return {
            "size": self.size,
            "root": c.root.hex(),
            "note": c.note,
            "issued_at": c.issued_at.isoformat(),
            "fresh": self.fresh,
            "partitions": [{"part": p, "size": s, "root": r.hex()}
                           for p, (s, r) in enumerate(zip(c.sizes, c.roots, strict=True))],
            "signed": [{"part": x.part, "size": x.size, "root": x.root.hex(), "note": x.note} for x in self.signed],
        }


def signer_from_seed(seed_b64: str, origin: str = DEFAULT_ORIGIN) -> NoteSigner:
    """The checkpoint signer from a base64 Ed25519 seed (env `OBJEKTIF_AUDIT_CHECKPOINT_KEY`); key name =
    origin."""
    return NoteSigner.from_private_bytes(base64.b64decode(seed_b64, validate=True), origin)


def checkpoint_of(stored: StoredCheckpoint) -> Checkpoint:
    """The checkpoint a stored note carries; its root must be the one stored beside it."""
    where = f"partition {stored.part}'s stored checkpoint at size {stored.size}"
    try:
        checkpoint = Checkpoint.from_text(parse_note(stored.note).text)
    except AuditDomainError as exc:
        raise HistoryRewritten(f"{where} is not a checkpoint: {exc}") from exc
    if checkpoint.size != stored.size or checkpoint.root != stored.root:
        raise HistoryRewritten(f"{where} disagrees with its own signed note")
    return checkpoint


async def issue_checkpoint(conn: asyncpg.Connection, signer: NoteSigner, now: datetime) -> Issued:
    """Sign a checkpoint over each partition's tree that grew since its last one, and one over every partition
    (ADR 0013); if none grew, return the last one.

    The origins derive from the signer's key name (`partition_origin`, `partitions_origin`). Raises
    `HistoryRewritten` if a partition's tree does not extend its previous checkpoint (a shrunk tree, a different
    root at the same size, or a failed consistency proof) and `StoredTreeDamaged` if the stored nodes do not
    give a head's root."""
    async with conn.transaction():
        await checkpoint_rows.take_checkpoint_lock(conn)
        heads = await queries.heads(conn)
        last = await checkpoint_rows.latest_partitions(conn)
        sizes, roots = tuple(h.size for h in heads), tuple(h.root for h in heads)
        if last is not None and (last.sizes, last.roots) == (sizes, roots):
            return Issued(last, (), fresh=False)
        signed = []
        for head in heads:
            stored = await checkpoint_rows.latest_checkpoint(conn, head.part)
            if head.size == 0 or (stored is not None and (stored.size, stored.root) == (head.size, head.root)):
                continue
            signed.append(await _sign_partition(conn, signer, head, stored, now))
        root = partitions_root(sizes, roots)
        note = signer.sign(Checkpoint(partitions_origin(signer.name), len(heads), root))
        issued = StoredPartitions(0 if last is None else last.n + 1, sizes, roots, root, note, now)
        await checkpoint_rows.register_checkpoint_key(conn, signer.verifier_key(), signer.name, now)
        await checkpoint_rows.insert_partitions(conn, issued)
    return Issued(issued, tuple(signed), fresh=True)


async def _sign_partition(
    conn: asyncpg.Connection, signer: NoteSigner, head: Head, stored: StoredCheckpoint | None, now: datetime
) -> StoredCheckpoint:
    if await stored_root(conn, head.part, head.size) != head.root:
        raise StoredTreeDamaged(
            f"the stored nodes do not give partition {head.part}'s root at size {head.size}")
    candidate = Checkpoint(partition_origin(signer.name, head.part), head.size, head.root)
    if stored is not None:
        await _check_extends(conn, head.part, checkpoint_of(stored), candidate)
    issued = StoredCheckpoint(head.size, head.root, signer.sign(candidate), now, head.part)
    await checkpoint_rows.insert_checkpoint(conn, issued)
    return issued


async def _check_extends(conn: asyncpg.Connection, part: int, previous: Checkpoint, candidate: Checkpoint) -> None:
    where = f"partition {part}'s tree"
    if candidate.size < previous.size:
        raise HistoryRewritten(f"{where} shrank from {previous.size} to {candidate.size} leaves")
    if candidate.size == previous.size:
        raise HistoryRewritten(f"{where}'s root at size {candidate.size} differs from the signed checkpoint's")
    proof = await stored_consistency_proof(conn, part, previous.size, candidate.size)
    try:
        check_successor(previous, candidate, proof)
    except AuditDomainError as exc:
        raise HistoryRewritten(
            f"{where} of {candidate.size} leaves does not extend the checkpoint of {previous.size}: {exc}"
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
                    self._log.info("checkpoint.issued", size=issued.size, root=issued.partitions.root.hex(),
                                   partitions=[c.part for c in issued.signed])
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
