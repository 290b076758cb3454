"""What the people's work routes read of the scoring schema (services/scoring/adapters/web_work.py): the
structure around a person, the behaviour ratings and deliveries of a period, unit names, the latest period.
Read-only, over the tables the projector writes (scoring.events, scoring.appraisals)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import asyncpg
import orjson

from contracts import events as ev


def _body(value: Any) -> dict[str, Any]:
    return orjson.loads(value) if isinstance(value, str | bytes) else dict(value)


class WorkStore:
    """The queries, over the service's pool (read when asked: it opens at startup)."""

    def __init__(self, pool_of: Callable[[], asyncpg.Pool]) -> None:
        self._pool_of = pool_of

    @property
    def pool(self) -> asyncpg.Pool:
        return self._pool_of()

    async def assigned_periods(self) -> list[str]:
        """Every period some `employee.assigned` was recorded in."""
        rows = await self.pool.fetch("SELECT DISTINCT period FROM scoring.events WHERE type = $1",
                                     ev.EmployeeAssigned.TYPE)
        return [r["period"] for r in rows]

    async def assignments_around(self, nip: str) -> list[dict[str, Any]]:
        """Every assignment (sequence order) of the employees whose ratings could involve `nip`: `nip`, the
        Pejabat Penilai any assignment of `nip` names, and everyone some assignment places under either."""
        rows = await self.pool.fetch(
            """WITH mine AS (
                 SELECT body->'payload'->>'pejabat_penilai_nip' AS pp FROM scoring.events
                 WHERE type = $1 AND subject = $2),
               around AS (SELECT $2::text AS nip UNION SELECT pp FROM mine WHERE pp IS NOT NULL)
               SELECT body FROM scoring.events WHERE type = $1 AND subject IN (
                 SELECT subject FROM scoring.events
                 WHERE type = $1 AND (subject IN (SELECT nip FROM around)
                                      OR body->'payload'->>'pejabat_penilai_nip' IN (SELECT nip FROM around)))
               ORDER BY sequence, event_id""",
            ev.EmployeeAssigned.TYPE, nip)
        return [_body(r["body"]) for r in rows]

    async def assignments_of(self, nips: Iterable[str]) -> list[dict[str, Any]]:
        """The assignments of `nips` (all periods), in sequence order."""
        rows = await self.pool.fetch(
            """SELECT body FROM scoring.events WHERE type = $1 AND subject = ANY($2::text[])
               ORDER BY sequence, event_id""", ev.EmployeeAssigned.TYPE, sorted(set(nips)))
        return [_body(r["body"]) for r in rows]

    async def feedback(self, nip: str, period: str) -> list[dict[str, Any]]:
        """The `feedback.given` events about `nip` in `period`, in sequence order."""
        rows = await self.pool.fetch(
            """SELECT body FROM scoring.events WHERE type = $1 AND subject = $2 AND period = $3
               ORDER BY sequence, event_id""", ev.FeedbackGiven.TYPE, nip, period)
        return [_body(r["body"]) for r in rows]

    async def all_assignments(self) -> list[dict[str, Any]]:
        """Every assignment recorded, in sequence order (BKPSDM's progress covers everyone)."""
        rows = await self.pool.fetch(
            "SELECT body FROM scoring.events WHERE type = $1 ORDER BY sequence, event_id", ev.EmployeeAssigned.TYPE)
        return [_body(r["body"]) for r in rows]

    async def rated(self, period: str, *, rater: str | None = None) -> dict[tuple[str, str, str], set[str]]:
        """(rater, ratee, relation) → the values rated in `period`, from the accepted `behaviour.rated` events
        (optionally only `rater`'s), aggregated here rather than read event by event."""
        rows = await self.pool.fetch(
            """SELECT body->'payload'->>'rater_nip' AS rater, subject, body->'payload'->>'relation' AS relation,
                      array_agg(DISTINCT body->'payload'->>'value') AS rated
               FROM scoring.events WHERE type = $1 AND period = $2
                 AND ($3::text IS NULL OR body->'payload'->>'rater_nip' = $3)
               GROUP BY 1, 2, 3""",
            ev.BehaviourRated.TYPE, period, rater)
        return {(r["rater"], r["subject"], r["relation"]): set(r["rated"]) for r in rows}

    async def delivered(self, period: str, nips: Iterable[str]) -> set[str]:
        """Which of `nips` had a result delivered in `period` (`result.delivered`, §2.4)."""
        rows = await self.pool.fetch(
            "SELECT DISTINCT subject FROM scoring.events WHERE type = $1 AND period = $2 AND subject = ANY($3)",
            ev.ResultDelivered.TYPE, period, sorted(set(nips)))
        return {r["subject"] for r in rows}

    async def results(self, period: str, nips: Iterable[str]) -> dict[str, dict[str, Any]]:
        """NIP → the stored appraisal of `period`, for those of `nips` that have one."""
        rows = await self.pool.fetch(
            "SELECT nip, result FROM scoring.appraisals WHERE period = $1 AND nip = ANY($2)",
            period, sorted(set(nips)))
        return {r["nip"]: _body(r["result"]) for r in rows}

    async def unit_names(self) -> dict[str, str]:
        """Unit id → its name (the last `org.unit.registered`)."""
        rows = await self.pool.fetch(
            """SELECT DISTINCT ON (subject) subject, body->'payload'->>'name' AS name FROM scoring.events
               WHERE type = $1 ORDER BY subject, sequence DESC""", ev.UnitRegistered.TYPE)
        return {r["subject"]: r["name"] for r in rows}

    async def known_subject(self, subject: str) -> bool:
        """Whether a unit of that id is registered or an employee of that NIP assigned."""
        return bool(await self.pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM scoring.events WHERE subject = $1 AND type = ANY($2))",
            subject, [ev.UnitRegistered.TYPE, ev.EmployeeAssigned.TYPE]))
