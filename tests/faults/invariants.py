"""The invariants every fault scenario ends with (ARCHITECTURE.md, "Guarantees"), read from the services' own
schemas with the administrator's DSN:

- every submission ended as exactly one accepted or one rejected event (and as the one the test expected);
- nothing accepted, rejected or scored is missing downstream: the scoring copy, the ledger;
- the read model equals a clean replay (`score_stream`) of the scoring service's events and of the ledger's
  evidence leaves; no appraisal counts an event twice;
- `audit verify` passes: leaf hashes, hash chain, Merkle tree and root, signed checkpoints recompute.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson

from contracts import topics
from contracts.envelope import Envelope
from services.audit.app.checkpoints import signer_from_seed
from services.audit.app.verify import verify_ledger
from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.domain.stream import score_stream
from tests.faults.harness import FaultStack, Sent, answered, rejection_id


@dataclass
class Findings:
    """What one check found: counts for the summary and every problem as a sentence."""

    submissions: int = 0
    lost: int = 0
    duplicated: int = 0
    mismatches: int = 0
    problems: list[str] = field(default_factory=list)

    def note(self, kind: str, count: int, message: str) -> None:
        if count:
            setattr(self, kind, getattr(self, kind) + count)
            self.problems.append(message)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.mismatches)


def _norm(value: Any) -> Any:
    """JSON as plain values (jsonb arrives as text on a connection without a codec)."""
    return orjson.loads(value) if isinstance(value, str | bytes) else orjson.loads(orjson.dumps(value))


def replay(events: Iterable[Envelope], policies: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    """Appraisals of a clean replay, keyed by (NIP, period), as JSON."""
    return {(a["nip"], a["period"]): _norm(a) for a in (x.to_json() for x in score_stream(events, policies).appraisals)}


async def check(stack: FaultStack, sent: Iterable[Sent]) -> Findings:
    """Every invariant over the whole database; the submissions are all those the tests made."""
    items = list(sent)
    found = Findings(submissions=len(items))
    accepted, rejected = await answered(stack.admin_dsn, items)
    outcomes = [(s, (s.event_id in accepted) + (rejection_id(s.raw) in rejected)) for s in items]
    found.note("lost", sum(1 for _, n in outcomes if n == 0),
               f"submissions without an outcome: {[str(s.event_id) for s, n in outcomes if n == 0][:5]}")
    found.note("duplicated", sum(1 for _, n in outcomes if n > 1),
               f"submissions both accepted and rejected: {[str(s.event_id) for s, n in outcomes if n > 1][:5]}")
    unexpected = [s for s, n in outcomes if n == 1 and s.expect != "any" and
                  (s.expect == "accepted") != (s.event_id in accepted)]
    found.note("mismatches", len(unexpected), f"submissions decided otherwise than expected: "
               f"{[(str(s.event_id), s.expect, s.raw[:80]) for s in unexpected[:3]]}")
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        await _downstream(conn, found)
        await _read_model(conn, found)
        await _ledger(conn, stack, found)
    finally:
        await conn.close()
    return found


async def _ids(conn: asyncpg.Connection, sql: str) -> set[Any]:
    return {r[0] for r in await conn.fetch(sql)}


async def _downstream(conn: asyncpg.Connection, found: Findings) -> None:
    """Accepted events reach the scoring copy and the ledger; rejections and scores reach the ledger."""
    evidence = await _ids(conn, "SELECT event_id FROM evidence.events")
    rejections = await _ids(conn, "SELECT event_id FROM evidence.rejections")
    scored = await _ids(conn, "SELECT event_id FROM scoring.events")
    scores = await _ids(conn, "SELECT event_id FROM scoring.outbox")
    announced = await _ids(conn, "SELECT score_event_id FROM scoring.appraisals")
    ledger = {r["event_id"]: r["topic"] for r in await conn.fetch("SELECT event_id, topic FROM audit.leaves")}
    for name, expected, have in (
        ("accepted events missing from scoring", evidence, scored),
        ("accepted events missing from the ledger", evidence, {i for i, t in ledger.items() if t == topics.EVIDENCE}),
        ("rejections missing from the ledger", rejections, {i for i, t in ledger.items() if t == topics.REJECTIONS}),
        ("score events missing from the ledger", scores, {i for i, t in ledger.items() if t == topics.SCORES}),
        ("current appraisals whose score event is not in the outbox", announced, scores),
    ):
        missing = expected - have
        found.note("lost", len(missing), f"{name}: {len(missing)}, e.g. {sorted(map(str, missing))[:3]}")
    extra = scored - evidence
    found.note("mismatches", len(extra), f"scoring holds {len(extra)} events the evidence store never accepted")


async def _read_model(conn: asyncpg.Connection, found: Findings) -> None:
    """The read model equals a replay of the scoring service's events and of the ledger's evidence leaves."""
    policies = load_default_policies()
    stored = {(r["nip"], r["period"]): _norm(r["result"])
              for r in await conn.fetch("SELECT nip, period, result FROM scoring.appraisals")}
    twice = [k for k, v in stored.items()
             if len(set(v.get("basis_event_ids", []))) != len(v.get("basis_event_ids", []))]
    found.note("duplicated", len(twice), f"appraisals counting an event twice: {twice[:3]}")
    own = [Envelope.model_validate(_norm(r["body"])) for r in await conn.fetch(
        "SELECT body FROM scoring.events ORDER BY sequence, event_id")]
    ledgered = [Envelope.model_validate_json(bytes(r["body"])) for r in await conn.fetch(
        "SELECT d.body FROM audit.leaves l JOIN audit.leaf_data d USING (idx) WHERE l.topic = $1 ORDER BY l.idx",
        topics.EVIDENCE)]
    for source, events in (("scoring.events", own), ("the ledger's evidence leaves", ledgered)):
        replayed = replay(events, policies)
        differ = sorted(k for k in replayed.keys() | stored.keys() if replayed.get(k) != stored.get(k))
        found.note("mismatches", len(differ), f"read model differs from a clean replay of {source} for "
                   f"{len(differ)} appraisals, e.g. {differ[:3]}")
    counts = Counter(e.event_id for e in ledgered)
    found.note("duplicated", sum(1 for n in counts.values() if n > 1), "an evidence event ledgered twice")


async def _ledger(conn: asyncpg.Connection, stack: FaultStack, found: Findings) -> None:
    """`objektif audit verify`: every partition's leaves, chain, tree and head, and every checkpoint recompute."""
    import base64

    vkey = signer_from_seed(base64.b64encode(stack.checkpoint_key()).decode()).verifier_key()
    report = await verify_ledger(conn, [vkey])
    found.note("mismatches", len(report.problems) + report.more_problems,
               f"audit verify: {[p.message for p in report.problems[:3]]}")
    if report.tree_size == 0:
        found.note("mismatches", 1, "the ledger is empty")
