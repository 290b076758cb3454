"""Events for the audit use case tests: envelopes as the services publish them (canonical JSON bytes), a
ledger to append them to, a checkpoint signer, and a stand-in for the scoring core."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from chassis.partitions import partition_of
from contracts import topics
from contracts.canonical import basis_hash, canonical_bytes
from contracts.envelope import Envelope
from services.audit.adapters.ledger import Ledger, entry_of
from services.audit.domain.checkpoint import NoteSigner

ORIGIN = "objektif.example/audit-test"
SIGNER = NoteSigner.from_private_bytes(hashlib.sha256(b"audit app test key, not a secret").digest(), ORIGIN)
OTHER_SIGNER = NoteSigner.from_private_bytes(hashlib.sha256(b"someone else's key").digest(), ORIGIN)
NIP = "198001012005011001"
OTHER_NIP = "198001012005011002"
PERIOD = "2025-Q3"
T0 = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
NOW = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)


def event_id(name: str) -> uuid.UUID:
    """A stable id per name, so tests read well."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"objektif-audit-test:{name}")


def realisation(name: str, sequence: int, value: str, nip: str = NIP) -> Envelope:
    """An accepted realisation with evidence references."""
    doc = f"https://dapodik.example/{name}"
    return Envelope(
        event_id=event_id(name),
        type="realisation.recorded",
        occurred_at=T0 + timedelta(days=sequence),
        recorded_at=T0 + timedelta(days=sequence, hours=1),
        source="system.test",
        subject=nip,
        period=PERIOD,
        payload={
            "iki_id": "aps",
            "value": value,
            "evidence": {
                "source_system": "system.test",
                "document": doc,
                "content_hash": "sha256:" + hashlib.sha256(doc.encode()).hexdigest(),
            },
        },
        sequence=sequence,
    )


def body(envelope: Envelope) -> bytes:
    """The exact bytes a service publishes (canonical JSON, no nulls)."""
    return canonical_bytes(envelope.model_dump(mode="json", exclude_none=True))


class CountingScorer:
    """A stand-in for the scoring core: the result is the sum of the realised values and the events used."""

    def appraise(
        self, events: Sequence[Envelope], nip: str | None = None, period: str | None = None
    ) -> Mapping[str, Any]:
        """One employee-period's result (all the given events when no nip/period is named)."""
        if nip is not None:
            events = [e for e in events if e.subject == nip and e.period == period]
        ids = [str(e.event_id) for e in events]
        total = sum(int(e.payload["value"]) for e in events if e.type == "realisation.recorded")
        return {
            "nip": events[-1].subject,
            "period": events[-1].period,
            "total": str(total),
            "basis_event_ids": ids,
            "basis_hash": basis_hash(ids),
        }

    def is_context(self, event: Envelope) -> bool:
        """This stand-in routes nothing across subjects."""
        return False

    def score_all(self, events: Sequence[Envelope]) -> Sequence[Mapping[str, Any]]:
        """Every stream's result."""
        keys = sorted({(e.subject, e.period) for e in events})
        return [self.appraise([e for e in events if (e.subject, e.period) == k]) for k in keys]

    def employee_of(self, type: str, subject: str) -> str | None:
        """Every event counts for its own subject alone."""
        return subject


def score(stream: Sequence[Envelope], result: Mapping[str, Any] | None = None) -> Envelope:
    """The `score.computed` announcing a result of ``stream`` (by default CountingScorer's), as scoring does.
    """
    result = dict(result if result is not None else CountingScorer().appraise(stream))
    return Envelope(
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"score:{result['basis_hash']}"),
        type="score.computed",
        occurred_at=max(e.occurred_at for e in stream),
        source="objektif.scoring",
        subject=stream[-1].subject,
        period=stream[-1].period,
        payload={
            "result": result,
            "basis_event_ids": result["basis_event_ids"],
            "basis_hash": result["basis_hash"],
            "policy": "test",
        },
        correlation_id=str(stream[-1].event_id),
    )


async def ledger(pool: asyncpg.Pool, *records: tuple[str, Envelope | bytes]) -> None:
    """Append records (topic, envelope or raw bytes) to the ledger, in order, as the audit service does."""
    entries = [
        entry_of(topic, value if isinstance(value, bytes) else body(value)) for topic, value in records
    ]
    await Ledger(pool).append(entries, [])


def evidence(*envelopes: Envelope) -> list[tuple[str, Envelope | bytes]]:
    """Records of the evidence topic."""
    return [(topics.EVIDENCE, e) for e in envelopes]


async def filled(pool: asyncpg.Pool, n: int) -> list[Envelope]:
    """A ledger of ``n`` realisations of one employee (no scores); returns them."""
    events = [realisation(f"r{i}", i + 1, str(i)) for i in range(n)]
    await ledger(pool, *evidence(*events))
    return events


async def tamper(conn: asyncpg.Connection, table: str, sql: str, *args: Any) -> None:
    """Change a ledger table behind its triggers' back, as a superuser could."""
    await conn.execute(f"ALTER TABLE audit.{table} DISABLE TRIGGER USER")
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.execute(f"ALTER TABLE audit.{table} ENABLE TRIGGER USER")


#: The partition of `filled`'s events (all of NIP), and another one (OTHER_NIP's).
P, Q = partition_of(NIP), partition_of(OTHER_NIP)
assert P != Q


def nip_in(part: int) -> str:
    """A subject whose leaves go to partition ``part``."""
    return next(n for n in (f"19800101200501{i:04d}" for i in range(10_000)) if partition_of(n) == part)


def others(n: int, nip: str = OTHER_NIP, name: str = "other") -> list[tuple[str, Envelope | bytes]]:
    """``n`` realisations of ``nip`` (by default in partition Q), as evidence records."""
    return evidence(*(realisation(f"{name}{i}", 100 + i, "1", nip) for i in range(n)))
