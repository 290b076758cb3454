"""What became of each line `objektif publish` sent, read from the evidence service's output topics (pure: the
Kafka and HTTP transports live in objektif/commands/publish.py).

The evidence service answers every submission with exactly one accepted event (`objektif.evidence.v1`) or one
rejection (`objektif.rejections.v1`), except a duplicate: an event id accepted before is answered by nothing new
(docs/signing.md §5). So a line is answered
- `accepted` by an accepted event published after we started whose JSON is the line's (minus `sequence` and
  `recorded_at`, which the service adds), for the first such line;
- `rejected` by a rejection whose original bytes are the line's (an oversize line's are its first bytes);
- `duplicate` by an accepted event with the line's event id that is not its acceptance: another line's, or one
  published before we started.
The same bytes refused again make no second rejection (the service refuses them once), so a rejection published
before we started answers a line too. These last answers cannot be told from "not decided yet" (or from a
refusal still on its way) by the topics alone, so they count only once the gate has read the line
(`mark_read`: its consumer group committed past it a moment ago), or at the end.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import orjson

Status = Literal["accepted", "duplicate", "rejected", "no answer"]
_SERVER_FIELDS = ("sequence", "recorded_at")


@dataclass(frozen=True)
class Line:
    """One submission of the file: its line number, exact bytes, and what could be read from it."""

    number: int
    raw: bytes
    event_id: UUID | None
    subject: str | None
    document: dict[str, Any] | None


@dataclass(frozen=True)
class Outcome:
    """A line's answer: accepted (with the sequence), duplicate (with the first acceptance's sequence when
    seen), rejected (with the reason codes), or none yet."""

    status: Status
    sequence: int | None = None
    codes: tuple[str, ...] = ()


def read_lines(data: bytes) -> tuple[Line, ...]:
    """The non-blank lines of a JSONL file, numbered as in the file; unreadable lines are kept as they are."""
    lines = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.removesuffix(b"\r")
        if not raw.strip():
            continue
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            doc = None
        document = doc if isinstance(doc, dict) else None
        event_id = subject = None
        if document is not None:
            subject = document.get("subject") if isinstance(document.get("subject"), str) else None
            try:
                event_id = UUID(str(document.get("event_id")))
            except ValueError:
                event_id = None
        lines.append(Line(number, raw, event_id, subject, document))
    return tuple(lines)


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class Answers:
    """Collects the evidence service's answers for `lines`; `fresh` says whether an event was published after
    publishing started (offset at or past the snapshot taken before)."""

    def __init__(self, lines: tuple[Line, ...], max_bytes: int) -> None:
        self.lines = lines
        self._max = max_bytes
        self._by_id: dict[UUID, list[Line]] = {}
        for line in lines:
            if line.event_id is not None:
                self._by_id.setdefault(line.event_id, []).append(line)
        self._by_bytes: dict[bytes, list[Line]] = {}
        for line in lines:
            self._by_bytes.setdefault(_digest(line.raw[: self._max]), []).append(line)
        self._final: dict[int, Outcome] = {}
        self._pending: dict[int, Outcome] = {}  # answers from before we started, waiting for the gate to read
        self._read: set[int] = set()

    def see_accepted(self, value: bytes, fresh: bool) -> None:
        """An event on `objektif.evidence.v1`."""
        event = orjson.loads(value)
        try:
            event_id = UUID(str(event.get("event_id")))
        except ValueError:
            return
        candidates = self._by_id.get(event_id, [])
        sequence = event.get("sequence") if isinstance(event.get("sequence"), int) else None
        submitted = {k: v for k, v in event.items() if k not in _SERVER_FIELDS}
        mine = next((c for c in candidates if fresh and c.document == submitted), None)
        for line in candidates:
            if line is mine:
                self._final.setdefault(line.number, Outcome("accepted", sequence))
            else:  # the gate answers it as a duplicate, unless it refused the line before reading the id
                self._pending.setdefault(line.number, Outcome("duplicate", sequence))

    def see_rejected(self, value: bytes, fresh: bool) -> None:
        """An event on `objektif.rejections.v1`."""
        payload = orjson.loads(value).get("payload", {})
        try:
            original = base64.b64decode(payload.get("original_b64", ""), validate=True)
        except ValueError:
            return
        codes = tuple(r.get("code", "?") for r in payload.get("reasons", ()))
        for line in self._by_bytes.get(_digest(original), []):
            if len(original) < len(line.raw) and "oversize" not in codes:
                continue  # a shorter line's refusal, not this line's first bytes
            if fresh:
                self._final.setdefault(line.number, Outcome("rejected", None, codes))
            else:
                self._pending.setdefault(line.number, Outcome("rejected", None, codes))

    def mark_read(self, numbers: set[int]) -> None:
        """The gate has read these lines (its consumer group committed past them)."""
        self._read |= numbers

    def outcomes(self, *, final: bool = False) -> dict[int, Outcome]:
        """Each line's answer so far; with `final`, answers from before publishing count even for lines the gate
        was not seen to read."""
        out: dict[int, Outcome] = {}
        for line in self.lines:
            n = line.number
            if n in self._final:
                out[n] = self._final[n]
            elif n in self._pending and (final or n in self._read):
                out[n] = self._pending[n]
            else:
                out[n] = Outcome("no answer")
        return out

    def unanswered(self) -> int:
        """How many lines have no answer yet."""
        return sum(o.status == "no answer" for o in self.outcomes().values())


def summarise(outcomes: dict[int, Outcome]) -> tuple[Counter[str], Counter[str]]:
    """Lines per status, and rejected lines per reason code."""
    statuses: Counter[str] = Counter(o.status for o in outcomes.values())
    codes = Counter(c for o in outcomes.values() if o.status == "rejected" for c in o.codes)
    return statuses, codes
