"""The projector's caches against a real PostgreSQL: whichever tier serves an employee (the folds kept, his or
her stream parsed, parsed again from its JSON bytes, read from the database), the read model and the score
events are the same, byte for byte; and a tier is never trusted over the table (a stream another instance
extended is read back)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import orjson
import pytest

from bench.stages import Record
from chassis.kafka import Position, next_positions_of
from contracts import topics
from contracts.envelope import Envelope
from services.scoring.adapters.store import ScoringStore
from services.scoring.app.fold_cache import FoldCache
from services.scoring.app.project import Projector
from services.scoring.domain.policy import Policy
from tests.unit.scoring.demo_world import demo_events

_RESET = "TRUNCATE scoring.events, scoring.streams, scoring.appraisals, scoring.outbox, scoring.consumer_positions"


def _records(events: Sequence[Envelope], first_offset: int = 0) -> list[Record]:
    return [Record(topics.EVIDENCE, 0, first_offset + n, orjson.dumps(e.model_dump(mode="json", exclude_none=True)))
            for n, e in enumerate(events)]


def _last_realisation(events: Sequence[Envelope]) -> int:
    """Where the demo's last realisation is: the events from there on are a batch that re-appraises from folds."""
    return max(n for n, e in enumerate(events) if e.type == "realisation.recorded")


async def _project(projector: Projector, records: Sequence[Record], batch: int) -> None:
    for start in range(0, len(records), batch):
        chunk = records[start:start + batch]
        await projector.handle(chunk, next_positions_of(chunk))


async def _outcome(conn: asyncpg.Connection) -> tuple[list[Any], list[Any]]:
    scores = [r["value"] for r in await conn.fetch("SELECT value FROM scoring.outbox ORDER BY part, n")]
    appraisals = [tuple(r) for r in await conn.fetch(
        "SELECT nip, period, result, basis_hash, score_event_id, upto_sequence FROM scoring.appraisals"
        " ORDER BY nip, period")]
    return scores, appraisals


async def test_every_tier_gives_the_read_model_the_database_gives(
    scoring_pool: asyncpg.Pool, policies: Mapping[str, Policy]
) -> None:
    records = _records(demo_events())
    configurations = {  # (parsed events kept, JSON bytes kept, folds kept)
        "database": (0, 0, 0),
        "raw": (0, 1 << 30, 0),
        "raw, with folds kept": (0, 1 << 30, 50_000),
        "parsed": (50_000, 1 << 30, 50_000),
    }
    outcomes, served = {}, {}
    async with scoring_pool.acquire() as conn:
        for name, (parsed, raw, folds) in configurations.items():
            await conn.execute(_RESET)
            store = ScoringStore(scoring_pool, cache_events=parsed, cache_raw_bytes=raw)
            await _project(Projector(store, policies, FoldCache(folds)), records, batch=60)
            outcomes[name], served[name] = await _outcome(conn), dict(store.served)
    assert outcomes["database"][0], "the demo announces scores"
    for name in configurations:
        assert outcomes[name] == outcomes["database"], name
    assert served["database"]["raw"] == served["database"]["parsed"] == 0 < served["database"]["database"]
    assert served["raw"]["parsed"] == 0 < served["raw"]["raw"]
    assert served["parsed"]["parsed"] > 0
    assert served["raw"]["folded"] == served["database"]["folded"] == 0
    assert served["parsed"]["folded"] > 0 and served["raw, with folds kept"]["folded"] > 0


async def test_a_stream_another_instance_extended_is_read_from_the_database(
    scoring_pool: asyncpg.Pool, policies: Mapping[str, Policy]
) -> None:
    events = demo_events()
    nip = next(e.subject for e in events if e.type == "realisation.recorded")
    own = [n for n, e in enumerate(events) if e.subject == nip]
    later, last = own[-2], own[-1]  # the employee's last two events: one for the other instance, one for us
    before = [e for n, e in enumerate(events) if n not in (later, last)]
    # served by the JSON tier, by the parsed one, by the folds kept, had they not been checked
    for parsed, folds in ((0, 0), (50_000, 0), (50_000, 50_000)):
        async with scoring_pool.acquire() as conn:
            await conn.execute(_RESET)
        ours = ScoringStore(scoring_pool, cache_events=parsed, cache_raw_bytes=1 << 30)
        projector = Projector(ours, policies, FoldCache(folds))
        await _project(projector, _records(before), batch=60)
        other = Projector(ScoringStore(scoring_pool), policies)
        await _project(other, _records([events[later]], first_offset=len(before)), batch=1)
        from_database = ours.served["database"]
        await _project(projector, _records([events[last]], first_offset=len(before) + 1), batch=1)
        folded = ours.served["folded"]
        assert ours.served["database"] == from_database + 1
        assert ours.served["folded"] == folded
        async with scoring_pool.acquire() as conn:
            basis = orjson.loads(await conn.fetchval(
                "SELECT result::text FROM scoring.appraisals WHERE nip = $1 AND period = $2",
                nip, events[last].period))["basis_event_ids"]
        assert str(events[later].event_id) in basis or events[later].period != events[last].period


async def test_what_a_rolled_back_batch_appraised_is_not_kept(
    scoring_pool: asyncpg.Pool, policies: Mapping[str, Policy]
) -> None:
    """A batch that fails after appraising leaves the folds as the last committed batch left them: its events,
    delivered again, are appraised onto those, and the read model is the one the database alone gives."""
    events = demo_events()
    cut = _last_realisation(events)
    nip, records = events[cut].subject, _records(events)
    before, again = records[:cut], records[cut:]
    async with scoring_pool.acquire() as conn:
        await conn.execute(_RESET)
        from_database = Projector(ScoringStore(scoring_pool, cache_events=0), policies, FoldCache(0))
        await _project(from_database, before, batch=60)
        await _project(from_database, again, batch=len(again))
        expected = await _outcome(conn)
        await conn.execute(_RESET)
        folds: FoldCache = FoldCache(50_000)
        store = ScoringStore(scoring_pool)
        projector = Projector(store, policies, folds)
        await _project(projector, before, batch=60)
        kept = folds.get(nip)[0]
        with pytest.raises(asyncpg.DataError):  # the positions cannot be written: the transaction rolls back
            await projector.handle(again, [Position(topics.EVIDENCE, "not a partition", 0)])  # type: ignore[arg-type]
        assert folds.get(nip)[0] is kept
        await projector.handle(again, next_positions_of(again))
        assert folds.get(nip)[0] is not kept and store.served["folded"] > 0
        assert await _outcome(conn) == expected


async def test_streams_stay_cached_while_the_folds_serve(
    scoring_pool: asyncpg.Pool, policies: Mapping[str, Policy]
) -> None:
    """Employees re-appraised from the folds, their streams not needed, still have them kept up to date: whoever
    must be read again later (a unit-level event re-routes everyone in its period, a fold given way) is parsed
    from memory, not read back from PostgreSQL."""
    events = demo_events()
    cut = _last_realisation(events)
    records = _records(events)
    async with scoring_pool.acquire() as conn:
        await conn.execute(_RESET)
    store = ScoringStore(scoring_pool, cache_events=0, cache_raw_bytes=1 << 30)
    await _project(Projector(store, policies, FoldCache(50_000)), records[:cut], batch=60)
    assert store.served["folded"] > 0
    from_database = store.served["database"]
    await _project(Projector(store, policies, FoldCache(0)), records[cut:], batch=len(records) - cut)
    assert store.served["database"] == from_database
