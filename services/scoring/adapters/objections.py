"""The read model's objections: stored results that carry an objection (REGULATION.md §2.4; issue 4).

Read-only over `scoring.appraisals` (the projector is its only writer); the rows are judged against a date by
`services.scoring.app.objections`.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson


async def objection_results(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Every stored appraisal result with an objection (filed, overdue or decided), by NIP and period."""
    rows = await conn.fetch(
        """SELECT result::text AS result FROM scoring.appraisals
           WHERE jsonb_typeof(result -> 'objection') = 'object'
           ORDER BY nip, period"""
    )
    return [orjson.loads(r["result"]) for r in rows]
