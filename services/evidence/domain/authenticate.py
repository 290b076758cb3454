"""Is this submission signed by a key its source held when it arrived? (docs/signing.md, issue 6 "Sources and
keys")

Administrator events (source registration, rotation, revocation, policy adoption) verify against the
configured administrator keys or a registered admin source; everything else against its source's keys. Within
one call, a signed batch costs one Ed25519 verification; each member then costs its leaf hash and, on average,
about one node hash (`BatchMemo`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from contracts import events as ev
from contracts.merkle import audit_path_length, audit_steps, leaf_hash, node_hash
from contracts.signing import (
    BATCH_PREFIX,
    BatchSignature,
    parse_batch_signature,
    signing_bytes,
    verify_batch_root,
    verify_single,
)
from services.evidence.domain.parse import Parsed
from services.evidence.domain.reasons import Code, reason
from services.evidence.domain.state import IntakeState, KeyStatus, SourceKey

Verifier = Callable[[SourceKey], bool]

#: Types only an administrator may submit.
ADMIN_TYPES: frozenset[str] = frozenset(
    {ev.SourceRegistered.TYPE, ev.SourceKeyRotated.TYPE, ev.SourceKeyRevoked.TYPE, ev.PolicyAdopted.TYPE}
)


Node = tuple[int, int]  # a subtree [lo, hi) of a batch's Merkle tree


@dataclass
class BatchMemo:
    """What one `decide`/`decide_batch` call has learnt about signed batches. Created and dropped per call.

    For each batch whose signature verified, keyed by (key id, size, signature), the tree nodes seen on its
    members' audit paths: a later member is proven as soon as its path reaches a node already known to be in
    that signed tree, so a whole batch costs one Ed25519 verification, N leaf hashes and about N node hashes.
    Mutable on purpose: it is a cache, not state.
    """

    trees: dict[tuple[str, int, bytes], dict[Node, bytes]] = field(default_factory=dict)
    refused: set[tuple[str, int, bytes, bytes]] = field(default_factory=set)
    ed25519_checks: int = 0
    node_hashes: int = 0

    def member_signed(self, key: SourceKey, leaf: bytes, batch: BatchSignature) -> bool:
        """Whether the member with leaf hash `leaf` belongs to a batch `key` signed, as `batch` claims."""
        if len(batch.path) != audit_path_length(batch.index, batch.size):
            return False
        tree = self.trees.get((key.key_id, batch.size, batch.signature))
        node, seen = leaf, {(batch.index, batch.index + 1): leaf}
        proven = tree is not None and tree.get((batch.index, batch.index + 1)) == leaf
        for step, sibling in zip(audit_steps(batch.index, batch.size), batch.path, strict=True):
            if proven:
                break
            self.node_hashes += 1
            node = node_hash(node, sibling) if step.left else node_hash(sibling, node)
            seen[(step.mid, step.hi) if step.left else (step.lo, step.mid)] = sibling
            seen[(step.lo, step.hi)] = node
            proven = tree is not None and tree.get((step.lo, step.hi)) == node
        if (
            tree is not None
        ):  # this signature signed one root only: a member that misses it is not in the batch
            if proven:
                tree.update(seen)
            return proven
        return self._verify_root(key, node, batch, seen)

    def _verify_root(
        self, key: SourceKey, root: bytes, batch: BatchSignature, seen: dict[Node, bytes]
    ) -> bool:
        refusal = (key.key_id, batch.size, batch.signature, root)
        if refusal in self.refused:
            return False
        self.ed25519_checks += 1
        if not verify_batch_root(root, batch, key.public_key):
            self.refused.add(refusal)
            return False
        self.trees[(key.key_id, batch.size, batch.signature)] = seen
        return True


def _verifier(data: bytes, signature: str, batch: BatchSignature | None, memo: BatchMemo) -> Verifier:
    """A test `key → signed?` for this submission."""
    if batch is None:

        def single(key: SourceKey) -> bool:
            memo.ed25519_checks += 1
            return verify_single(data, signature, key.public_key)

        return single
    leaf = leaf_hash(data)
    return lambda key: memo.member_signed(key, leaf, batch)


def _admin_keys(state: IntakeState) -> tuple[SourceKey, ...]:
    registered = (k for s in state.sources.values() if s.kind is ev.SourceKind.ADMIN for k in s.keys)
    return (*state.admin_keys, *registered)


def authenticate(
    parsed: Parsed, state: IntakeState, received_at: datetime, memo: BatchMemo
) -> tuple[ev.RejectionReason, ...]:
    """No reasons when the submission's signature verifies under a key usable at `received_at`.

    Active keys are tried first; only when none verifies are retired and revoked keys tried, to say which.
    """
    signature = parsed.envelope.signature
    if not signature:
        return (reason(Code.SIGNATURE_MISSING, path="signature"),)
    batch = parse_batch_signature(signature) if signature.startswith(BATCH_PREFIX) else None
    if batch is None and signature.startswith(BATCH_PREFIX):
        return (reason(Code.SIGNATURE_INVALID, "malformed batch signature", path="signature"),)
    if parsed.envelope.type in ADMIN_TYPES:
        keys = _admin_keys(state)
    else:
        source = state.sources.get(parsed.envelope.source)
        if source is None:
            return (reason(Code.KEY_UNKNOWN, parsed.envelope.source[:120], path="source"),)
        if batch is not None and source.kind is ev.SourceKind.PERSON:
            return (reason(Code.BATCH_NOT_ALLOWED, path="signature"),)
        keys = source.keys
    active = tuple(k for k in keys if k.status_at(received_at) is KeyStatus.ACTIVE)
    ended = tuple(k for k in keys if k.status_at(received_at) is not KeyStatus.ACTIVE)
    if not keys:
        return (reason(Code.KEY_UNKNOWN, "no administrator key configured", path="signature"),)
    signed_by = _verifier(signing_bytes(parsed.data), signature, batch, memo)
    if any(signed_by(k) for k in active):
        return ()
    old = next((k for k in ended if signed_by(k)), None)
    if old is not None:
        code = Code.KEY_REVOKED if old.status_at(received_at) is KeyStatus.REVOKED else Code.KEY_RETIRED
        return (reason(code, old.key_id, path="signature"),)
    return (reason(Code.SIGNATURE_INVALID, path="signature"),)
