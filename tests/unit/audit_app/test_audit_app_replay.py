"""Replay re-runs the scoring core on exactly the evidence a published result had seen, whatever order the
ledger interleaved topics in, and reports a field diff when the result does not reproduce."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Any

import asyncpg
import orjson
import pytest
from audit_app_data import (
    NIP,
    NOW,
    OTHER_NIP,
    PERIOD,
    SIGNER,
    CountingScorer,
    body,
    evidence,
    ledger,
    realisation,
    score,
)

from chassis.partitions import PARTITIONS, partition_of
from contracts import topics
from contracts.canonical import canonical_bytes
from contracts.envelope import NIP_PATTERN, Envelope
from contracts.registry import PAYLOADS
from objektif import candisari
from objektif.commands.audit import CoreScorer
from services.audit.adapters import queries
from services.audit.adapters.ledger import Ledger, entry_of
from services.audit.adapters.queries import Horizon
from services.audit.app.checkpoints import issue_checkpoint
from services.audit.app.errors import NoCheckpoint, NothingPublished, ReplayInputMissing
from services.audit.app.outcomes import FieldDiff
from services.audit.app.replay import (
    content_hash,
    field_diff,
    in_processes,
    rebuild,
    replay,
    replay_all,
    score_evidence,
    shards,
    until_as_of,
)
from services.scoring.domain.stream import _UNIT_TYPES

SCORER = CountingScorer()
E1, E2, E3 = realisation("e1", 1, "10"), realisation("e2", 2, "20"), realisation("e3", 3, "30")
PART, OTHER_PART = partition_of(NIP), partition_of(OTHER_NIP)
assert PART != OTHER_PART  # the tests below need the two employees in two partitions (ADR 0013)


async def idx_of(conn: asyncpg.Connection, envelope: Envelope) -> int:
    """The ledger index (`idx`: the ordering key, no longer a tree index) of the leaf holding ``envelope``."""
    leaf = await queries.leaf_by_event(conn, envelope.event_id)
    assert leaf is not None
    return leaf.idx


async def ledger_at(pool: asyncpg.Pool, ms: int, *records: tuple[str, Envelope]) -> None:
    """As `ledger`, with the audit service's clock at ``ms``: across partitions, leaves are ordered by that clock
    (`next_sequences`), so batches at increasing times are ledgered one after the other whatever the partitions."""
    await Ledger(pool, clock_ms=lambda: ms).append([entry_of(topic, body(e)) for topic, e in records], [])


def sizes(**by_part: int) -> tuple[int, ...]:
    """Partition sizes (by partition), zero where not named; keys are ``p<k>``."""
    return tuple(by_part.get(f"p{p}", 0) for p in range(PARTITIONS))


async def test_each_published_result_is_replayed_on_the_evidence_it_had_seen(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    # The audit ledgered e2 before the score over e1 alone: a ledger position is not a causal cut.
    await ledger(pool, *evidence(E1, E2), (topics.SCORES, score([E1])), (topics.SCORES, score([E1, E2])))
    first_score, last_score = await idx_of(conn, score([E1])), await idx_of(conn, score([E1, E2]))
    first = await replay(conn, SCORER, NIP, PERIOD, Horizon(until=first_score))
    assert first.match
    assert (first.events, first.horizon_sequence, first.score_index) == (1, 1, first_score)
    latest = await replay(conn, SCORER, NIP, PERIOD)
    assert latest.match
    assert (latest.events, latest.score_index) == (2, last_score)
    # The same cut by partition sizes: the first three leaves of the employee's partition.
    assert await replay(conn, SCORER, NIP, PERIOD, Horizon(sizes=sizes(**{f"p{PART}": 3}))) == first


async def test_a_score_ledgered_before_its_evidence_still_replays(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await ledger(pool, (topics.SCORES, score([E1, E2])), *evidence(E1, E2, E3))
    outcome = await replay(conn, SCORER, NIP, PERIOD)
    assert outcome.match
    assert outcome.events == 2  # e3 came later than the result, so it is not part of it


async def test_a_result_that_does_not_reproduce_is_reported_field_by_field(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    honest = dict(SCORER.appraise([E1, E2]))
    await ledger(pool, *evidence(E1, E2), (topics.SCORES, score([E1, E2], {**honest, "total": "31"})))
    outcome = await replay(conn, SCORER, NIP, PERIOD)
    assert not outcome.match
    assert outcome.diffs == (FieldDiff("total", "31", "30"),)


async def test_a_result_resting_on_events_missing_from_the_ledger_cannot_be_replayed(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await ledger(pool, *evidence(E1), (topics.SCORES, score([E1, E2])))
    with pytest.raises(ReplayInputMissing):
        await replay(conn, SCORER, NIP, PERIOD)


async def test_nothing_to_replay_before_the_first_result(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    await ledger(pool, *evidence(E1), (topics.SCORES, score([E1])))
    with pytest.raises(NothingPublished):
        await replay(conn, SCORER, NIP, PERIOD, Horizon(until=await idx_of(conn, E1)))
    with pytest.raises(NothingPublished):
        await replay(conn, SCORER, NIP, PERIOD, Horizon(sizes=sizes(**{f"p{PART}": 1})))
    with pytest.raises(NothingPublished):
        await replay(conn, SCORER, OTHER_NIP, PERIOD)
    assert (await replay(conn, SCORER, NIP, PERIOD, Horizon(sizes=sizes(**{f"p{PART}": 2})))).match


async def test_every_published_result_replays_and_the_read_model_rebuilds_to_the_published_one(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    other = realisation("o1", 4, "7", nip=OTHER_NIP)  # another employee, in another partition
    await ledger_at(pool, 1_000, *evidence(E1), (topics.SCORES, score([E1])))
    await ledger_at(
        pool, 2_000, *evidence(other, E2), (topics.SCORES, score([other])), (topics.SCORES, score([E1, E2]))
    )
    outcomes = await replay_all(conn, SCORER)
    assert [o.match for o in outcomes] == [True, True, True]
    counted: list[int] = []
    assert await replay_all(conn, SCORER, counted.append, processes=2) == outcomes  # each employee apart
    assert sum(counted) == 3
    last = max([await idx_of(conn, e) for e in (other, E2, score([other]), score([E1, E2]))])
    whole = await rebuild(conn, SCORER, until=last)
    assert whole.matches_published
    assert (whole.evidence_events, whole.appraisals, whole.published) == (3, 2, 2)
    early = await rebuild(conn, SCORER, until=await idx_of(conn, score([E1])))
    assert (early.evidence_events, early.appraisals, early.published) == (1, 1, 1)
    assert early.content_hash == content_hash([SCORER.appraise([E1])])
    assert early.matches_published
    assert await rebuild(conn, SCORER, until=last, processes=2) == whole


def _leaves(events: list[Envelope]) -> list[tuple[Any, ...]]:
    """Rows as `queries.evidence_leaves` returns them: idx, event_id, type, subject, body."""
    return [(i, e.event_id, e.type, e.subject, canonical_bytes(e.model_dump(mode="json", exclude_none=True)))
            for i, e in enumerate(events)]


def test_a_rebuild_in_several_processes_gives_exactly_the_results_of_one() -> None:
    leaves, scorer = _leaves(_demo()), CoreScorer()
    parts = shards(leaves, scorer, 3)
    assert all(parts) and sum(map(len, parts)) > len(leaves)  # unit-level events go to every group
    one = score_evidence(leaves, scorer, processes=1)
    assert len(one) > 20
    for processes in (2, 3):
        assert orjson.dumps(score_evidence(leaves, scorer, processes=processes)) == orjson.dumps(one)


async def test_replaying_every_result_in_several_processes_gives_the_outcomes_of_one(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    events = _demo()
    await ledger(pool, *evidence(*events))
    published = []
    for nip in sorted({e.subject for e in events if e.type == "realisation.recorded"})[:8]:
        own = [e for e in events if e.subject == nip and e.type == "realisation.recorded"]
        for upto in (own[:1], own):  # results at two horizons; they need not match the scoring core's
            ids = [str(e.event_id) for e in upto]
            result = {"nip": nip, "period": upto[-1].period, "basis_event_ids": ids, "basis_hash": f"{nip}:{len(ids)}"}
            published.append((topics.SCORES, score(upto, result)))
    await ledger(pool, *published)
    one = await replay_all(conn, CoreScorer(), processes=1)
    assert len(one) == len(published) and any(o.diffs for o in one)
    assert await replay_all(conn, CoreScorer(), processes=2) == one


def _demo() -> list[Envelope]:
    """The demo: 8 units with leaders, positions, unit predicates, policies for "*" and for units, objections."""
    return [Envelope.model_validate({**body, "sequence": n})
            for n, (_source, body) in enumerate(candisari.build().submissions, 1)]


def test_an_erased_event_stops_a_parallel_rebuild_as_it_stops_one_process() -> None:
    leaves = _leaves([realisation(f"p{i}", i + 1, "1", nip=nip) for i, nip in enumerate([NIP, OTHER_NIP] * 3)])
    leaves[3] = (*leaves[3][:4], None)
    for processes in (1, 2):
        with pytest.raises(ReplayInputMissing, match=r"leaf 3 .* were erased"):
            score_evidence(leaves, SCORER, processes=processes)


def _die_in_a_child(arg: int) -> int:
    if arg:
        os._exit(3)
    return arg


def test_a_process_that_dies_without_an_answer_fails_the_whole_replay() -> None:
    assert in_processes(lambda arg: arg * 2, [1, 2, 3]) == [2, 4, 6]
    with pytest.raises(RuntimeError, match="exit code 3"):
        in_processes(_die_in_a_child, [0, 1])


@pytest.mark.parametrize("type_", sorted(PAYLOADS))
def test_the_scorer_keeps_apart_exactly_the_events_route_keeps_in_one_employees_streams(type_: str) -> None:
    """`route` takes an event as an employee fact when its subject is a NIP and its type not unit-level."""
    for subject in (NIP, "unit-1", "*", "1980010120050110019"):
        employee_fact = type_ not in _UNIT_TYPES and re.fullmatch(NIP_PATTERN, subject) is not None
        assert CoreScorer().employee_of(type_, subject) == (subject if employee_fact else None)


async def test_as_of_a_time_means_the_ledger_under_the_last_checkpoint_issued_by_then(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    """As of a time: in each partition, the leaves the latest checkpoint over every partition issued by then
    signs (ADR 0013)."""
    with pytest.raises(NoCheckpoint):
        await until_as_of(conn, NOW)
    await issue_checkpoint(conn, SIGNER, NOW - timedelta(days=1))  # over an empty ledger: no leaf under it
    with pytest.raises(NoCheckpoint):
        await until_as_of(conn, NOW - timedelta(hours=1))
    o1, o2 = realisation("o1", 4, "7", nip=OTHER_NIP), realisation("o2", 5, "8", nip=OTHER_NIP)
    await ledger(pool, *evidence(E1), (topics.SCORES, score([E1])), *evidence(o1), (topics.SCORES, score([o1])))
    await issue_checkpoint(conn, SIGNER, NOW)
    await ledger(pool, *evidence(E2), (topics.SCORES, score([E1, E2])))
    await ledger(pool, *evidence(o2), (topics.SCORES, score([o1, o2])))
    await issue_checkpoint(conn, SIGNER, NOW + timedelta(days=1))
    first = await until_as_of(conn, NOW + timedelta(hours=1))
    assert first == Horizon(sizes=sizes(**{f"p{PART}": 2, f"p{OTHER_PART}": 2}))
    for nip, own in ((NIP, score([E1])), (OTHER_NIP, score([o1]))):
        outcome = await replay(conn, SCORER, nip, PERIOD, first)
        assert (outcome.events, outcome.score_event_id, outcome.match) == (1, own.event_id, True)
    later = await until_as_of(conn, NOW + timedelta(days=2))
    assert later == Horizon(sizes=sizes(**{f"p{PART}": 4, f"p{OTHER_PART}": 4}))
    assert (await replay(conn, SCORER, OTHER_NIP, PERIOD, later)).events == 2


def test_a_field_diff_names_nested_paths_and_is_empty_for_equal_values() -> None:
    published = {"a": {"b": [1, {"c": "x"}]}, "d": None, "e": [1, 2]}
    replayed = {"a": {"b": [1, {"c": "y"}]}, "d": None, "e": [1, 2, 3], "f": True}
    assert field_diff(published, replayed) == [
        FieldDiff("a.b[1].c", "x", "y"),
        FieldDiff("e", [1, 2], [1, 2, 3]),
        FieldDiff("f", None, True),
    ]
    assert field_diff(published, published) == []


def test_the_content_hash_ignores_the_order_results_come_in() -> None:
    a, b = {"nip": "1", "period": "2025", "x": 1}, {"nip": "2", "period": "2025", "x": 2}
    assert content_hash([a, b]) == content_hash([b, a]) != content_hash([a])
