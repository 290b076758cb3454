"""Work done from the ledger alone, after the run: rebuilding every read model, and verifying the ledger.

- replay: the accepted events are read back from the audit ledger (streamed with a server-side cursor), parsed,
  and folded through the scoring core's `score_stream`, as an auditor rebuilds the read model (REGULATION.md §4);
- audit verify, the bare arithmetic: every leaf's hash recomputed from its bytes and compared, then the root of
  all leaf hashes (`root_from_leaf_hashes`) compared with the signed tree head;
- audit verify, the product: `services.audit.app.verify.verify_ledger` (chain, nodes, head, checkpoints), as
  `objektif audit verify` runs it.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

import asyncpg

from contracts import topics
from contracts.envelope import Envelope
from services.audit.app.checkpoints import signer_from_seed
from services.audit.app.verify import verify_ledger
from services.audit.domain.merkle import leaf_hash, root_from_leaf_hashes
from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.domain.stream import score_stream

CHUNK = 20_000


@dataclass(frozen=True)
class Replay:
    events: int
    appraisals: int
    read_seconds: float
    score_seconds: float

    def to_json(self) -> dict[str, float | int]:
        total = self.read_seconds + self.score_seconds
        return {"events": self.events, "appraisals": self.appraisals,
                "read_and_parse_seconds": round(self.read_seconds, 3), "score_seconds": round(self.score_seconds, 3),
                "events_per_second": round(self.events / total, 1) if total else 0.0,
                "score_stream_events_per_second": round(self.events / self.score_seconds, 1)
                if self.score_seconds else 0.0}


async def replay(dsn: str) -> Replay:
    """Rebuild every appraisal from the evidence events in the ledger."""
    policies = load_default_policies()
    conn = await asyncpg.connect(dsn)
    try:
        began = time.perf_counter()
        events: list[Envelope] = []
        async with conn.transaction():
            cursor = conn.cursor("""SELECT d.body FROM audit.leaves l JOIN audit.leaf_data d USING (idx)
                                    WHERE l.topic = $1 AND l.type <> 'invalid' ORDER BY l.idx""",
                                 topics.EVIDENCE, prefetch=CHUNK)
            async for row in cursor:
                events.append(Envelope.model_validate_json(row["body"]))
        read = time.perf_counter() - began
        began = time.perf_counter()
        output = score_stream(events, policies)
        return Replay(len(events), len(output.appraisals), read, time.perf_counter() - began)
    finally:
        await conn.close()


@dataclass(frozen=True)
class Verify:
    leaves: int
    read_seconds: float
    hash_seconds: float
    intact: bool
    product_seconds: float
    product_problems: int

    def to_json(self) -> dict[str, float | int | bool]:
        return {"leaves": self.leaves, "intact": self.intact, "read_seconds": round(self.read_seconds, 3),
                "hash_seconds": round(self.hash_seconds, 3),
                "leaves_per_second": round(self.leaves / self.hash_seconds, 1) if self.hash_seconds else 0.0,
                "leaves_per_second_with_read": round(self.leaves / (self.read_seconds + self.hash_seconds), 1)
                if self.read_seconds + self.hash_seconds else 0.0,
                "verify_ledger_seconds": round(self.product_seconds, 3),
                "verify_ledger_leaves_per_second": round(self.leaves / self.product_seconds, 1)
                if self.product_seconds else 0.0,
                "verify_ledger_problems": self.product_problems}


async def verify(dsn: str, checkpoint_seed: bytes) -> Verify:
    """Recompute every leaf hash and the root; then run the audit service's own full verification."""
    conn = await asyncpg.connect(dsn)
    try:
        head = await conn.fetchrow("SELECT size, root FROM audit.head WHERE id = 1")
        began = time.perf_counter()
        bodies: list[bytes] = []
        stored: list[bytes] = []
        async with conn.transaction():
            cursor = conn.cursor("""SELECT l.leaf_hash, d.body FROM audit.leaves l JOIN audit.leaf_data d
                                    USING (idx) WHERE l.idx < $1 ORDER BY l.idx""", head["size"], prefetch=CHUNK)
            async for row in cursor:
                stored.append(row["leaf_hash"])
                bodies.append(row["body"])
        read = time.perf_counter() - began
        began = time.perf_counter()
        hashes = [leaf_hash(b) for b in bodies]
        intact = hashes == stored and root_from_leaf_hashes(hashes) == bytes(head["root"])
        hashed = time.perf_counter() - began
        vkey = signer_from_seed(base64.b64encode(checkpoint_seed).decode()).verifier_key()
        began = time.perf_counter()
        report = await verify_ledger(conn, [vkey])
        return Verify(len(bodies), read, hashed, intact, time.perf_counter() - began, len(report.problems))
    finally:
        await conn.close()
