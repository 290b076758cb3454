"""What a replay and a rebuild report (`replay.replay_published`, `replay.rebuild`): the outcome of replaying a
published result with the fields that differ, the rebuilt read model, and the read model's content hash."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from contracts.canonical import canonical_bytes


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """One field that differs: its path (``rating_perilaku.used``, ``iki[0].capaian``) and both values."""

    path: str
    published: Any
    replayed: Any


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """A published result and its replay: the events used, both basis hashes, and the differing fields."""

    nip: str
    period: str
    score_event_id: UUID
    score_index: int
    horizon_sequence: int
    events: int
    published_basis_hash: str
    replayed_basis_hash: str
    diffs: tuple[FieldDiff, ...]

    @property
    def match(self) -> bool:
        """Whether the replay reproduced the published result exactly (byte for byte in canonical JSON)."""
        return not self.diffs

    def to_json(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "nip": self.nip,
            "period": self.period,
            "match": self.match,
            "score_event_id": str(self.score_event_id),
            "score_index": self.score_index,
            "horizon_sequence": self.horizon_sequence,
            "events": self.events,
            "published_basis_hash": self.published_basis_hash,
            "replayed_basis_hash": self.replayed_basis_hash,
            "diffs": [{"path": d.path, "published": d.published, "replayed": d.replayed} for d in self.diffs],
        }


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """The read model rebuilt from the evidence ledgered up to ``until``, and its content hash."""

    until: int
    evidence_events: int
    appraisals: int
    content_hash: str
    published: int
    published_hash: str

    @property
    def matches_published(self) -> bool:
        """Whether it equals the last result published for each employee-period up to ``until``."""
        return self.content_hash == self.published_hash

    def to_json(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "until": self.until,
            "evidence_events": self.evidence_events,
            "appraisals": self.appraisals,
            "content_hash": self.content_hash,
            "published": self.published,
            "published_hash": self.published_hash,
            "matches_published": self.matches_published,
        }


def field_diff(published: Any, replayed: Any, path: str = "") -> list[FieldDiff]:
    """Every leaf field where two JSON values differ, by path; empty when they are equal."""
    if isinstance(published, dict) and isinstance(replayed, dict):
        out: list[FieldDiff] = []
        for key in sorted(published.keys() | replayed.keys()):
            sub = f"{path}.{key}" if path else str(key)
            out += field_diff(published.get(key), replayed.get(key), sub)
        return out
    if isinstance(published, list) and isinstance(replayed, list) and len(published) == len(replayed):
        return [
            d
            for i, (a, b) in enumerate(zip(published, replayed, strict=True))
            for d in field_diff(a, b, f"{path}[{i}]")
        ]
    return (
        []
        if canonical_bytes(published) == canonical_bytes(replayed)
        else [FieldDiff(path, published, replayed)]
    )


def content_hash(results: Iterable[Mapping[str, Any]]) -> str:
    """SHA-256 (hex) of the canonical JSON of results sorted by NIP and period: the read model's content hash.
    """
    ordered = sorted(results, key=lambda r: (str(r["nip"]), str(r["period"])))
    return hashlib.sha256(canonical_bytes(ordered)).hexdigest()
