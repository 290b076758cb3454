"""Work done from the ledger alone, after the run: rebuilding every read model, and verifying the ledger.

- replay: the product's rebuild (`objektif audit rebuild`, `services.audit.app.replay.rebuild`) without the
  comparison with the published results: the accepted events read back from the audit ledger
  (`replay.read_evidence`), then parsed and scored by the scoring core (`score_stream` behind the CLI's
  `CoreScorer`) in one process per CPU, each over a group of employees (`replay.score_evidence`), as an auditor
  rebuilds the read model (REGULATION.md §4);
- audit verify, the bare arithmetic: every leaf's hash recomputed from its bytes (`leaf_hashes`) and compared,
  then the root of all leaf hashes (`root_from_leaf_hashes`) compared with the signed tree head;
- audit verify, the product: `services.audit.app.verify.verify_ledger` (chain, nodes, head, checkpoints), as
  `objektif audit verify` runs it.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

import asyncpg

from chassis.collector import paused_gc
from objektif.commands.audit import CoreScorer
from services.audit.app import replay as replay_app
from services.audit.app.checkpoints import signer_from_seed
from services.audit.app.verify import verify_ledger
from services.audit.domain.merkle import leaf_hashes, root_from_leaf_hashes


@dataclass(frozen=True)
class Replay:
    events: int
    appraisals: int
    processes: int
    read_seconds: float
    score_seconds: float

    def to_json(self) -> dict[str, float | int]:
        total = self.read_seconds + self.score_seconds
        return {"events": self.events, "appraisals": self.appraisals, "processes": self.processes,
                "read_seconds": round(self.read_seconds, 3),
                "parse_and_score_seconds": round(self.score_seconds, 3),
                "events_per_second": round(self.events / total, 1) if total else 0.0}


async def replay(dsn: str) -> Replay:
    """Rebuild every appraisal from the evidence events in the ledger, as `replay.rebuild` does."""
    scorer = CoreScorer()
    conn = await asyncpg.connect(dsn)
    try:
        began = time.perf_counter()
        leaves = await replay_app.read_evidence(conn)
        read = time.perf_counter() - began
        began = time.perf_counter()
        results = replay_app.score_evidence(leaves, scorer)
        scored = time.perf_counter() - began
        return Replay(len(leaves), len(results), replay_app.processes_for(len(leaves)), read, scored)
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
        began = time.perf_counter()
        with paused_gc():  # the read makes a record per leaf: collections would walk those already made
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                heads = await conn.fetch("SELECT part, size, root FROM audit.heads ORDER BY part")
                # Each table in primary-key order on its own: cheaper for the server than joining them row by row.
                stored = await conn.fetch("SELECT part, idx, leaf_hash FROM audit.leaves ORDER BY part, pos")
                rows = await conn.fetch("SELECT idx, body FROM audit.leaf_data ORDER BY idx")
        body_of = {r[0]: r[1] for r in rows}
        complete = len(rows) == len(stored) == sum(h["size"] for h in heads)
        read = time.perf_counter() - began
        began = time.perf_counter()
        hashes = leaf_hashes([body_of.get(r[1], b"") for r in stored])
        intact = complete and hashes == [r[2] for r in stored]
        by_part: dict[int, list[bytes]] = {}
        for r, h in zip(stored, hashes, strict=True):
            by_part.setdefault(r[0], []).append(h)
        intact = intact and all(root_from_leaf_hashes(by_part.get(h["part"], [])) == bytes(h["root"]) for h in heads)
        hashed = time.perf_counter() - began
        vkey = signer_from_seed(base64.b64encode(checkpoint_seed).decode()).verifier_key()
        began = time.perf_counter()
        report = await verify_ledger(conn, [vkey])
        return Verify(len(rows), read, hashed, intact, time.perf_counter() - began, len(report.problems))
    finally:
        await conn.close()
