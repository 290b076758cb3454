"""The score events' large columns are compressed with lz4 where the server offers it (schema.sql of the scoring
and audit services; docs/performance.md, "2026-12-07 (night)"), and a schema applied again changes nothing."""

from __future__ import annotations

import os

import asyncpg
import pytest

from chassis.db import schema_sql
from tests.databases import fresh_database

#: Per service: its large columns, and a statement storing a value over the TOAST threshold in the first.
_COMPRESSED = {
    "services.scoring.adapters": (
        [("scoring.appraisals", "result"), ("scoring.outbox", "value")],
        "INSERT INTO scoring.appraisals VALUES ('n', '2025', NULL, $1::text::jsonb, 'h', gen_random_uuid(), 1)",
    ),
    "services.audit.adapters": (
        [("audit.leaf_data", "body")],
        None,  # audit rows are written through the ledger only (append-only triggers and foreign keys)
    ),
}


@pytest.mark.parametrize("package", sorted(_COMPRESSED))
async def test_large_columns_use_lz4_where_the_server_has_it(package: str) -> None:
    columns, insert = _COMPRESSED[package]
    async with fresh_database(f"objektif_toast_{os.getpid()}", package) as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            has_lz4 = await conn.fetchval(
                "SELECT 'lz4' = ANY (enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
            await conn.execute(schema_sql(package))  # applied again: nothing changes, nothing fails
            for table, column in columns:
                method = await conn.fetchval(
                    "SELECT attcompression FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2",
                    table, column)
                assert method == (b"l" if has_lz4 else b"\x00"), (table, column, method)
            if insert is not None:
                await conn.execute(insert, '{"x": "' + "ab" * 3000 + '"}')
                table, column = columns[0]
                stored = await conn.fetchval(f"SELECT pg_column_compression({column}) FROM {table}")
                assert stored == ("lz4" if has_lz4 else "pglz")
        finally:
            await conn.close()
