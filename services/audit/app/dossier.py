"""The appeal dossier (berkas keberatan) of one employee and period (issue 9; REGULATION.md §2.4: a keberatan
is decided on the record as it stood): every ledgered event about them with its evidence references, every
result published over time, each leaf's inclusion proof under the latest checkpoint, and that signed
checkpoint. `render_html` turns it into one self-contained page (services/audit/app/dossier_html.py).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from contracts import topics
from services.audit.adapters import queries
from services.audit.adapters.queries import Leaf
from services.audit.app.dossier_html import render_html
from services.audit.app.proofs import Covered, latest_covered, leaf_proofs

__all__ = ["THREAD_TYPES", "Dossier", "DossierEvent", "DossierResult", "envelope_of", "gather", "render_html"]

#: The keberatan thread (§2.4; issue 4): the delivery that starts the clock, the objection, the explanations asked
#: and given, and the Atasan Pejabat Penilai's final decision.
THREAD_TYPES = (
    "result.delivered",
    "objection.filed",
    "objection.explanation.requested",
    "objection.explanation.given",
    "objection.decided",
)


@dataclass(frozen=True, slots=True)
class DossierEvent:
    """One ledgered event: where it sits, what it says, its evidence references and its inclusion proof."""

    leaf_index: int
    event_id: UUID
    topic: str
    type: str
    envelope: dict[str, Any] | None
    body: bytes | None
    leaf_hash: bytes
    proof: tuple[bytes, ...] | None
    partition: int = 0
    partition_proof: tuple[bytes, ...] | None = None

    @property
    def submitted_type(self) -> str | None:
        """The type of the event as submitted: its own, or for a refusal the type of the refused submission."""
        if self.topic != topics.REJECTIONS:
            return self.type
        payload = (self.envelope or {}).get("payload") or {}
        try:
            original = orjson.loads(base64.b64decode(str(payload.get("original_b64", "")), validate=True))
        except (ValueError, orjson.JSONDecodeError):
            return None
        found = original.get("type") if isinstance(original, dict) else None
        return found if isinstance(found, str) else None

    @property
    def evidence(self) -> tuple[dict[str, Any], ...]:
        """The evidence references the payload carries (documents, systems, content hashes)."""
        payload = (self.envelope or {}).get("payload") or {}
        found = payload.get("evidence")
        if isinstance(found, dict):
            return (found,)
        if isinstance(found, list):
            return tuple(e for e in found if isinstance(e, dict))
        return ()


@dataclass(frozen=True, slots=True)
class DossierResult:
    """One published `score.computed`, in ledger order."""

    leaf_index: int
    event_id: UUID
    result: dict[str, Any]
    partition: int = 0


@dataclass(frozen=True, slots=True)
class Dossier:
    """Everything the page shows."""

    nip: str
    period: str
    events: tuple[DossierEvent, ...]
    results: tuple[DossierResult, ...]
    covered: Covered | None
    vkey: str | None

    @property
    def thread(self) -> tuple[DossierEvent, ...]:
        """The keberatan thread in ledger order (§2.4): accepted steps, and refused submissions of those types
        (a late or duplicate objection) with their reasons; each keeps its inclusion proof."""
        return tuple(
            e for e in self.events if e.topic != topics.SCORES and e.submitted_type in THREAD_TYPES
        )

    @property
    def latest(self) -> dict[str, Any] | None:
        """The last published result, if any."""
        return self.results[-1].result if self.results else None


def envelope_of(leaf: Leaf) -> dict[str, Any] | None:
    """A leaf's bytes decoded as the JSON envelope they were published as; None when erased or not an object."""
    if leaf.body is None:
        return None
    try:
        value = orjson.loads(leaf.body)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


async def gather(conn: asyncpg.Connection, nip: str, period: str, *, vkey: str | None = None) -> Dossier:
    """Collect the dossier of ``nip`` in ``period`` from the ledger; proofs are under the latest checkpoint over
    every partition (ADR 0013), each leaf's through its partition's."""
    covered = await latest_covered(conn)
    events, results = [], []
    for leaf in await queries.leaves_of(conn, nip, period):
        envelope = envelope_of(leaf)
        if leaf.topic == topics.SCORES and envelope is not None:
            results.append(
                DossierResult(leaf.pos, leaf.event_id, (envelope.get("payload") or {}).get("result", {}), leaf.part)
            )
        proofs = await leaf_proofs(conn, leaf, covered)
        events.append(
            DossierEvent(
                leaf.pos, leaf.event_id, leaf.topic, leaf.type, envelope, leaf.body, leaf.leaf_hash,
                None if proofs is None else tuple(proofs[0]), leaf.part, None if proofs is None else tuple(proofs[1]),
            )
        )
    return Dossier(nip, period, tuple(events), tuple(results), covered, vkey)
