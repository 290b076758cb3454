"""Queries behind the read API, over the scoring service's own schema (scoring.appraisals, scoring.events).

Read-only: the projector (services/scoring/app/project.py) is the only writer. Event bodies are returned as the
JSON the projector stored (`Envelope.model_dump(mode="json")`), results as the appraisal JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from contracts import events as ev
from contracts.envelope import NIP_PATTERN


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


class ReadModel:
    """The read side of the scoring schema."""

    def __init__(self, pool: asyncpg.Pool | Callable[[], asyncpg.Pool]) -> None:
        """`pool`, or a function that returns it once the service has opened it (the routes exist earlier)."""
        self._pool_of = pool if callable(pool) and not isinstance(pool, asyncpg.Pool) else (lambda: pool)

    @property
    def _pool(self) -> asyncpg.Pool:
        return self._pool_of()  # type: ignore[no-any-return]

    async def appraisal(self, nip: str, period: str) -> dict[str, Any] | None:
        """The stored appraisal result of one employee and period, or None."""
        async with self._pool.acquire() as conn:
            value = await conn.fetchval(
                "SELECT result FROM scoring.appraisals WHERE nip = $1 AND period = $2", nip, period
            )
        return None if value is None else _json(value)

    async def appraisals(self, period: str | None = None, unit_id: str | None = None) -> list[dict[str, Any]]:
        """Stored results, optionally of one period and/or unit, by NIP and period."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT result FROM scoring.appraisals
                   WHERE ($1::text IS NULL OR period = $1) AND ($2::text IS NULL OR unit_id = $2)
                   ORDER BY nip, period""",
                period,
                unit_id,
            )
        return [_json(r["result"]) for r in rows]

    async def stream(self, nip: str, period: str) -> list[dict[str, Any]]:
        """Every stored event of one employee and period, in evidence-sequence order."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT body FROM scoring.events WHERE subject = $1 AND period = $2 ORDER BY sequence, event_id",
                nip,
                period,
            )
        return [_json(r["body"]) for r in rows]

    async def assignments(self, nips: Iterable[str]) -> list[dict[str, Any]]:
        """The `employee.assigned` events of these employees (all periods), in sequence order."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT body FROM scoring.events WHERE type = $1 AND subject = ANY($2::text[])
                   ORDER BY sequence, event_id""",
                ev.EmployeeAssigned.TYPE,
                sorted(set(nips)),
            )
        return [_json(r["body"]) for r in rows]

    async def unit_stream(self, unit_id: str, members: Sequence[str]) -> list[dict[str, Any]]:
        """What the unit's summary is computed from: the members' events (all periods), the unit's own events,
        and the policy adoptions addressed to everyone or to a unit (they route as in `score_stream`)."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT body FROM scoring.events
                   WHERE subject = ANY($1::text[]) OR subject = $2
                      OR (type = 'policy.adopted' AND subject !~ $3)
                   ORDER BY sequence, event_id""",
                list(members),
                unit_id,
                NIP_PATTERN,
            )
        return [_json(r["body"]) for r in rows]

    async def unit_members(self, unit_id: str, period: str) -> list[str]:
        """The NIPs with an appraisal in the unit and period."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT nip FROM scoring.appraisals WHERE unit_id = $1 AND period = $2 ORDER BY nip",
                unit_id,
                period,
            )
        return [r["nip"] for r in rows]

    async def recorded_until(self, as_of: datetime) -> list[dict[str, Any]]:
        """Every event the evidence service had recorded at `as_of` (its `recorded_at`), in sequence order: the
        input of a result "as of" a time (an auditor's view)."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT body FROM scoring.events
                   WHERE (body->>'recorded_at') IS NOT NULL AND (body->>'recorded_at')::timestamptz <= $1
                   ORDER BY sequence, event_id""",
                as_of,
            )
        return [_json(r["body"]) for r in rows]

    async def summaries(
        self, *, nip: str | None = None, appraised_by: str | None = None
    ) -> list[dict[str, Any]]:
        """Short rows (NIP, name, period, unit, predikat, status) of one employee's appraisals, or of those whose
        Pejabat Penilai is `appraised_by`."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT nip, period, unit_id, result->>'name' AS name, result->>'predikat' AS predikat,
                          result->>'status' AS status
                   FROM scoring.appraisals
                   WHERE ($1::text IS NULL OR nip = $1)
                     AND ($2::text IS NULL OR result->>'pejabat_penilai_nip' = $2)
                   ORDER BY period DESC, nip""",
                nip,
                appraised_by,
            )
        return [dict(r) for r in rows]

    async def units(self) -> list[dict[str, Any]]:
        """Every unit and period with appraisals, and how many."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT unit_id, period, count(*) AS employees FROM scoring.appraisals WHERE unit_id IS NOT NULL
                   GROUP BY unit_id, period ORDER BY period DESC, unit_id"""
            )
        return [dict(r) for r in rows]
