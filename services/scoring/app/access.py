"""Who may read what in the scoring read API: tokens, roles and the rules of REGULATION.md §1.4 and §2.3.

Tokens are HMAC-SHA256 signed (RFC 2104), carry a NIP, a role and an expiry, and are checked with the secret the
scoring service is configured with (`OBJEKTIF_SCORING_TOKEN_SECRET`). The form is
`v1.<base64url(JSON claims)>.<base64url(HMAC of "v1." + claims part)>`, claims `{"exp": unix seconds, "nip": …,
"role": …}` in canonical JSON; a browser session (ADR 0007) adds `kid` (the key id the person signed in with) and
`grants` (`admin`, `auditor`), left out when empty so that tokens minted before them read the same. No clock is
read here: the caller passes `now`.

Rules (pure functions of the principal and the structure the events recorded):
- an employee sees his or her own appraisal;
- a superior also those of the people he or she appraises as Pejabat Penilai, directly or further down the
  chain (the Atasan Pejabat Penilai decides objections, §2.4, and so must see what is objected to);
- an auditor sees everything, including individual behaviour answers;
- nobody but an auditor sees individual peer (`rekan`) or subordinate (`bawahan`) answers: only aggregates of at
  least `MIN_GROUP` raters (§1.4, Setneg practice).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson

from contracts.canonical import canonical_bytes
from contracts.envelope import NIP_PATTERN

_VERSION = "v1"
_NIP_LEN = 18
#: The smallest group of peers or subordinates whose mean may be shown to anyone but an auditor (§1.4).
MIN_GROUP = 2
#: Relations whose individual answers are never shown to the ratee (§1.4).
PROTECTED_RELATIONS = frozenset({"rekan", "bawahan"})
#: A secret shorter than this is refused: an HMAC key should have at least 128 bits.
MIN_SECRET_BYTES = 16


class AccessError(Exception):
    """Base of the read API's access errors."""


class InvalidToken(AccessError):
    """The token is malformed, or its signature does not verify under the configured secret."""


class TokenExpired(AccessError):
    """The token verified but its expiry has passed."""


class Forbidden(AccessError):
    """The principal may not see this (HTTP 403)."""


class Role(StrEnum):
    """What a token holder is."""

    EMPLOYEE = "employee"
    SUPERIOR = "superior"
    AUDITOR = "auditor"


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified holder of a token. An auditor may have no NIP (an external auditor). A browser session names
    the key id its holder signed in with (`key_id`) and what BKPSDM granted at enrolment (`grants`)."""

    nip: str | None
    role: Role
    expires_at: int
    key_id: str | None = None
    grants: frozenset[str] = frozenset()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(secret: str | bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"the token secret must have at least {MIN_SECRET_BYTES} bytes")
    return key


def _is_nip(value: object) -> bool:
    return isinstance(value, str) and len(value) == _NIP_LEN and value.isdigit()


def mint_token(
    nip: str | None, role: Role | str, expires_at: datetime, secret: str | bytes, *,
    kid: str | None = None, grants: Iterable[str] = (),
) -> str:
    """A token for `nip` in `role`, valid until `expires_at` (aware datetime). Only an auditor may lack a NIP.
    `kid` and `grants` are claimed only when given (a session's, ADR 0007)."""
    role = Role(role)
    if nip is None and role is not Role.AUDITOR:
        raise ValueError(f"a token for the role {role.value} needs a NIP")
    if nip is not None and not _is_nip(nip):
        raise ValueError(f"not a NIP ({NIP_PATTERN}): {nip!r}")
    body: dict[str, Any] = {"exp": int(expires_at.timestamp()), "nip": nip, "role": role.value}
    if kid is not None:
        body["kid"] = kid
    if grants:
        body["grants"] = sorted(set(grants))
    claims = _b64(canonical_bytes(body))
    signed = f"{_VERSION}.{claims}"
    mac = hmac.new(_key(secret), signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{_b64(mac)}"


def verify_token(token: str, secret: str | bytes, now: datetime) -> Principal:
    """The principal a token names; raises InvalidToken or TokenExpired."""
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != _VERSION:
        raise InvalidToken("not an Objektif v1 token")
    try:
        mac = _unb64(parts[2])
        claims = orjson.loads(_unb64(parts[1]))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise InvalidToken("token parts are not base64url JSON") from exc
    expected = hmac.new(_key(secret), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise InvalidToken("signature does not verify")
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        raise InvalidToken("claims lack an expiry")
    try:
        role = Role(str(claims.get("role")))
    except ValueError as exc:
        raise InvalidToken("unknown role") from exc
    nip = claims.get("nip")
    if not (_is_nip(nip) or (nip is None and role is Role.AUDITOR)):
        raise InvalidToken("claims lack a NIP")
    kid, grants = claims.get("kid"), claims.get("grants", [])
    if kid is not None and not isinstance(kid, str):
        raise InvalidToken("key id is not a string")
    if not isinstance(grants, list) or not all(isinstance(g, str) for g in grants):
        raise InvalidToken("grants are not a list of names")
    if now.timestamp() >= claims["exp"]:
        raise TokenExpired("token expired")
    return Principal(nip, role, claims["exp"], kid, frozenset(grants))


# --- the structure: who appraises whom ------------------------------------------------------------------------


def superiors_of(nip: str, pejabat_penilai: Mapping[str, str | None], depth: int = 10) -> tuple[str, ...]:
    """The chain above `nip`: the Pejabat Penilai, his or her Pejabat Penilai (the Atasan Pejabat Penilai,
    §2.3), and so on, from `pejabat_penilai` (NIP → NIP in force for the period); stops at a cycle or `depth`."""
    chain: list[str] = []
    current: str | None = nip
    for _ in range(depth):
        current = pejabat_penilai.get(current) if current is not None else None
        if current is None or current == nip or current in chain:
            break
        chain.append(current)
    return tuple(chain)


def may_view_appraisal(principal: Principal, nip: str, chain: Sequence[str]) -> bool:
    """Whether `principal` may see the appraisal of `nip`, whose chain of superiors is `chain`."""
    if principal.role is Role.AUDITOR or principal.nip == nip:
        return True
    return principal.role is Role.SUPERIOR and principal.nip in chain


def require_appraisal(principal: Principal, nip: str, chain: Sequence[str]) -> None:
    """Raise Forbidden unless `may_view_appraisal`."""
    if not may_view_appraisal(principal, nip, chain):
        raise Forbidden(f"{principal.role.value} {principal.nip} may not see the appraisal of {nip}")


def visible_members(
    principal: Principal, members: Iterable[str], chains: Mapping[str, Sequence[str]]
) -> tuple[str, ...]:
    """The members of a unit whose individual results `principal` may see (all of them for an auditor)."""
    return tuple(m for m in members if may_view_appraisal(principal, m, chains.get(m, ())))


def may_view_unit(principal: Principal, members: Iterable[str], chains: Mapping[str, Sequence[str]]) -> bool:
    """A unit's distribution is open to an auditor, to its members (counts only: everyone may know the curve
    his or her own predikat is checked against, §1.7), and to a superior of any member."""
    members = tuple(members)
    return (
        principal.role is Role.AUDITOR
        or principal.nip in members
        or bool(visible_members(principal, members, chains))
    )


def sees_individual_answers(principal: Principal) -> bool:
    """Only an auditor sees individual behaviour answers and who gave them (§1.4)."""
    return principal.role is Role.AUDITOR


def redact_behaviour(perilaku: Mapping[str, Any], principal: Principal) -> dict[str, Any]:
    """The `rating_perilaku` part of an appraisal as `principal` may see it: for anyone but an auditor, the
    per-relation means of peers and subordinates are dropped where fewer than MIN_GROUP raters gave them (a
    "mean" of one answer is that answer, §1.4), and so is that value's weighted score; which relations were
    hidden is said. The overall behaviour score and rating, aggregates over all values, stay."""
    shown = dict(perilaku)
    if sees_individual_answers(principal):
        return shown
    values = []
    for value in perilaku.get("per_value", ()):
        by_relation = {}
        hidden = []
        for relation, agg in (value.get("by_relation") or {}).items():
            if relation in PROTECTED_RELATIONS and int(agg.get("raters", 0)) < MIN_GROUP:
                hidden.append(relation)
            else:
                by_relation[relation] = agg
        # with the atasan's mean and the weights shown, the value's score would give a lone answer away too
        score = value.get("score") if not hidden else None
        values.append({**value, "score": score, "by_relation": by_relation, "hidden_relations": hidden})
    shown["per_value"] = values
    return shown
