"""Personal fields must arrive sealed to the subject's current data key (UU PDP; ADR 0010, contracts/pdp.py).

Plaintext in a personal field is refused (`pdp.not_sealed`), so it can no longer enter the store, the topics or
the ledger by mistake; a value sealed to a key that is not the subject's current one (another person's, a destroyed
one, an unknown one) is refused too (`pdp.unknown_key`): nobody could open it where the person's data is shown.
The keys come from the caller (`Screened.pdp_subjects`, one query per batch): the gate itself stays pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from contracts import events as ev
from contracts import pdp
from contracts.envelope import Envelope
from services.evidence.domain.reasons import Code, reason

#: NIP → the ids of the data keys a personal field may be sealed to now.
SealedTo = Mapping[str, frozenset[str]]


#: No data keys known: every personal field is refused (plaintext or not).
NO_KEYS: SealedTo = {}


def needs_keys(envelope: Envelope) -> str | None:
    """The NIP whose data keys decide this submission (its subject), when it has a personal field filled in."""
    return envelope.subject if any(True for _ in pdp.personal_values(envelope.type, envelope.payload)) else None


def check_sealed(envelope: Envelope, sealed_to: SealedTo) -> tuple[ev.RejectionReason, ...]:
    """No reasons when every personal field present is sealed to one of the subject's current data keys."""
    reasons: list[ev.RejectionReason] = []
    current = sealed_to.get(envelope.subject, frozenset())
    for path, value, _put in pdp.personal_values(envelope.type, envelope.payload):
        sealed = pdp.parse(value) if isinstance(value, str) else None
        if sealed is None:
            reasons.append(reason(
                Code.PDP_NOT_SEALED, f"seal it to GET /pdp/keys/{envelope.subject[:18]} first", path=f"payload.{path}"))
        elif sealed.kid not in current:
            reasons.append(reason(Code.PDP_UNKNOWN_KEY, sealed.kid, path=f"payload.{path}"))
    return tuple(reasons)
