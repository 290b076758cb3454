"""A small, unique organisation per test: sources registered by the administrator, a unit, a Pejabat Penilai and
an employee with an SKP plan. Tests share one running stack, so every id here is fresh."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import orjson
import psutil
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts import topics
from contracts.merkle import leaf_hash, root_from_inclusion
from contracts.signing import b64, public_key_bytes, sign_batch, sign_envelope
from objektif.pipeline import publish
from objektif.sealing import sealed, stack_lookup
from objektif.stack import Stack
from services.audit.app.checkpoints import DEFAULT_ORIGIN
from services.audit.domain.checkpoint import NoteSigner, open_checkpoint
from tests.rfc6962_reference import reference_entry

T = TypeVar("T")
PERIOD = "2025-Q3"
AT = datetime(2025, 7, 1, 1, 0, tzinfo=UTC)


def _nip(n: int) -> str:
    """An 18-digit NIP of its own for each `n` below 10**10 (a world's base is a 32-bit hash of its tag). The
    worlds of one session share the stack: with 1,000 NIPs (as before) two worlds' people met, and one world's
    complete ratings counted in another's rating progress."""
    return f"19900101{n % 10**10:010d}"


@dataclass
class World:
    """Everything one test needs, with fresh ids."""

    stack: Stack
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    keys: dict[str, Ed25519PrivateKey] = field(default_factory=dict)
    _data_keys: Callable[[str], bytes] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        base = int(hashlib.sha256(self.tag.encode()).hexdigest()[:8], 16)
        self.unit = f"unit-{self.tag}"
        self.system = f"system.{self.tag}"
        self.penilai = _nip(base)
        self.employee = _nip(base + 1)
        self.peer = _nip(base + 2)

    def key(self, source: str) -> Ed25519PrivateKey:
        return self.keys.setdefault(source, Ed25519PrivateKey.generate())

    def data_key(self, nip: str) -> bytes:
        """The employee's public data key, from the stack's evidence service (ADR 0010)."""
        if self._data_keys is None:
            self._data_keys = stack_lookup(self.stack)
        return self._data_keys(nip)

    def envelope(self, type_: str, subject: str, payload: dict[str, Any], source: str,
                 at: datetime = AT, **extra: Any) -> dict[str, Any]:
        """An unsigned submission, its personal fields sealed to the subject's data key as every producer must."""
        return sealed({"event_id": str(uuid.uuid4()), "type": type_, "schema_version": 1,
                       "occurred_at": at.isoformat(), "source": source, "subject": subject, "period": PERIOD,
                       "payload": payload, **extra}, self.data_key)

    def registrations(self) -> list[dict[str, Any]]:
        admin = self.stack.admin_key()
        out = [sign_envelope(self.envelope("source.registered", self.system, {
            "source_id": self.system, "kind": "system", "public_key": b64(public_key_bytes(self.key(self.system))),
            "units": [self.unit], "indicators": ["aps"]}, "admin", AT - timedelta(days=1)), admin)]
        for nip in (self.penilai, self.employee, self.peer):
            src = f"nip:{nip}"
            out.append(sign_envelope(self.envelope("source.registered", src, {
                "source_id": src, "kind": "person", "public_key": b64(public_key_bytes(self.key(src))), "nip": nip,
            }, "admin", AT - timedelta(days=1)), admin))
        return out

    def structure(self) -> list[dict[str, Any]]:
        s = self.system
        events = [self.envelope("org.unit.registered", self.unit, {
            "unit_id": self.unit, "name": f"SD Negeri Uji {self.tag}", "kind": "uptd"}, s)]
        people = ((self.penilai, "Kepala Sekolah Uji", None), (self.employee, "Guru Uji", self.penilai),
                  (self.peer, "Guru Rekan", self.penilai))
        for nip, name, penilai in people:
            events.append(self.envelope("employee.assigned", nip, {
                "nip": nip, "name": name, "unit_id": self.unit, "position_id": f"{self.unit}.p", "jabatan": "Guru",
                "pejabat_penilai_nip": penilai, "effective_from": AT.isoformat()}, s))
        events.append(self.envelope("skp.planned", self.employee, {
            "pejabat_penilai_nip": self.penilai,
            "rhk": [{"rhk_id": "rhk-1", "title": "Meningkatnya partisipasi sekolah", "iki": [{
                "iki_id": "aps", "name": "Angka Partisipasi Sekolah", "target": {"low": "97", "high": "99"},
                "unit": "%", "direction": "higher"}]}]}, s, AT + timedelta(days=1)))
        return sign_batch(events, self.key(s))

    def realisation(self, value: str, at: datetime | None = None) -> dict[str, Any]:
        """A departmental system's signed realisation of the employee's APS indicator."""
        doc = f"https://dapodik.example/{self.tag}/aps/{value}"
        return sign_envelope(self.envelope("realisation.recorded", self.employee, {
            "iki_id": "aps", "value": value,
            "evidence": {"source_system": self.system, "document": doc,
                         "content_hash": "sha256:" + hashlib.sha256(doc.encode()).hexdigest()}},
            self.system, at or AT + timedelta(days=30)), self.key(self.system))

    async def setup(self) -> None:
        """Register the sources, then publish the structure, each phase once the previous one is accepted."""
        regs = self.registrations()
        await publish(self.stack.kafka_bootstrap, regs)
        await wait_for(lambda: self.accepted([r["event_id"] for r in regs]), lambda n: n == len(regs))
        structure = self.structure()
        await publish(self.stack.kafka_bootstrap, structure)
        await wait_for(lambda: self.accepted([r["event_id"] for r in structure]), lambda n: n == len(structure))

    async def accepted(self, event_ids: list[str]) -> int:
        return await query_value(self.stack, "SELECT count(*) FROM evidence.events WHERE event_id = ANY($1::uuid[])",
                                 event_ids)


async def query(stack: Stack, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def query_value(stack: Stack, sql: str, *args: Any) -> Any:
    rows = await query(stack, sql, *args)
    return rows[0][0] if rows else None


async def wait_for(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 60.0) -> T:
    """Poll `probe` until `done(value)`; fail with the last value seen."""
    deadline = time.monotonic() + timeout
    value = await probe()
    while not done(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:.0f}s; last value: {value!r}")
        await asyncio.sleep(0.2)
        value = await probe()
    return value


def kcat_env(tmp: Path) -> dict[str, str]:
    """The environment kcat runs in: with the librdkafka shipped in the confluent-kafka wheel (2.16) first on the
    library path. Debian's librdkafka 2.0.2 fails the ApiVersions handshake with the embedded broker (Tansu
    0.6.0: "ApiVersionRequest failed: Local: Read underflow"); the kcat binary itself is Debian's, unchanged."""
    import confluent_kafka

    libs = sorted((Path(confluent_kafka.__file__).parent.parent / "confluent_kafka.libs").glob("librdkafka*.so*"))
    env = dict(os.environ)
    if libs:
        (tmp / "librdkafka.so.1").symlink_to(libs[0])
        env["LD_LIBRARY_PATH"] = f"{tmp}:{env.get('LD_LIBRARY_PATH', '')}".rstrip(":")
    return env


def kcat_produce(bootstrap: str, messages: list[tuple[str, bytes]], topic: str = topics.SUBMISSIONS) -> None:
    """Publish with kcat (librdkafka's command-line client), as a departmental system's script would."""
    kcat = shutil.which("kcat")
    assert kcat, "kcat is not installed (make system-deps installs it)"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "messages.txt"
        path.write_bytes(b"".join(k.encode() + b"\t" + v + b"\n" for k, v in messages))
        done = subprocess.run([kcat, "-P", "-b", bootstrap, "-t", topic, "-K", "\t", "-l", str(path)],
                              timeout=60, capture_output=True, env=kcat_env(Path(tmp)))
        assert done.returncode == 0, f"kcat failed: {done.stderr.decode(errors='replace')[-2000:]}"


def line(envelope: dict[str, Any]) -> bytes:
    """One envelope as a single JSON line (no tabs or newlines inside)."""
    return orjson.dumps(envelope)


def leftover_processes(data_dir: Path) -> list[str]:
    """Processes still running that belong to a stack started in `data_dir` (by the demo or the benchmark): its
    services, its broker, its PostgreSQL."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "environ"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            env = proc.info["environ"] or {}
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if str(data_dir) in cmd or any(str(data_dir) in v for v in env.values()):
            found.append(f"{proc.info['pid']}: {cmd[:120]}")
    return found


# --- the ledger's partitions (ADR 0013), as a recipient of a receipt or an auditor sees them ---------------------

#: Whether the latest checkpoint over every partition covers event $1's leaf: its position is below its
#: partition's size there (NULL before the leaf or the first such checkpoint exists).
COVERED = """SELECT c.sizes[l.part + 1] > l.pos FROM audit.leaves l,
                    (SELECT sizes FROM audit.partition_checkpoints ORDER BY n DESC LIMIT 1) c
             WHERE l.event_id = $1::uuid"""


async def checkpointed(stack: Stack, event_id: str, timeout: float = 30.0) -> None:
    """Wait until a checkpoint over every partition covers the event's leaf; no command issues it: the audit
    service signs one over the grown partitions by itself."""
    await wait_for(lambda: query_value(stack, COVERED, event_id), lambda covered: covered is True, timeout=timeout)


def stack_vkey(stack: Stack) -> str:
    """The verifier key of the checkpoint key the stack gave the audit service."""
    return NoteSigner.from_private_bytes(stack.checkpoint_key(), DEFAULT_ORIGIN).verifier_key()


def log_origin(part: int) -> str:
    """The origin line of partition ``part``'s checkpoints: the log's own for partition 0, ``<origin>/p<k>`` for
    the others (docs/audit.md; written out here, not taken from the service's code)."""
    return DEFAULT_ORIGIN if part == 0 else f"{DEFAULT_ORIGIN}/p{part}"


#: The origin line of the checkpoints over every partition.
PARTITIONS_ORIGIN = f"{DEFAULT_ORIGIN}/partitions"


def check_receipt(receipt: dict[str, Any], vkey: str | None = None) -> None:
    """Both steps of a receipt, with RFC 6962 hashing only: the leaf's proof gives its partition's root, and that
    tree's head, as entry ``partition`` of the tree over every partition, gives the root of the checkpoint over
    every partition. With ``vkey``, both notes open under it and sign exactly those sizes and roots."""
    part, root, step = receipt["partition"], bytes.fromhex(receipt["root"]), receipt["partitions"]
    proof = [bytes.fromhex(h) for h in receipt["proof"]]
    assert root_from_inclusion(bytes.fromhex(receipt["leaf_hash"]), receipt["leaf_index"], receipt["tree_size"],
                               proof) == root, receipt
    assert step["index"] == part, receipt
    over_all = bytes.fromhex(step["root"])
    entry = leaf_hash(reference_entry(part, receipt["tree_size"], root))
    assert root_from_inclusion(entry, part, step["size"], [bytes.fromhex(h) for h in step["proof"]]) == over_all
    if vkey is not None:
        tree = open_checkpoint(receipt["checkpoint"], vkey, origin=log_origin(part))
        assert (tree.size, tree.root) == (receipt["tree_size"], root)
        top = open_checkpoint(step["checkpoint"], vkey, origin=PARTITIONS_ORIGIN)
        assert (top.size, top.root) == (step["size"], over_all)


def check_export_proofs(doc: dict[str, Any], vkey: str) -> None:
    """A person's export checked as its recipient would, with RFC 6962 hashing and the published key only: each
    event's proof gives its partition's root, that partition's proof the root of the checkpoint over every
    partition (ADR 0013), and the notes in the export, opened under ``vkey``, sign those sizes and roots."""
    checkpoint = doc["checkpoint"]
    root = bytes.fromhex(checkpoint["root"])
    over_all = open_checkpoint(checkpoint["note"], vkey, origin=PARTITIONS_ORIGIN)
    assert (over_all.size, over_all.root) == (checkpoint["count"], root)
    trees = {}
    for p in checkpoint["partitions"]:
        signed = open_checkpoint(p["note"], vkey, origin=log_origin(p["part"]))
        assert (signed.size, signed.root.hex()) == (p["size"], p["root"])
        trees[p["part"]] = (p["size"], signed.root)
    assert checkpoint["size"] == sum(size for size, _root in trees.values())
    assert doc["events"]
    for e in doc["events"]:
        size, tree_root = trees[e["partition"]]
        path = [bytes.fromhex(p) for p in e["inclusion_proof"]]
        assert root_from_inclusion(bytes.fromhex(e["leaf_hash"]), e["leaf_index"], size, path) == tree_root
        step = [bytes.fromhex(p) for p in e["partition_proof"]]
        head = leaf_hash(reference_entry(e["partition"], size, tree_root))
        assert root_from_inclusion(head, e["partition"], checkpoint["count"], step) == root
