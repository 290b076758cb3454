"""An in-memory evidence store with the PostgreSQL store's semantics (partitions gap-free in `n`, sequences from
`next_sequences`, idempotent event ids, one refusal per distinct bytes), and the evidence service's HTTP intake
over it, for the HTTP tests."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from uuid import UUID

import httpx
import orjson
from starlette.applications import Starlette

from chassis.kafka import Position
from chassis.partitions import next_sequences, partition_of
from contracts.envelope import Envelope
from services.evidence.adapters.http_intake import HttpIntakeLimits, intake_routes
from services.evidence.adapters.store import BatchOutcome, RejectionRow, Span, Tailed, accepted_bytes
from services.evidence.app.intake import Intake
from services.evidence.domain import SeenEvent
from tests.unit.evidence.evidence_world import World, build_world


class MemoryStore:
    """The intake's store port in memory. `max_concurrent` records how many batches were ever written at once."""

    def __init__(self) -> None:
        self.events: list[tuple[int, UUID, bytes]] = []
        self.tails: dict[int, list[Tailed]] = {}
        self.last: dict[int, int] = {}
        self.rejections: dict[UUID, RejectionRow] = {}
        self.positions: dict[tuple[str, int], int] = {}
        self.max_concurrent = 0
        self._writing = 0

    async def events_after(self, after: Mapping[int, int], limit: int = 10_000,
                           types: Collection[str] | None = None) -> list[Tailed]:
        tailed = [t for part in sorted(self.tails) for t in self.tails[part] if t.n > after.get(part, 0)][:limit]
        if types is None:
            return tailed
        return [t if t.value is not None and orjson.loads(t.value)["type"] in types else Tailed(t.part, t.n, None)
                for t in tailed]

    async def append_batch(
        self, accepted: Sequence[tuple[Envelope, bytes]], rejected: Sequence[RejectionRow],
        positions: Sequence[Position],
    ) -> BatchOutcome:
        self._writing += 1
        self.max_concurrent = max(self.max_concurrent, self._writing)
        try:
            await asyncio.sleep(0)  # a real transaction yields to the event loop: let a racing writer in
            known = {e for _, e, _ in self.events}
            stored: list[Envelope] = []
            duplicates: list[UUID] = []
            spans: dict[int, Span] = {}
            for envelope, original in accepted:
                if envelope.event_id in known:
                    duplicates.append(envelope.event_id)
                    continue
                known.add(envelope.event_id)
                part = partition_of(envelope.subject)
                assert envelope.recorded_at is not None
                tail = self.tails.setdefault(part, [])
                [sequence] = next_sequences(self.last.get(part, 0), part, 1,
                                            int(envelope.recorded_at.timestamp() * 1000))
                self.last[part] = sequence
                value = accepted_bytes(original, sequence, envelope.recorded_at)
                self.events.append((sequence, envelope.event_id, value))
                tail.append(Tailed(part, len(tail) + 1, value))
                spans[part] = Span(part, spans[part].first if part in spans else len(tail), len(tail))
                stored.append(envelope.model_copy(update={"sequence": sequence}))
            kept = 0
            for row in rejected:
                if row.envelope.event_id not in self.rejections:
                    self.rejections[row.envelope.event_id] = row
                    kept += 1
            self.positions.update({(p.topic, p.partition): p.offset for p in positions})
            return BatchOutcome(tuple(stored), tuple(duplicates), kept, tuple(spans[p] for p in sorted(spans)))
        finally:
            self._writing -= 1

    async def accepted_among(self, event_ids: Sequence[UUID]) -> dict[UUID, SeenEvent]:
        wanted = set(event_ids)
        return {e: SeenEvent.of(Envelope.model_validate_json(v)) for _, e, v in self.events if e in wanted}

    async def sequences_of(self, event_ids: Sequence[UUID]) -> dict[UUID, int]:
        wanted = set(event_ids)
        return {e: p for p, e, _ in self.events if e in wanted}


DEFAULT_LIMITS = HttpIntakeLimits()


class Clock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Service:
    """The gate's test organisation (tests/unit/evidence/evidence_world.py) behind the HTTP intake: the World
    signs, the HTTP client submits, the Intake decides with the World's clock and stores in memory."""

    def __init__(self, limits: HttpIntakeLimits = DEFAULT_LIMITS, *, ready: bool = True) -> None:
        self.world: World = build_world()
        self.store = MemoryStore()
        self.intake = Intake(self.store, self.world.state, clock=self.received_at,
                             data_keys=self.world.key_directory())
        self.clock = Clock()
        self.stored_calls = 0
        routes = intake_routes(lambda: self.intake if ready else None, limits=limits,
                               on_stored=self._stored, clock=self.clock)
        self.app = Starlette(routes=routes)

    def received_at(self) -> datetime:
        return self.world.now

    def _stored(self) -> None:
        self.stored_calls += 1

    def client(self, host: str = "10.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(host, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://evidence")
