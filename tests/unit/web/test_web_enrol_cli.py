"""`objektif enrol` (objektif/commands/enrol.py): a code and its link printed, only its hash stored; an unknown
NIP and an unreachable database said in words, with a non-zero exit."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import uuid
from collections.abc import AsyncIterator

import asyncpg
import orjson
import pytest
from typer.testing import CliRunner

from objektif.cli import app
from tests.databases import fresh_database

NIP = "198001012005012003"


@pytest.fixture(scope="module")
async def dsn() -> AsyncIterator[str]:
    """The scoring schema with one recorded assignment (of NIP)."""
    async with fresh_database(f"objektif_enrol_cli_{os.getpid()}", "services.scoring.adapters") as url:
        conn = await asyncpg.connect(url)
        try:
            body = orjson.dumps({"event_id": str(uuid.uuid4()), "type": "employee.assigned", "subject": NIP,
                                 "period": "2025-Q3", "payload": {"nip": NIP, "name": "Ani Guru", "unit_id": "sd-1"}
                                 }).decode()
            await conn.execute("INSERT INTO scoring.events VALUES (1, $1, 'employee.assigned', $2, '2025-Q3', $3)",
                               uuid.uuid4(), NIP, body)
        finally:
            await conn.close()
        yield url


def stored(url: str) -> list[asyncpg.Record]:
    async def read() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetch("SELECT code_sha256, nip, grants, used_at FROM scoring.enrolments")
        finally:
            await conn.close()

    return asyncio.run(read())


def test_enrol_prints_the_code_and_its_link_and_stores_only_the_codes_hash(dsn: str) -> None:
    result = CliRunner().invoke(app, ["enrol", "--nip", NIP, "--grant", "admin", "--base-url",
                                      "https://objektif.example/", "--database-url", dsn])
    assert result.exit_code == 0, result.output
    code, link = result.stdout.split()[:2]
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}", code)
    assert link == f"https://objektif.example/#/daftar/{code}"
    (row,) = [r for r in stored(dsn) if bytes(r["code_sha256"]) ==
              hashlib.sha256(code.replace("-", "").encode()).digest()]
    assert (row["nip"], row["grants"], row["used_at"]) == (NIP, ["admin"], None)


def test_an_unknown_nip_is_refused_in_words(dsn: str) -> None:
    result = CliRunner().invoke(app, ["enrol", "--nip", "199912312020121999", "--database-url", dsn])
    assert result.exit_code == 1
    assert "unknown NIP" in result.output


def test_an_unreachable_database_is_said_in_words() -> None:
    result = CliRunner().invoke(app, ["enrol", "--nip", NIP, "--database-url",
                                      "postgresql://nobody@127.0.0.1:1/none"])
    assert result.exit_code == 2
    assert "no database" in result.output
