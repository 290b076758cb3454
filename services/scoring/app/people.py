"""The rules of people in the loop (ADR 0007, docs/people.md): enrolment codes, sign-in challenges, CSRF values,
and what a signed-in person is. No I/O and no clock: `now` is passed in; randomness only where a secret is made
(`new_code`, `new_challenge` without a nonce).

- **Enrolment code**: 10 Crockford base32 characters (50 bits) drawn with `secrets`, shown `XXXXX-XXXXX`; what a
  person types is normalised (case, dashes, spaces; I and L read as 1, O as 0), and only its SHA-256 is stored.
- **Challenge**: `c1.<nonce>.<expiry>.<MAC>`, the MAC an HMAC-SHA256 under the token secret over the nonce, the
  expiry and the NIP, so the server keeps nothing until the challenge is used (then its nonce, once).
- **Sign-in message**: ASCII `objektif-signin-v1\\n<host>\\n<nip>\\n<challenge>`, signed with the browser's key;
  the host binds the signature to this service (a page elsewhere cannot relay it).
- **CSRF value**: an HMAC of the session token, so it needs no storage and changes with every session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.scoring.app.access import AccessError, Role

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
#: What BKPSDM may grant at enrolment (`objektif enrol --grant`).
GRANTS = frozenset({"admin", "auditor"})
CHALLENGE_SECONDS = 120
SESSION_SECONDS = 60 * 60
SIGNIN_TAG = "objektif-signin-v1"
#: The types a person signs (the evidence gate decides each; docs/people.md "Acts").
PERSON_TYPES = frozenset({
    "behaviour.rated", "rating.pejabat_penilai", "feedback.given", "result.delivered", "objection.filed",
    "objection.explanation.requested", "objection.explanation.given", "objection.decided",
})
_TYPED_ALIASES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_CHALLENGE_TAG = b"objektif-challenge-v1"
_CSRF_TAG = b"objektif-csrf-v1"


class PeopleError(AccessError):
    """Base of the people rules' errors; `status` and `code` are what the HTTP answer says."""

    status = 400
    code = "bad_request"


class CodeMalformed(PeopleError):
    """The text is not 10 Crockford base32 characters."""

    status, code = 404, "code_unknown"


class CodeUnknown(PeopleError):
    """No enrolment code with this hash was issued."""

    status, code = 404, "code_unknown"


class CodeUsed(PeopleError):
    """An enrolment code is single use."""

    status, code = 410, "code_used"


class CodeExpired(PeopleError):
    """An enrolment code is valid until its expiry only."""

    status, code = 410, "code_expired"


class UnknownNip(PeopleError):
    """A code is issued only to someone the structure records (an `employee.assigned` of that NIP)."""

    status, code = 404, "unknown_nip"


class ChallengeInvalid(PeopleError):
    """The challenge was not made by this service for this NIP."""

    status, code = 401, "challenge_invalid"


class ChallengeExpired(PeopleError):
    """A challenge is answered within CHALLENGE_SECONDS."""

    status, code = 401, "challenge_expired"


class ChallengeUsed(PeopleError):
    """A challenge signs in once (its nonce is recorded)."""

    status, code = 401, "challenge_used"


class SignatureInvalid(PeopleError):
    """The sign-in message is not signed by an active key of the person."""

    status, code = 401, "signature_invalid"


class NotEnrolled(PeopleError):
    """The person has no registered key (enrol with a code first)."""

    status, code = 401, "not_enrolled"


class SessionKeyInactive(PeopleError):
    """The key a session was signed in with was revoked or replaced: the session ends with it."""

    status, code = 401, "session_revoked"


class CsrfRefused(PeopleError):
    """A cookie-authenticated change needs the session's CSRF value and must come from this service's origin."""

    status, code = 403, "csrf"


class NotYourNip(PeopleError):
    """A session acts only in the name of its own NIP."""

    status, code = 403, "not_your_nip"


class GrantMissing(PeopleError):
    """The route is for holders of a grant (BKPSDM's admin)."""

    status, code = 403, "forbidden"


# --- enrolment codes ------------------------------------------------------------------------------------------


def new_code() -> str:
    """A fresh enrolment code, normalised (10 Crockford base32 characters, no dash)."""
    return "".join(secrets.choice(CROCKFORD) for _ in range(CODE_LENGTH))


def shown(code: str) -> str:
    """The code as people read it: `XXXXX-XXXXX`."""
    return f"{code[:5]}-{code[5:]}"


def normalise_code(text: str) -> str:
    """What a person typed, as the code it means: upper case, dashes and spaces dropped, I/L → 1, O → 0;
    raises CodeMalformed when that is not 10 Crockford base32 characters."""
    code = "".join(text.split()).replace("-", "").upper().translate(_TYPED_ALIASES)
    if len(code) != CODE_LENGTH or any(c not in CROCKFORD for c in code):
        raise CodeMalformed("kode pendaftaran tidak dikenal / unknown enrolment code")
    return code


def code_sha256(code: str) -> bytes:
    """The stored form of a code: SHA-256 of its normalised text."""
    return hashlib.sha256(normalise_code(code).encode("ascii")).digest()


def check_code(expires_at: datetime, used_at: datetime | None, now: datetime) -> None:
    """Raise CodeUsed or CodeExpired unless an issued code may still enrol at `now`."""
    if used_at is not None:
        raise CodeUsed("kode ini sudah dipakai / this code was already used")
    if now >= expires_at:
        raise CodeExpired("kode ini sudah kedaluwarsa / this code has expired")


# --- challenges and the sign-in message -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Challenge:
    """A verified challenge: its nonce (recorded once used) and expiry (unix seconds)."""

    nonce: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _challenge_mac(secret: bytes, nonce: str, expires_at: int, nip: str) -> str:
    message = b"|".join((_CHALLENGE_TAG, nonce.encode(), str(expires_at).encode(), nip.encode()))
    return _b64(hmac.new(secret, message, hashlib.sha256).digest())


def new_challenge(nip: str, secret: bytes, now: datetime, nonce: str | None = None) -> tuple[str, int]:
    """A challenge for `nip`, valid CHALLENGE_SECONDS from `now`, and its expiry (unix seconds)."""
    nonce = nonce or _b64(secrets.token_bytes(16))
    expires_at = int(now.timestamp()) + CHALLENGE_SECONDS
    return f"c1.{nonce}.{expires_at}.{_challenge_mac(secret, nonce, expires_at, nip)}", expires_at


def check_challenge(challenge: str, nip: str, secret: bytes, now: datetime) -> Challenge:
    """The nonce and expiry of a challenge this service made for `nip`; raises ChallengeInvalid or
    ChallengeExpired. Whether it was used already is the store's to say (its nonce is recorded)."""
    parts = challenge.split(".")
    if len(parts) != 4 or parts[0] != "c1" or not parts[2].isdigit() or not parts[1]:
        raise ChallengeInvalid("bukan tantangan masuk / not a sign-in challenge")
    nonce, expires_at = parts[1], int(parts[2])
    if not hmac.compare_digest(parts[3], _challenge_mac(secret, nonce, expires_at, nip)):
        raise ChallengeInvalid("tantangan tidak dibuat untuk NIP ini / challenge not made for this NIP")
    if now.timestamp() >= expires_at:
        raise ChallengeExpired("tantangan kedaluwarsa, minta yang baru / challenge expired, ask for a new one")
    return Challenge(nonce, expires_at)


def signin_message(host: str, nip: str, challenge: str) -> bytes:
    """What the browser signs to sign in: `objektif-signin-v1\\n<host>\\n<nip>\\n<challenge>`, ASCII."""
    return f"{SIGNIN_TAG}\n{host}\n{nip}\n{challenge}".encode("ascii")


# --- sessions -------------------------------------------------------------------------------------------------


def csrf_value(session_token: str, secret: bytes) -> str:
    """The CSRF value of a session: HMAC-SHA256 of its token under the token secret (domain-separated)."""
    return _b64(hmac.new(secret, _CSRF_TAG + b"|" + session_token.encode(), hashlib.sha256).digest())


def csrf_ok(session_token: str, sent: str | None, secret: bytes) -> bool:
    """Whether `sent` is the session's CSRF value (compared in constant time)."""
    return sent is not None and hmac.compare_digest(sent, csrf_value(session_token, secret))


def current_pejabat_penilai(assignments: Sequence[Mapping[str, Any]], now: datetime) -> dict[str, str | None]:
    """NIP → Pejabat Penilai of each employee's assignment in force at `now` (the latest `effective_from` on or
    before it; superseded assignments do not count), from `employee.assigned` bodies in sequence order."""
    superseded = {a.get("supersedes") for a in assignments if a.get("supersedes")}
    chosen: dict[str, tuple[str, int, str | None]] = {}
    for i, a in enumerate(assignments):
        if a.get("event_id") in superseded:
            continue
        payload = a.get("payload") or {}
        effective = str(payload.get("effective_from", ""))
        if _after(effective, now):
            continue
        rank = (effective, i, payload.get("pejabat_penilai_nip"))
        if a["subject"] not in chosen or rank[:2] >= chosen[a["subject"]][:2]:
            chosen[a["subject"]] = rank
    return {nip: pp for nip, (_e, _i, pp) in chosen.items()}


def _after(effective: str, now: datetime) -> bool:
    """Whether an `effective_from` lies after `now`; a time without an offset is read as UTC (the contract's
    datetime accepts one), and an unreadable one as in force rather than as nobody's assignment."""
    try:
        when = datetime.fromisoformat(effective.replace("Z", "+00:00"))
    except ValueError:
        return False
    return (when if when.tzinfo is not None else when.replace(tzinfo=UTC)) > now


def role_of(nip: str, grants: Iterable[str], assignments: Sequence[Mapping[str, Any]], now: datetime) -> Role:
    """What a signed-in person is: an auditor when granted so; a superior when an assignment in force makes him
    or her someone's Pejabat Penilai (`assignments`: those of the employees who ever named `nip`); else an
    employee. `admin` is a grant, not a role: it adds the administration routes to the person's own."""
    if "auditor" in grants:
        return Role.AUDITOR
    appraised = [n for n, pp in current_pejabat_penilai(assignments, now).items() if pp == nip and n != nip]
    return Role.SUPERIOR if appraised else Role.EMPLOYEE


def check_grants(grants: Iterable[str]) -> frozenset[str]:
    """The grants, if each is one BKPSDM may give (GRANTS); raises ValueError otherwise."""
    wanted = frozenset(grants)
    unknown = wanted - GRANTS
    if unknown:
        raise ValueError(f"unknown grant {sorted(unknown)}: one of {sorted(GRANTS)}")
    return wanted
