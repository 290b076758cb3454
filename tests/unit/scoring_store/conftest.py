"""Fixtures for the scoring service's store: a database of the session's own with the scoring schema,
emptied before each test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping

import asyncpg
import pytest

from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.domain.policy import Policy
from tests.databases import emptied_pool, fresh_database

_RESET = """
TRUNCATE scoring.events, scoring.streams, scoring.appraisals, scoring.outbox, scoring.consumer_positions,
         scoring.poison;
UPDATE scoring.partitions SET n = 0, seq = 0;
"""


@pytest.fixture(scope="session")
async def scoring_dsn() -> AsyncIterator[str]:
    async with fresh_database(f"objektif_scoring_unit_{os.getpid()}", "services.scoring.adapters") as dsn:
        yield dsn


@pytest.fixture
async def scoring_pool(scoring_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on an emptied scoring schema."""
    async with emptied_pool(scoring_dsn, _RESET) as pool:
        yield pool


@pytest.fixture(scope="session")
def policies() -> Mapping[str, Policy]:
    return load_default_policies()
