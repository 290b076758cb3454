"""Is this submission signed by a key its source held when it arrived? (docs/signing.md, issue 6 "Sources and keys")

Administrator events (source registration, rotation, revocation, policy adoption) verify against the configured
administrator keys or a registered admin source; everything else against its source's keys. A batch member costs
one leaf hash and its audit path; the batch's Ed25519 check runs once per `BatchMemo`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from contracts import events as ev
from contracts.signing import (
    BATCH_PREFIX,
    BatchSignature,
    batch_root,
    parse_batch_signature,
    signing_bytes,
    verify_batch_root,
    verify_single,
)
from services.evidence.domain.parse import Parsed
from services.evidence.domain.reasons import Code, reason
from services.evidence.domain.state import IntakeState, KeyStatus, SourceKey

#: Types only an administrator may submit.
ADMIN_TYPES: frozenset[str] = frozenset(
    {ev.SourceRegistered.TYPE, ev.SourceKeyRotated.TYPE, ev.SourceKeyRevoked.TYPE, ev.PolicyAdopted.TYPE}
)


@dataclass
class BatchMemo:
    """Batch signature checks already made: (key id, size, root, signature) → verified. Local to one call.

    Mutable on purpose and never shared: it is a cache that `decide_batch` creates and drops, not state.
    """

    verified: dict[tuple[str, int, bytes, bytes], bool] = field(default_factory=dict)
    ed25519_checks: int = 0

    def check(self, key: SourceKey, root: bytes, batch: BatchSignature) -> bool:
        """Whether `key` signed the batch with `root`, verifying at most once per distinct batch and key."""
        memo_key = (key.key_id, batch.size, root, batch.signature)
        known = self.verified.get(memo_key)
        if known is None:
            self.ed25519_checks += 1
            known = verify_batch_root(root, batch, key.public_key)
            self.verified[memo_key] = known
        return known


def _signed_by(data: bytes, signature: str, key: SourceKey, memo: BatchMemo) -> bool:
    if not signature.startswith(BATCH_PREFIX):
        memo.ed25519_checks += 1
        return verify_single(data, signature, key.public_key)
    batch = parse_batch_signature(signature)
    if batch is None:
        return False
    root = batch_root(data, batch)
    return root is not None and memo.check(key, root, batch)


def _first_signer(data: bytes, signature: str, keys: tuple[SourceKey, ...], memo: BatchMemo) -> SourceKey | None:
    return next((k for k in keys if _signed_by(data, signature, k, memo)), None)


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
    is_batch = signature.startswith(BATCH_PREFIX)
    if is_batch and parse_batch_signature(signature) is None:
        return (reason(Code.SIGNATURE_INVALID, "malformed batch signature", path="signature"),)
    if parsed.envelope.type in ADMIN_TYPES:
        keys = _admin_keys(state)
    else:
        source = state.sources.get(parsed.envelope.source)
        if source is None:
            return (reason(Code.KEY_UNKNOWN, parsed.envelope.source[:120], path="source"),)
        if is_batch and source.kind is ev.SourceKind.PERSON:
            return (reason(Code.BATCH_NOT_ALLOWED, path="signature"),)
        keys = source.keys
    active = tuple(k for k in keys if k.status_at(received_at) is KeyStatus.ACTIVE)
    ended = tuple(k for k in keys if k.status_at(received_at) is not KeyStatus.ACTIVE)
    if not keys:
        return (reason(Code.KEY_UNKNOWN, "no administrator key configured", path="signature"),)
    data = signing_bytes(parsed.data)
    if _first_signer(data, signature, active, memo) is not None:
        return ()
    old = _first_signer(data, signature, ended, memo)
    if old is not None:
        code = Code.KEY_REVOKED if old.status_at(received_at) is KeyStatus.REVOKED else Code.KEY_RETIRED
        return (reason(code, old.key_id, path="signature"),)
    return (reason(Code.SIGNATURE_INVALID, path="signature"),)
