"""The audit service's pure core: RFC 6962 Merkle tree, proofs, and signed checkpoints (no I/O)."""
