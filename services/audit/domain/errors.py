"""The audit domain's exceptions: one base, one class per rule the ledger's cryptography protects."""

from __future__ import annotations


class AuditDomainError(Exception):
    """Base of every error raised by the audit service's pure domain."""


class ProofError(AuditDomainError):
    """An inclusion or consistency proof does not prove what it claims, or cannot be built as asked."""


class FrontierError(AuditDomainError):
    """A compact range (frontier) is malformed: wrong number of hashes for its size, or a bad hash."""


class CheckpointError(AuditDomainError):
    """A checkpoint (signed tree head) is malformed, or its signature fails under the trusted key."""


class NoteError(CheckpointError):
    """A C2SP signed note is malformed or not signed by the trusted key.

    A subclass of `CheckpointError` because in this service a signed note only ever carries a checkpoint,
    so callers of `open_checkpoint` need to catch one class.
    """


class TileError(AuditDomainError):
    """A tile, entry bundle or tlog-proof path or body is not what c2sp.org/tlog-tiles or tlog-proof allows."""
