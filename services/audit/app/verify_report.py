"""What verifying the ledger reports (`verify.verify_ledger`): every problem found, with where it was found
(leaf and/or checkpoint, in which partition), and the outcome; the first `MAX_PROBLEMS` problems are kept, the
rest only counted."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

MAX_PROBLEMS = 200


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing found wrong: a machine-readable ``kind``, a sentence, and where (leaf and/or checkpoint)."""

    kind: str
    message: str
    leaf_index: int | None = None
    event_id: UUID | None = None
    checkpoint_size: int | None = None
    partition: int | None = None

    def to_json(self) -> dict[str, object]:
        """JSON-ready form; ``leaf_index`` is the leaf's index in its partition's tree."""
        return {
            "kind": self.kind,
            "message": self.message,
            "partition": self.partition,
            "leaf_index": self.leaf_index,
            "event_id": None if self.event_id is None else str(self.event_id),
            "checkpoint_size": self.checkpoint_size,
        }


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome: what was checked, and every problem found (the first `MAX_PROBLEMS`)."""

    tree_size: int
    leaves_checked: int
    erased: int
    checkpoints_checked: int
    root: bytes
    problems: tuple[Problem, ...]
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        """Whether nothing was found wrong."""
        return not self.problems

    @property
    def first_bad_leaf(self) -> Problem | None:
        """The problem at the lowest leaf index (the lowest partition first), if any problem names a leaf."""
        located = [p for p in self.problems if p.leaf_index is not None]
        return min(located, key=lambda p: (p.partition or 0, p.leaf_index or 0)) if located else None

    def to_json(self) -> dict[str, object]:
        """JSON-ready form."""
        first = self.first_bad_leaf
        return {
            "ok": self.ok,
            "tree_size": self.tree_size,
            "leaves_checked": self.leaves_checked,
            "erased": self.erased,
            "checkpoints_checked": self.checkpoints_checked,
            "root": self.root.hex(),
            "first_bad_leaf": None if first is None else first.to_json(),
            "problems": [p.to_json() for p in self.problems],
            "more_problems": self.more_problems,
        }


@dataclass
class Findings:
    problems: list[Problem] = field(default_factory=list)
    dropped: int = 0

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.dropped += 1
