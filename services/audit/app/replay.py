"""Bit-exact replay of published results, and bounded rebuild of the whole read model (issue 9; REGULATION.md
§4: an auditor reproduces any past result exactly; §2.4: a keberatan is judged on the record as it stood).

The scoring core arrives through the `Scorer` port, so the audit service depends on no other service
(ARCHITECTURE.md).

Which evidence a published result rests on: the ledger interleaves topics in arrival order, so a ledger
position is not a causal cut (a score can be ledgered before or after the evidence it used). A
`score.computed` names the last event of its stream in `correlation_id`; an employee's events share one
partition (key: NIP), so the scoring service had seen exactly the stream's events up to that event's evidence
`sequence`. That is the replay's horizon.

What a replay and a rebuild report is in `outcomes`; the processes they score in, in `parallel`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import asyncpg
import orjson
from pydantic import ValidationError

from chassis.collector import paused_gc
from contracts import topics
from contracts.canonical import canonical_bytes
from contracts.envelope import Envelope
from services.audit.adapters import checkpoint_rows, queries
from services.audit.adapters.queries import EVERYTHING, Horizon, Leaf
from services.audit.app.errors import NoCheckpoint, NothingPublished, ReplayInputMissing
from services.audit.app.outcomes import Rebuilt, ReplayOutcome, content_hash, field_diff
from services.audit.app.parallel import balanced, in_processes, processes_for

SCORE_TYPE = "score.computed"


class Scorer(Protocol):
    """The scoring core, as the audit needs it (implemented over `services.scoring.domain` by the CLI)."""

    def appraise(self, events: Sequence[Envelope], nip: str, period: str) -> Mapping[str, Any]:
        """The result JSON of one employee and period, as `score.computed` carries it in `payload.result`,
        from the employee's accepted events and the unit-level context events (the scorer routes them as the
        scoring service does)."""
        ...

    def is_context(self, event: Envelope) -> bool:
        """Whether a unit-level event may route into an employee's stream (policies, positions, predicates)."""
        ...

    def score_all(self, events: Sequence[Envelope]) -> Sequence[Mapping[str, Any]]:
        """The result JSON of every employee-period in a whole stream of accepted events."""
        ...

    def employee_of(self, type: str, subject: str) -> str | None:
        """The one employee whose results an event of this type and subject can change (the key of those
        results' own events), or None when it may change anyone's (unit-level events). `score_all` over one
        group of employees' own events and every None event gives exactly those employees' results."""
        ...


def envelope_of(leaf: Leaf) -> Envelope:
    """The event a leaf holds; `ReplayInputMissing` if its bytes were erased or are not an envelope."""
    return _envelope(leaf.idx, leaf.event_id, leaf.body)


def _envelope(idx: int, event_id: UUID, body: bytes | None) -> Envelope:
    if body is None:
        raise ReplayInputMissing(f"the bytes of leaf {idx} ({event_id}) were erased")
    try:
        return Envelope.model_validate_json(body)
    except ValidationError as exc:
        raise ReplayInputMissing(f"leaf {idx} does not hold an envelope: {exc}") from exc


def envelopes(leaves: Iterable[Sequence[Any]]) -> list[Envelope]:
    """The events of `queries.evidence_leaves` rows; `ReplayInputMissing` at the first erased or unreadable."""
    return [_envelope(leaf[0], leaf[1], leaf[4]) for leaf in leaves]


def shards(leaves: Sequence[Sequence[Any]], scorer: Scorer, count: int) -> list[list[Sequence[Any]]]:
    """Split `queries.evidence_leaves` rows into ``count`` groups the scorer scores apart
    (`Scorer.employee_of`), in ledger order each: an employee's own events go to one group, the groups
    balanced by event count; unit-level events go to every group."""
    if count <= 1:
        return [list(leaves)]
    known: dict[tuple[str, str], str | None] = {}
    owners: list[str | None] = []
    for leaf in leaves:
        key = (leaf[2], leaf[3])
        if (nip := known.get(key, "")) == "":
            nip = known[key] = scorer.employee_of(*key)
        owners.append(nip)
    size = Counter(owners)
    del size[None]
    group = balanced(size, count)
    out: list[list[Sequence[Any]]] = [[] for _ in range(count)]
    for leaf, nip in zip(leaves, owners, strict=True):
        if nip is None:
            for part in out:
                part.append(leaf)
        else:
            out[group[nip]].append(leaf)
    return out


def score_evidence(
    leaves: Sequence[Sequence[Any]], scorer: Scorer, processes: int | None = None
) -> list[Mapping[str, Any]]:
    """Every result the scorer makes of the evidence rows, sorted by NIP and period: parsed and scored in
    `processes_for` processes, each over a group of employees (`shards`); exactly the results of one
    `score_all` over all the events (employees are scored apart: REGULATION.md §4 asks only the same
    result)."""
    parts = shards(leaves, scorer, processes_for(len(leaves), processes))
    scored = in_processes(lambda part: list(scorer.score_all(envelopes(part))), parts)
    return sorted((r for part in scored for r in part), key=lambda r: (str(r["nip"]), str(r["period"])))


def _stream_order(e: Envelope) -> tuple[int, str]:
    return (e.sequence or 0, str(e.event_id))


def employee_period_stream(evidence: Iterable[Envelope], nip: str, scorer: Scorer) -> list[Envelope]:
    """What the scoring service re-appraises an employee from: his or her accepted events (all periods) and
    the unit-level context events, in sequence order."""
    chosen = [e for e in evidence if e.subject == nip or scorer.is_context(e)]
    return sorted(chosen, key=_stream_order)


def horizon_of(
    published: Envelope, stream: Sequence[Envelope], by_id: Mapping[str, Envelope] | None = None
) -> int:
    """The evidence sequence a published result had seen: that of the event its `correlation_id` names, else
    the highest among its basis events; `ReplayInputMissing` if the ledger holds neither. ``by_id``: the
    stream's events by id, when the caller keeps it for several results."""
    if by_id is None:
        by_id = {str(e.event_id): e for e in stream}
    named = by_id.get(published.correlation_id or "")
    if named is not None and named.sequence is not None:
        return named.sequence
    basis = [str(b) for b in published.payload.get("basis_event_ids", ())]
    missing = [b for b in basis if b not in by_id]
    if missing or not basis:
        raise ReplayInputMissing(f"the ledger lacks events the result rests on: {missing[:3] or 'its basis'}")
    return max(by_id[b].sequence or 0 for b in basis)


def replay_published(
    score_leaf: Leaf, stream: Sequence[Envelope], scorer: Scorer, by_id: Mapping[str, Envelope] | None = None
) -> ReplayOutcome:
    """Re-run the scoring core on the stream up to the published result's horizon and compare (pure);
    ``by_id`` as for `horizon_of`."""
    published = envelope_of(score_leaf)
    horizon = horizon_of(published, stream, by_id)
    used = [e for e in stream if (e.sequence or 0) <= horizon]
    # Through canonical JSON, as a published result went: Decimals and tuples become what the ledger holds.
    replayed = orjson.loads(canonical_bytes(scorer.appraise(used, published.subject, published.period)))
    result = published.payload.get("result", {})
    # Equal canonical JSON has no differing field: the walk field by field is for the results that differ.
    same = canonical_bytes(result) == canonical_bytes(replayed)
    return ReplayOutcome(
        nip=published.subject,
        period=published.period,
        score_event_id=published.event_id,
        score_index=score_leaf.idx,
        horizon_sequence=horizon,
        events=len(used),
        published_basis_hash=str(result.get("basis_hash")),
        replayed_basis_hash=str(replayed.get("basis_hash")),
        diffs=() if same else tuple(field_diff(result, replayed)),
    )


async def read_evidence(conn: asyncpg.Connection, horizon: Horizon = EVERYTHING) -> list[asyncpg.Record]:
    """`queries.evidence_leaves`, the garbage collector paused while the rows arrive (a third of the read's
    CPU otherwise: every collection walks the records already made)."""
    with paused_gc():
        return await queries.evidence_leaves(conn, horizon)


async def evidence_events(conn: asyncpg.Connection, horizon: Horizon = EVERYTHING) -> list[Envelope]:
    """The accepted events ledgered (within ``horizon``), skipping records that are not envelopes, which
    the scoring service set aside as poison too."""
    return envelopes(await read_evidence(conn, horizon))


async def until_as_of(conn: asyncpg.Connection, when: datetime) -> Horizon:
    """The leaves under the latest checkpoint over every partition issued at or before ``when``: in each
    partition, the first as many as it signs (ADR 0013)."""
    checkpoint = await checkpoint_rows.partitions_as_of(conn, when)
    if checkpoint is None or not any(checkpoint.sizes):
        raise NoCheckpoint(f"no checkpoint over any leaf was issued at or before {when.isoformat()}")
    return Horizon(sizes=checkpoint.sizes)


async def replay(
    conn: asyncpg.Connection, scorer: Scorer, nip: str, period: str, horizon: Horizon = EVERYTHING
) -> ReplayOutcome:
    """Replay the last result published for ``nip`` and ``period`` within ``horizon`` (a ledger index, or a
    checkpoint's partition sizes)."""
    scores = [
        leaf
        for leaf in await queries.leaves_of(conn, nip, period, (topics.SCORES,))
        if leaf.type == SCORE_TYPE and horizon.covers(leaf)
    ]
    if not scores:
        raise NothingPublished(
            f"no result for {nip} {period} was ledgered"
            + ("" if horizon.until is None else f" at or before index {horizon.until}")
            + ("" if horizon.sizes is None else " under that checkpoint")
        )
    return replay_published(scores[-1], employee_period_stream(await evidence_events(conn), nip, scorer), scorer)


def _replay_group(scores: Sequence[Leaf], leaves: Sequence[Sequence[Any]], scorer: Scorer) -> list[ReplayOutcome]:
    """Replay the published results ``scores`` from the evidence rows ``leaves`` (every employee's of theirs,
    and the unit-level ones)."""
    evidence = envelopes(leaves)
    context = [e for e in evidence if scorer.is_context(e)]
    own: dict[str, list[Envelope]] = defaultdict(list)
    for event in evidence:
        own[event.subject].append(event)
    outcomes = []
    streams: dict[str, tuple[list[Envelope], dict[str, Envelope]]] = {}  # per employee, with its index by id
    for leaf in scores:
        if (kept := streams.get(leaf.subject)) is None:
            stream = sorted([*own.get(leaf.subject, ()), *context], key=_stream_order)
            kept = streams[leaf.subject] = (stream, {str(e.event_id): e for e in stream})
        outcomes.append(replay_published(leaf, kept[0], scorer, kept[1]))
    return outcomes


async def replay_all(
    conn: asyncpg.Connection,
    scorer: Scorer,
    progress: Callable[[int], None] = lambda _n: None,
    processes: int | None = None,
) -> list[ReplayOutcome]:
    """Replay every result ever published, in ledger order: in `processes_for` processes, each over a group
    of employees with their published results and their own facts (`Scorer.employee_of`), and every other
    event (unit-level ones among them)."""
    leaves = await read_evidence(conn)
    ledgered = await queries.topic_leaves(conn, topics.SCORES)
    scores = [leaf for leaf in ledgered if leaf.type == SCORE_TYPE]
    progress(len(ledgered) - len(scores))
    count = processes_for(len(leaves), processes)
    group = balanced(Counter(leaf.subject for leaf in scores), count) if count > 1 else {}
    jobs: list[tuple[list[Leaf], list[Sequence[Any]]]] = [([], []) for _ in range(count)]
    for leaf in scores:
        jobs[group.get(leaf.subject, 0)][0].append(leaf)
    for row in leaves:
        if (i := group.get(row[3], -1)) >= 0 and scorer.employee_of(row[2], row[3]) == row[3]:
            jobs[i][1].append(row)
        else:
            for job in jobs:
                job[1].append(row)
    outcomes = []
    for part in in_processes(lambda job: _replay_group(*job, scorer), jobs):
        progress(len(part))
        outcomes.extend(part)
    return sorted(outcomes, key=lambda o: o.score_index)


async def rebuild(conn: asyncpg.Connection, scorer: Scorer, until: int, processes: int | None = None) -> Rebuilt:
    """Rebuild every appraisal from the evidence ledgered up to index ``until`` and hash the result; beside
    it, the hash of the last result published for each employee-period up to ``until``."""
    evidence = await read_evidence(conn, Horizon(until))
    results = score_evidence(evidence, scorer, processes)
    last: dict[tuple[str, str], Mapping[str, Any]] = {}
    for leaf in await queries.topic_leaves(conn, topics.SCORES, Horizon(until)):
        if leaf.type == SCORE_TYPE:
            last[(leaf.subject, leaf.period)] = envelope_of(leaf).payload["result"]
    return Rebuilt(
        until, len(evidence), len(results), content_hash(results), len(last), content_hash(last.values())
    )
