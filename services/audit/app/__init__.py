"""The audit service's use cases for auditors and appeal reviewers (issue 9): checkpoints, receipts and
proofs, export, verification, bit-exact replay, bounded rebuild and the appeal dossier. Each is a function of
an asyncpg connection (and, for replay, of the scoring core behind the `Scorer` port)."""
