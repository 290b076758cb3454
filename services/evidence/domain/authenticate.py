"""Is this submission signed by a key its source held when it arrived? (docs/signing.md, issue 6 "Sources and
keys")

Administrator events (source registration, rotation, revocation, policy adoption) verify against the
configured administrator keys or a registered admin source; everything else against its source's keys. Within
one call, a signed batch costs one Ed25519 verification; when all its members are in the call, its tree is built
once and each member's audit path compared with it, as text (`services.evidence.domain.batches.BatchMemo`).

A singly signed submission's checks can be made ahead, outside the gate (`single_checks`, `verify_checks`: in
threads, while the batch's reads wait on the database); `authenticate` then takes each verdict from
`BatchMemo.singles` and still decides which key, active or ended, it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from contracts import events as ev
from contracts.signing import BATCH_PREFIX, verify_single
from services.evidence.domain.batches import BatchMemo, Malformed, SingleCheck
from services.evidence.domain.parse import Parsed, Unparsed
from services.evidence.domain.reasons import Code, reason
from services.evidence.domain.state import IntakeState, KeyStatus, Source, SourceKey

__all__ = ["ADMIN_ALSO_TYPES", "ADMIN_TYPES", "BatchMemo", "SingleCheck", "admin_signed", "authenticate",
           "single_checks", "verify_checks"]

#: Types only an administrator may submit.
ADMIN_TYPES: frozenset[str] = frozenset(
    {ev.SourceRegistered.TYPE, ev.SourceKeyRotated.TYPE, ev.SourceKeyRevoked.TYPE, ev.PolicyAdopted.TYPE,
     ev.PersonalDataErased.TYPE}
)

#: Types a departmental system in scope may submit, and an administrator too (BKPSDM closing a period from the
#: Administrasi page, signed by the registrar key: ADR 0007): from a source that is not a registered system, they
#: verify against the administrator keys.
ADMIN_ALSO_TYPES: frozenset[str] = frozenset({ev.PeriodClosed.TYPE})


def admin_signed(type_: str, source_id: str, state: IntakeState) -> bool:
    """Whether a submission of `type_` from `source_id` verifies against the administrator keys: an
    administrator type, or an ADMIN_ALSO type whose source is unregistered or an admin source."""
    if type_ in ADMIN_TYPES:
        return True
    if type_ not in ADMIN_ALSO_TYPES:
        return False
    source = state.sources.get(source_id)
    return source is None or source.kind is ev.SourceKind.ADMIN


def _admin_keys(state: IntakeState) -> tuple[SourceKey, ...]:
    registered = (k for s in state.sources.values() if s.kind is ev.SourceKind.ADMIN for k in s.keys)
    return (*state.admin_keys, *registered)


def _keys_of(parsed: Parsed, state: IntakeState) -> tuple[tuple[SourceKey, ...] | None, Source | None]:
    """The keys a submission's signature is checked against, and the source they are its own of: the
    administrator keys (no source), or its source's (None, None for a source that is not registered)."""
    if admin_signed(parsed.envelope.type, parsed.envelope.source, state):
        return _admin_keys(state), None
    source = state.sources.get(parsed.envelope.source)
    return (None, None) if source is None else (source.keys, source)


def single_checks(parsed: Iterable[Parsed | Unparsed], state: IntakeState) -> dict[SingleCheck, Ed25519PublicKey]:
    """The Ed25519 checks `authenticate` may make of the singly signed submissions among ``parsed``, against
    every key their sources hold in ``state`` (active or ended: which one verifies is what it decides), by
    (raw public key, signature, signing bytes). Keys registered later in the batch are not among them:
    `authenticate` verifies against those itself."""
    checks: dict[SingleCheck, Ed25519PublicKey] = {}
    for p in parsed:
        if not isinstance(p, Parsed) or p.batch is not None:
            continue
        signature = p.envelope.signature
        if not signature or signature.startswith(BATCH_PREFIX):
            continue
        for key in _keys_of(p, state)[0] or ():
            checks[(key.public_key.public_bytes_raw(), signature, p.message)] = key.public_key
    return checks


def verify_checks(checks: Sequence[tuple[SingleCheck, Ed25519PublicKey]]) -> dict[SingleCheck, bool]:
    """Each check's verdict (`contracts.signing.verify_single`). Pure; `cryptography` releases the GIL while it
    verifies, so several threads may run this at once."""
    return {check: verify_single(check[2], check[1], key) for check, key in checks}


def authenticate(
    parsed: Parsed, state: IntakeState, received_at: datetime, memo: BatchMemo
) -> tuple[ev.RejectionReason, ...]:
    """No reasons when the submission's signature verifies under a key usable at `received_at`.

    Active keys are tried first; only when none verifies are retired and revoked keys tried, to say which.
    """
    signature = parsed.envelope.signature
    if not signature:
        return (reason(Code.SIGNATURE_MISSING, path="signature"),)
    batch = parsed.batch
    root: bytes | None = None
    if batch is not None:
        # the audit path is read here, not when screening (BatchMemo.prove); a malformed one is still refused first
        proved = memo.prove(parsed.leaf, batch)
        if proved is Malformed.PATH:
            return (reason(Code.SIGNATURE_INVALID, "malformed batch signature", path="signature"),)
        root = proved
    elif signature.startswith(BATCH_PREFIX):
        return (reason(Code.SIGNATURE_INVALID, "malformed batch signature", path="signature"),)
    keys, source = _keys_of(parsed, state)
    if keys is None:
        return (reason(Code.KEY_UNKNOWN, parsed.envelope.source[:120], path="source"),)
    if batch is not None and source is not None and source.kind is ev.SourceKind.PERSON:
        return (reason(Code.BATCH_NOT_ALLOWED, path="signature"),)
    if not keys:
        return (reason(Code.KEY_UNKNOWN, "no administrator key configured", path="signature"),)
    if batch is None:
        singles = memo.singles

        def signed_by(key: SourceKey) -> bool:
            if singles:
                verdict = singles.get((key.public_key.public_bytes_raw(), signature, parsed.message))
                if verdict is not None:
                    return verdict
            memo.ed25519_checks += 1
            return verify_single(parsed.message, signature, key.public_key)

    else:

        def signed_by(key: SourceKey) -> bool:
            return root is not None and memo.signed(key, root, batch)

    ended: list[SourceKey] = []
    for k in keys:
        if k.status_at(received_at) is not KeyStatus.ACTIVE:
            ended.append(k)
        elif signed_by(k):
            return ()
    old = next((k for k in ended if signed_by(k)), None)
    if old is not None:
        code = Code.KEY_REVOKED if old.status_at(received_at) is KeyStatus.REVOKED else Code.KEY_RETIRED
        return (reason(code, old.key_id, path="signature"),)
    return (reason(Code.SIGNATURE_INVALID, path="signature"),)
