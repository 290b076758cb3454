"""The people tables (asyncpg): enrolment codes and used sign-in nonces (ADR 0007, schema.sql), and what the
people routes read of the structure the events recorded (scoring.events).

`issue_code` is shared by `objektif enrol`, `objektif up`'s demo and the admin route; it takes a connection or a
pool, since the CLI holds one connection with the administrator's DSN.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeAlias

import asyncpg
import orjson

from contracts import events as ev
from services.scoring.app.people import (
    ChallengeUsed,
    CodeUnknown,
    UnknownNip,
    check_code,
    check_grants,
    code_sha256,
    new_code,
    shown,
)

#: A connection (the CLI's) or the service's pool: both answer `fetchval` and `execute`.
Executor: TypeAlias = "asyncpg.Connection | asyncpg.Pool"


@dataclass(frozen=True, slots=True)
class Issued:
    """A code just issued: `code` as shown (`XXXXX-XXXXX`); only its hash was stored."""

    code: str
    nip: str
    grants: tuple[str, ...]
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A stored code's record (without the code)."""

    nip: str
    grants: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None
    key_id: str | None


def _body(value: Any) -> dict[str, Any]:
    return orjson.loads(value) if isinstance(value, str | bytes) else dict(value)


async def person(db: Executor, nip: str) -> dict[str, Any] | None:
    """The payload of the employee's last recorded assignment (name, unit, jabatan), or None."""
    value = await db.fetchval(
        """SELECT body->'payload' FROM scoring.events WHERE type = $1 AND subject = $2
           ORDER BY sequence DESC, event_id LIMIT 1""",
        ev.EmployeeAssigned.TYPE, nip)
    return None if value is None else _body(value)


async def issue_code(db: Executor, nip: str, *, grants: Iterable[str] = (), hours: float = 72, issued_by: str,
                     now: datetime) -> Issued:
    """Issue a one-time enrolment code for `nip`, valid `hours` from `now`, with `grants` (admin, auditor);
    raises UnknownNip when no assignment of that NIP is recorded, ValueError for an unknown grant."""
    granted = tuple(sorted(check_grants(grants)))
    if await person(db, nip) is None:
        raise UnknownNip(f"NIP {nip} tidak tercatat / no assignment of NIP {nip} is recorded")
    code = new_code()
    expires_at = now + timedelta(hours=hours)
    await db.execute(
        """INSERT INTO scoring.enrolments (code_sha256, nip, grants, issued_by, issued_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        code_sha256(code), nip, list(granted), issued_by, now, expires_at)
    return Issued(shown(code), nip, granted, expires_at)


class Claim:
    """A code being redeemed: its row is locked until the enrolment ends, so a second use waits and then
    finds it used (or unused again, when the gate refused the registration)."""

    def __init__(self, conn: asyncpg.Connection, digest: bytes, enrolment: Enrolment) -> None:
        self._conn, self._digest, self.enrolment = conn, digest, enrolment

    async def mark_used(self, key_id: str, now: datetime) -> None:
        """The code registered `key_id` (the gate accepted it): never usable again."""
        await self._conn.execute(
            "UPDATE scoring.enrolments SET used_at = $2, key_id = $3 WHERE code_sha256 = $1",
            self._digest, now, key_id)


class PeopleStore:
    """The people tables and reads over a pool (read when asked: the service opens it at startup)."""

    def __init__(self, pool_of: Callable[[], asyncpg.Pool]) -> None:
        self._pool_of = pool_of

    @property
    def pool(self) -> asyncpg.Pool:
        """The service's pool."""
        return self._pool_of()

    async def issue_code(self, nip: str, *, grants: Iterable[str], hours: float, issued_by: str,
                         now: datetime) -> Issued:
        """`issue_code` on the service's pool."""
        return await issue_code(self.pool, nip, grants=grants, hours=hours, issued_by=issued_by, now=now)

    @contextlib.asynccontextmanager
    async def claimed(self, code: str, now: datetime) -> AsyncIterator[Claim]:
        """The code's enrolment, locked for this transaction; raises CodeUnknown, CodeUsed or CodeExpired."""
        digest = code_sha256(code)
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """SELECT nip, grants, issued_at, expires_at, used_at, key_id FROM scoring.enrolments
                   WHERE code_sha256 = $1 FOR UPDATE""", digest)
            if row is None:
                raise CodeUnknown("kode pendaftaran tidak dikenal / unknown enrolment code")
            check_code(row["expires_at"], row["used_at"], now)
            yield Claim(conn, digest, Enrolment(row["nip"], tuple(row["grants"]), row["issued_at"],
                                                row["expires_at"], row["used_at"], row["key_id"]))

    async def grants_of_key(self, nip: str, key_id: str) -> frozenset[str]:
        """What the enrolment that registered `key_id` granted (nothing for a key registered otherwise)."""
        value = await self.pool.fetchval(
            """SELECT grants FROM scoring.enrolments WHERE nip = $1 AND key_id = $2 AND used_at IS NOT NULL
               ORDER BY used_at DESC LIMIT 1""", nip, key_id)
        return frozenset(value or ())

    async def record_nonce(self, nonce: str, expires_at: datetime, now: datetime) -> None:
        """Record a used challenge's nonce; raises ChallengeUsed when it was recorded before (by any instance).
        Expired nonces are dropped on the way: their challenges fail on expiry anyway."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM scoring.signin_nonces WHERE expires_at < $1", now)
            try:
                await conn.execute("INSERT INTO scoring.signin_nonces VALUES ($1, $2)", nonce, expires_at)
            except asyncpg.UniqueViolationError as exc:
                raise ChallengeUsed("tantangan sudah dipakai / challenge already used") from exc

    async def person(self, nip: str) -> dict[str, Any] | None:
        """The employee's last recorded assignment's payload, or None."""
        return await person(self.pool, nip)

    async def assignments_under(self, nip: str) -> list[dict[str, Any]]:
        """Every assignment (in sequence order) of the employees some assignment names `nip` the Pejabat Penilai
        of: what `people.role_of` decides whether he or she appraises someone now from."""
        rows = await self.pool.fetch(
            """SELECT body FROM scoring.events WHERE type = $1 AND subject IN (
                 SELECT subject FROM scoring.events
                 WHERE type = $1 AND body->'payload'->>'pejabat_penilai_nip' = $2)
               ORDER BY sequence, event_id""",
            ev.EmployeeAssigned.TYPE, nip)
        return [_body(r["body"]) for r in rows]

    async def roster(self, now: datetime) -> list[dict[str, Any]]:
        """`GET /api/enrolments`: every assigned employee (last assignment) with his or her enrolment state."""
        rows = await self.pool.fetch(
            """WITH latest AS (
                 SELECT DISTINCT ON (subject) subject AS nip, body->'payload' AS p FROM scoring.events
                 WHERE type = $1 ORDER BY subject, sequence DESC, event_id)
               SELECT l.nip, l.p->>'name' AS name, l.p->>'unit_id' AS unit_id, l.p->>'jabatan' AS jabatan,
                      (SELECT key_id FROM scoring.enrolments e WHERE e.nip = l.nip AND e.used_at IS NOT NULL
                       ORDER BY used_at DESC LIMIT 1) AS key_id,
                      (SELECT max(expires_at) FROM scoring.enrolments e
                       WHERE e.nip = l.nip AND e.used_at IS NULL AND e.expires_at > $2) AS code_expires_at
               FROM latest l ORDER BY l.p->>'unit_id', l.nip""",
            ev.EmployeeAssigned.TYPE, now)
        return [{"nip": r["nip"], "name": r["name"], "unit_id": r["unit_id"], "jabatan": r["jabatan"],
                 "enrolled": r["key_id"] is not None, "key_id": r["key_id"],
                 "code_pending": r["code_expires_at"] is not None,
                 "code_expires_at": r["code_expires_at"].isoformat() if r["code_expires_at"] else None}
                for r in rows]
