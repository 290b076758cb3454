"""Verifying the whole ledger from what is stored (issue 9): nothing is taken on the database's word.

For every leaf, in index order: its bytes must still hash to its leaf hash, and say what its index row says
(event id, topic, type, subject, period); its chain link must follow from the previous link. The tree is
rebuilt from the leaf hashes: every perfect subtree must equal the stored node (proofs are built from those),
the root must equal the head's, and at every checkpoint's size the root must equal the signed one. Every
checkpoint's signature must verify under a trusted key. A checkpoint that no longer matches bounds a rewrite
to the leaves after the last checkpoint that still does (REGULATION.md §2.1 *akuntabel*; §4).

What it reports (`Problem`, `VerifyReport`) is in `verify_report`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import asyncpg

from chassis.collector import paused_gc
from services.audit.adapters import checkpoint_rows, queries
from services.audit.adapters.checkpoint_rows import StoredCheckpoint, StoredPartitions
from services.audit.adapters.ledger import chain_next, entry_of
from services.audit.adapters.queries import Head, Leaf
from services.audit.app.verify_report import MAX_PROBLEMS, Findings, Problem, VerifyReport
from services.audit.domain.checkpoint import Checkpoint, open_checkpoint
from services.audit.domain.errors import CheckpointError
from services.audit.domain.merkle import CompletedNode, Frontier, leaf_hash
from services.audit.domain.partitions import partitions_root

BATCH = 5000


def _problem(leaf: Leaf, kind: str, message: str) -> Problem:
    return Problem(kind, f"leaf {leaf.pos} of partition {leaf.part} ({leaf.event_id}): {message}", leaf.pos,
                   leaf.event_id, partition=leaf.part)


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
        checkpoint = _opened(c.note, trusted_vkeys)
        where = f"partition {c.part}'s checkpoint at size {c.size}"
        if checkpoint is None:
            found.append(Problem("checkpoint.signature", f"{where} is not signed by a trusted key",
                                 checkpoint_size=c.size, partition=c.part))
        elif (checkpoint.size, checkpoint.root) != (c.size, c.root):
            found.append(Problem("checkpoint.row", f"the stored size/root of {where} differ from its signed note",
                                 checkpoint_size=c.size, partition=c.part))
    return found


def check_partitions(stored: Iterable[StoredPartitions], trusted_vkeys: Sequence[str]) -> list[Problem]:
    """Every checkpoint over all partitions must verify under a trusted key and sign the root of the sizes
    and roots stored beside it."""
    found = []
    for c in stored:
        checkpoint = _opened(c.note, trusted_vkeys)
        where = f"the checkpoint over every partition number {c.n}"
        if checkpoint is None:
            found.append(Problem("partitions.signature", f"{where} is not signed by a trusted key"))
        elif (checkpoint.size, checkpoint.root) != (len(c.sizes), c.root) or c.root != partitions_root(
                c.sizes, c.roots):
            found.append(Problem("partitions.row", f"the stored sizes/roots of {where} differ from its signed note"))
    return found


def _opened(note: str, trusted_vkeys: Sequence[str]) -> Checkpoint | None:
    for vkey in trusted_vkeys:
        try:
            return open_checkpoint(note, vkey)
        except CheckpointError:
            continue
    return None


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
    heads = await queries.heads(conn)
    stored = await checkpoint_rows.checkpoints(conn)
    over_all = await checkpoint_rows.all_partitions(conn)
    findings = Findings()
    for problem in [*check_signatures(stored, trusted_vkeys), *check_partitions(over_all, trusted_vkeys)]:
        findings.add(problem)
    checked = erased = 0
    roots = []
    for head in heads:
        claims: dict[int, list[tuple[str, bytes]]] = {}
        for c in stored:
            if c.part == head.part:
                claims.setdefault(c.size, []).append((f"partition {c.part}'s checkpoint at size {c.size}", c.root))
        for o in over_all:
            if head.part < len(o.sizes):
                claims.setdefault(o.sizes[head.part], []).append(
                    (f"the checkpoint over every partition number {o.n}", o.roots[head.part]))
        walked = await _verify_partition(conn, head, claims, batch, progress, findings)
        checked, erased = checked + walked.checked, erased + walked.erased
        roots.append(walked.root)
    sizes = [h.size for h in heads]
    return VerifyReport(sum(sizes), checked, erased, len(stored) + len(over_all), partitions_root(sizes, roots),
                        tuple(findings.problems), findings.dropped)


@dataclass(frozen=True, slots=True)
class _Walked:
    checked: int
    erased: int
    root: bytes


async def _verify_partition(
    conn: asyncpg.Connection, head: Head, claims: dict[int, list[tuple[str, bytes]]], batch: int,
    progress: Callable[[int], None], findings: Findings,
) -> _Walked:
    """Walk one partition's leaves: bytes, index rows, chain, nodes, and the roots signed at ``claims`` (size
    -> what signed which root)."""
    part = head.part
    for size in sorted(s for s in claims if s > head.size):
        for what, _ in claims[size]:
            findings.add(Problem("checkpoint.beyond", f"{what} signs {size} leaves but partition {part}'s tree "
                                 f"has {head.size}: leaves were removed", checkpoint_size=size, partition=part))
    frontier, chain, checked, erased, last_good = Frontier(), b"", 0, 0, 0
    cuts = sorted(s for s in claims if s <= head.size)
    _check_claims(part, 0, frontier.root(), claims, last_good, findings)
    for begin in range(0, head.size, batch):
        end = min(begin + batch, head.size)
        rows = await queries.leaves(conn, part, begin, end)
        present = {leaf.pos for leaf in rows}
        for pos in sorted(set(range(begin, end)) - present)[:MAX_PROBLEMS]:
            findings.add(Problem("leaf.missing", f"leaf {pos} of partition {part} is missing", leaf_index=pos,
                                 partition=part))
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
            if frontier.size == cut and _check_claims(part, cut, frontier.root(), claims, last_good, findings):
                last_good = cut
        await _check_nodes(conn, part, begin, end, completed, rows, findings)
        checked += len(rows)
        progress(len(rows))
    if frontier.root() != head.root:
        findings.add(Problem("head.root", f"partition {part}'s tree head's root is not the root of the stored "
                             "leaves", partition=part))
    if chain != head.chain_hash:
        findings.add(Problem("head.chain", f"partition {part}'s tree head's chain link is not the last leaf's",
                             partition=part))
    extra = await queries.leaf_count(conn, part) - checked
    if extra > 0:
        findings.add(Problem("leaf.extra", f"{extra} leaf rows of partition {part} lie beyond its tree head "
                             f"(size {head.size})", partition=part))
    return _Walked(checked, erased, frontier.root())


def _check_claims(
    part: int, size: int, root: bytes, claims: dict[int, list[tuple[str, bytes]]], last_good: int,
    findings: Findings,
) -> bool:
    """Whether every root signed at ``size`` is ``root`` (the one the leaves build); each one that is not is a
    problem, bounding the change to the leaves since ``last_good``."""
    if size not in claims:
        return False
    good = True
    for what, signed in claims[size]:
        if signed != root:
            good = False
            findings.add(Problem("checkpoint.root", f"the root of partition {part}'s first {size} leaves is not "
                                 f"the one {what} signs: leaves in [{last_good}, {size}) changed since it was "
                                 "signed", checkpoint_size=size, partition=part))
    return good


async def _check_nodes(
    conn: asyncpg.Connection,
    part: int,
    begin: int,
    end: int,
    completed: Sequence[CompletedNode],
    rows: Sequence[Leaf],
    findings: Findings,
) -> None:
    """The stored perfect subtrees must be those the leaf hashes build (inclusion proofs are made of them):
    ``completed`` are those that leaves ``begin`` to ``end - 1`` complete."""
    stored = await queries.nodes_completed(conn, part, begin, end)
    event_of = {leaf.pos: leaf.event_id for leaf in rows}
    for level, idx, value in completed:
        if stored.get((level, idx)) != value:
            first = idx << level
            findings.add(
                Problem(
                    "node",
                    f"partition {part}'s stored node (level {level}, index {idx}) over leaves "
                    f"[{first}, {(idx + 1) << level}) is missing or differs",
                    leaf_index=first if level == 0 else None,
                    event_id=event_of.get(first) if level == 0 else None,
                    partition=part,
                )
            )
