"""Fixtures of the fault-injection suite: one `FaultStack` for the whole suite (its own broker, PostgreSQL and
database, so the shared e2e `stack` is never disturbed), one submitter remembering every submission, and the
terminal-summary hook that prints the figures."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults import summary
from tests.faults.harness import FaultStack, Submitter


@pytest.fixture(scope="session")
def fault_stack() -> Iterator[FaultStack]:
    """The three services on a broker and PostgreSQL that the tests may kill (started once per session)."""
    # Outside pytest's 0700 temporary root: the embedded PostgreSQL runs as its own user when we are root.
    data_dir = Path(tempfile.mkdtemp(prefix="objektif-faults-"))
    data_dir.chmod(0o755)
    s = FaultStack(data_dir, database=f"objektif_faults_{os.getpid()}")
    s.start_infrastructure()
    own_postgres = s.postgres_restartable
    try:
        asyncio.run(s.prepare(fresh=True))
        s.spawn_all()
        yield s
    finally:
        s.stop()
        if not own_postgres:  # our database on the environment's server
            asyncio.run(s.drop_database())
        if not os.environ.get("OBJEKTIF_KEEP_FAULT_LOGS"):
            shutil.rmtree(data_dir, ignore_errors=True)



@pytest.fixture(scope="session")
def submitter(fault_stack: FaultStack) -> Submitter:
    """Every submission of the suite, kept until answered."""
    return Submitter(fault_stack.kafka_bootstrap, fault_stack.admin_dsn)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the fault suite's figures after the run (without -s)."""
    if not summary.ROWS:
        return
    terminalreporter.section("Objektif fault-injection summary")
    for line in summary.table():
        terminalreporter.write_line(line)
