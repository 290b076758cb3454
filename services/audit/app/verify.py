"""Verifying the whole ledger from what is stored (issue 9): nothing is taken on the database's word.

For every leaf, in index order: its bytes must still hash to its leaf hash, and say what its index row says
(event id, topic, type, subject, period); its chain link must follow from the previous link. The tree is
rebuilt from the leaf hashes: every perfect subtree must equal the stored node (proofs are built from those),
the root must equal the head's, and at every checkpoint's size the root must equal the signed one. Every
checkpoint's signature must verify under a trusted key. A checkpoint that no longer matches bounds a rewrite
to the leaves after the last checkpoint that still does (REGULATION.md §2.1 *akuntabel*; §4).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg

from chassis.collector import paused_gc
from services.audit.adapters import queries
from services.audit.adapters.ledger import chain_next, entry_of
from services.audit.adapters.queries import Leaf, StoredCheckpoint
from services.audit.domain.checkpoint import Checkpoint, open_checkpoint
from services.audit.domain.errors import CheckpointError
from services.audit.domain.merkle import CompletedNode, Frontier, leaf_hash

BATCH = 5000
MAX_PROBLEMS = 200


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing found wrong: a machine-readable ``kind``, a sentence, and where (leaf and/or checkpoint)."""

    kind: str
    message: str
    leaf_index: int | None = None
    event_id: UUID | None = None
    checkpoint_size: int | None = None

    def to_json(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "kind": self.kind,
            "message": self.message,
            "leaf_index": self.leaf_index,
            "event_id": None if self.event_id is None else str(self.event_id),
            "checkpoint_size": self.checkpoint_size,
        }


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome: what was checked, and every problem found (the first `MAX_PROBLEMS`)."""

    tree_size: int
    leaves_checked: int
    erased: int
    checkpoints_checked: int
    root: bytes
    problems: tuple[Problem, ...]
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        """Whether nothing was found wrong."""
        return not self.problems

    @property
    def first_bad_leaf(self) -> Problem | None:
        """The problem at the lowest leaf index, if any problem names a leaf."""
        located = [p for p in self.problems if p.leaf_index is not None]
        return min(located, key=lambda p: p.leaf_index or 0) if located else None

    def to_json(self) -> dict[str, object]:
        """JSON-ready form."""
        first = self.first_bad_leaf
        return {
            "ok": self.ok,
            "tree_size": self.tree_size,
            "leaves_checked": self.leaves_checked,
            "erased": self.erased,
            "checkpoints_checked": self.checkpoints_checked,
            "root": self.root.hex(),
            "first_bad_leaf": None if first is None else first.to_json(),
            "problems": [p.to_json() for p in self.problems],
            "more_problems": self.more_problems,
        }


@dataclass
class _Findings:
    problems: list[Problem] = field(default_factory=list)
    dropped: int = 0

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.dropped += 1


def _problem(leaf: Leaf, kind: str, message: str) -> Problem:
    return Problem(kind, f"leaf {leaf.idx} ({leaf.event_id}): {message}", leaf.idx, leaf.event_id)


def check_leaf(leaf: Leaf, previous_chain: bytes) -> list[Problem]:
    """What is wrong with one leaf: its bytes, its index row, its chain link (empty when intact)."""
    found: list[Problem] = []
    if leaf.body is not None:
        if not hmac.compare_digest(leaf_hash(leaf.body), leaf.leaf_hash):
            found.append(_problem(leaf, "leaf.bytes", "its bytes no longer hash to its leaf hash"))
        else:
            entry = entry_of(leaf.topic, leaf.body)
            said = (entry.event_id, entry.type, entry.subject, entry.period)
            if said != (leaf.event_id, leaf.type, leaf.subject, leaf.period):
                found.append(_problem(leaf, "leaf.index", f"its index row says {leaf.type} {leaf.subject} "
                                      f"{leaf.period} but its bytes say {entry.event_id} {entry.type} "
                                      f"{entry.subject} {entry.period}"))
    if not hmac.compare_digest(chain_next(previous_chain, leaf.leaf_hash), leaf.chain_hash):
        found.append(_problem(leaf, "leaf.chain", "its chain link does not follow from the previous one"))
    return found


def check_signatures(stored: Iterable[StoredCheckpoint], trusted_vkeys: Sequence[str]) -> list[Problem]:
    """Every checkpoint must verify under one of the trusted keys and carry the size and root stored beside
    it."""
    found = []
    for c in stored:
        checkpoint: Checkpoint | None = None
        for vkey in trusted_vkeys:
            try:
                checkpoint = open_checkpoint(c.note, vkey)
                break
            except CheckpointError:
                continue
        if checkpoint is None:
            found.append(
                Problem(
                    "checkpoint.signature",
                    f"the checkpoint at size {c.size} is not signed by a trusted key",
                    checkpoint_size=c.size,
                )
            )
        elif (checkpoint.size, checkpoint.root) != (c.size, c.root):
            found.append(
                Problem(
                    "checkpoint.row",
                    f"the stored size/root of the checkpoint at size {c.size} differ from its signed note",
                    checkpoint_size=c.size,
                )
            )
    return found


async def verify_ledger(
    conn: asyncpg.Connection,
    trusted_vkeys: Sequence[str],
    *,
    batch: int = BATCH,
    progress: Callable[[int], None] = lambda _n: None,
) -> VerifyReport:
    """Verify every leaf, node, the head and every checkpoint; ``progress(n)`` after each batch of leaves.

    Runs in one read-only snapshot, so that appends made meanwhile by the running service are simply not seen.
    """
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        with paused_gc():
            return await _verify(conn, trusted_vkeys, batch, progress)


async def _verify(
    conn: asyncpg.Connection, trusted_vkeys: Sequence[str], batch: int, progress: Callable[[int], None]
) -> VerifyReport:
    head = await queries.head(conn)
    stored = await queries.checkpoints(conn)
    findings = _Findings()
    for problem in check_signatures(stored, trusted_vkeys):
        findings.add(problem)
    signed_at = {c.size: c for c in stored if c.size <= head.size}
    for c in stored:
        if c.size > head.size:
            findings.add(
                Problem(
                    "checkpoint.beyond",
                    f"a checkpoint signs {c.size} leaves but the tree has {head.size}: leaves were removed",
                    checkpoint_size=c.size,
                )
            )
    cuts = sorted(signed_at)
    frontier, chain, checked, erased, last_good = Frontier(), b"", 0, 0, 0
    if 0 in signed_at and signed_at[0].root != frontier.root():
        findings.add(
            Problem(
                "checkpoint.root", "the checkpoint at size 0 does not sign the empty root", checkpoint_size=0
            )
        )
    for begin in range(0, head.size, batch):
        end = min(begin + batch, head.size)
        rows = await queries.leaves(conn, begin, end)
        present = {leaf.idx for leaf in rows}
        for idx in sorted(set(range(begin, end)) - present)[:MAX_PROBLEMS]:
            findings.add(Problem("leaf.missing", f"leaf {idx} is missing", leaf_index=idx))
        hashes: list[bytes] = []
        for leaf in rows:
            for problem in check_leaf(leaf, chain):
                findings.add(problem)
            chain, erased = leaf.chain_hash, erased + (leaf.body is None)
            hashes.append(leaf.leaf_hash)
        completed: list[CompletedNode] = []
        position = begin
        for cut in sorted({c for c in cuts if begin < c <= end} | {end}):
            frontier, nodes = frontier.extend(hashes[position - begin : cut - begin])
            completed.extend(nodes)
            position = cut
            if cut in signed_at:
                if frontier.size == cut and frontier.root() == signed_at[cut].root:
                    last_good = cut
                else:
                    findings.add(
                        Problem(
                            "checkpoint.root",
                            f"the root of the first {cut} leaves is not the one "
                            f"signed: leaves in [{last_good}, {cut}) changed since it was signed",
                            checkpoint_size=cut,
                        )
                    )
        await _check_nodes(conn, begin, end, completed, rows, findings)
        checked += len(rows)
        progress(len(rows))
    if frontier.root() != head.root:
        findings.add(Problem("head.root", "the tree head's root is not the root of the stored leaves"))
    if chain != head.chain_hash:
        findings.add(Problem("head.chain", "the tree head's chain link is not the last leaf's"))
    extra = await queries.leaf_count(conn) - checked
    if extra > 0:
        findings.add(Problem("leaf.extra", f"{extra} leaf rows lie beyond the tree head (size {head.size})"))
    return VerifyReport(
        head.size, checked, erased, len(stored), frontier.root(), tuple(findings.problems), findings.dropped
    )


async def _check_nodes(
    conn: asyncpg.Connection,
    begin: int,
    end: int,
    completed: Sequence[CompletedNode],
    rows: Sequence[Leaf],
    findings: _Findings,
) -> None:
    """The stored perfect subtrees must be those the leaf hashes build (inclusion proofs are made of them):
    ``completed`` are those that leaves ``begin`` to ``end - 1`` complete."""
    stored = await queries.nodes_completed(conn, begin, end)
    event_of = {leaf.idx: leaf.event_id for leaf in rows}
    for level, idx, value in completed:
        if stored.get((level, idx)) != value:
            first = idx << level
            findings.add(
                Problem(
                    "node",
                    f"stored node (level {level}, index {idx}) over leaves "
                    f"[{first}, {(idx + 1) << level}) is missing or differs",
                    leaf_index=first if level == 0 else None,
                    event_id=event_of.get(first) if level == 0 else None,
                )
            )
