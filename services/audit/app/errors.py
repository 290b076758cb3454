"""The audit use cases' exceptions: one base, one class per thing an auditor can be told is wrong or missing.
"""

from __future__ import annotations


class AuditError(Exception):
    """Base of every error raised by the audit use cases."""


class LeafNotFound(AuditError):
    """No leaf of the ledger holds the event asked for."""


class NotCheckpointed(AuditError):
    """The leaf exists but no checkpoint covers it yet (issue one, then ask again)."""


class NoCheckpoint(AuditError):
    """No checkpoint was issued (at all, or before the time asked for)."""


class HistoryRewritten(AuditError):
    """The ledger no longer extends the last signed checkpoint: a new one is refused
    (c2sp.org/tlog-checkpoint)."""


class StoredTreeDamaged(AuditError):
    """The stored perfect-subtree nodes are missing or disagree with the tree head."""


class NothingPublished(AuditError):
    """No `score.computed` for that employee and period was ledgered at or before the position asked for."""


class ReplayInputMissing(AuditError):
    """The ledger lacks an event (or its erased bytes) that the published result rests on."""


class TileNotFound(AuditError):
    """The tiled log has no such resource (yet): the tree is smaller than the tile or bundle asked for."""


class EntriesWithheld(AuditError):
    """An entry bundle cannot be served although its leaves exist: a leaf's bytes were lawfully erased, or an
    entry is longer than a bundle's uint16 length prefix allows."""
