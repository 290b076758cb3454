"""Browser sessions (ADR 0007): the `objektif_session` cookie, its CSRF fence, and the check that the key a
session was signed in with is still active, asked of the evidence service (`GET /sources/{source_id}`), which
owns source keys.

The cookie holds the read API's HMAC token (services/scoring/app/access.py) with the key id (`kid`) and grants;
it is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page sends it), `Path=/`, `Secure`
over https, and lives SESSION_SECONDS. A cookie-authenticated request other than GET must send the session's
CSRF value in `X-Objektif-CSRF` and, when it has an `Origin`, come from this service's own.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from starlette.requests import Request
from starlette.responses import Response

from contracts.signing import unb64
from services.scoring.app.access import InvalidToken, Principal, verify_token
from services.scoring.app.people import (
    SESSION_SECONDS,
    CsrfRefused,
    PeopleError,
    SessionKeyInactive,
    csrf_ok,
    csrf_value,
)

SESSION_COOKIE = "objektif_session"
CSRF_HEADER = "x-objektif-csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: How long the evidence service's answer about a source's keys is trusted for a session's re-check.
KEY_CACHE_SECONDS = 10.0
#: GET `/sources/{source_id}` of the evidence service: its JSON, or None when no such source is registered.
SourceLookup = Callable[[str], Awaitable[dict[str, Any] | None]]


class KeysUnavailable(PeopleError):
    """The evidence service did not say which keys are active: a session is not trusted without it."""

    status, code = 503, "keys_unavailable"


def evidence_sources(base_url: str, timeout: float = 5.0) -> SourceLookup:
    """A SourceLookup over the evidence service's HTTP side at `base_url`."""
    root = base_url.rstrip("/")

    async def lookup(source_id: str) -> dict[str, Any] | None:
        async with httpx.AsyncClient(timeout=timeout) as client:
            answer = await client.get(f"{root}/sources/{quote(source_id, safe='')}")
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body

    return lookup


class Throttle:
    """A token bucket per client address for the routes anyone may call (enrol, challenge, sign-in): each
    sign-in asks the evidence service afresh and an enrolment locks its code's row, so one client must not be
    able to make the service do that without bound. `take(client)` is 0.0 when the request may go ahead, else
    the seconds until it could; `clock` is monotonic seconds (injected, so tests need not sleep)."""

    def __init__(self, rate_per_second: float = 10.0, burst: int = 60, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._max, self._clock = rate_per_second, float(burst), max_clients, clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client: str) -> float:
        """Spend one token of `client`'s bucket, or say how long until one is there."""
        now = self._clock()
        tokens, then = self._buckets.pop(client, (self._burst, now))
        tokens = min(self._burst, tokens + (now - then) * self._rate)
        wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self._rate
        self._buckets[client] = (tokens - 1.0 if wait == 0.0 else tokens, now)  # dicts keep insertion order
        while len(self._buckets) > self._max:  # forget the least recently seen: their bucket starts full again
            del self._buckets[next(iter(self._buckets))]
        return wait

    def refusal(self, request: Request) -> Response | None:
        """429 with Retry-After when the request's client is over its rate, else None (and a token spent)."""
        wait = self.take(request.client.host if request.client else "unknown")
        if wait <= 0:
            return None
        body = b'{"error":"rate_limited","message":"terlalu banyak permintaan; coba lagi nanti / too many requests"}'
        return Response(body, status_code=429, media_type="application/json",
                        headers={"Retry-After": str(max(1, round(wait + 0.5)))})


def refuse_foreign_origin(request: Request) -> None:
    """Raise CsrfRefused when the request says it comes from a page of another origin than this service's."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise CsrfRefused("permintaan dari situs lain ditolak / a request from another site is refused")


class KeyDirectory:
    """The active keys of person sources, from the evidence service; a session's re-check may use an answer
    up to KEY_CACHE_SECONDS old, a sign-in always asks afresh."""

    def __init__(self, lookup: SourceLookup, ttl: float = KEY_CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._lookup, self._ttl, self._clock = lookup, ttl, clock
        self._cache: dict[str, tuple[float, dict[str, bytes]]] = {}

    async def active_keys(self, nip: str, *, fresh: bool = False) -> dict[str, bytes]:
        """key id → raw public key of `nip:<nip>`'s active keys (empty when not registered); raises
        KeysUnavailable when the evidence service cannot be asked."""
        source_id = f"nip:{nip}"
        cached = self._cache.get(source_id)
        if not fresh and cached is not None and self._clock() - cached[0] < self._ttl:
            return cached[1]
        try:
            source = await self._lookup(source_id)
        except (httpx.HTTPError, ValueError) as exc:
            raise KeysUnavailable(f"layanan bukti tidak menjawab / the evidence service did not answer: {exc}"
                                  ) from exc
        keys: dict[str, bytes] = {}
        for key in (source or {}).get("keys", ()):
            raw = unb64(str(key.get("public_key", "")))
            if key.get("status") == "active" and raw is not None and len(raw) == 32:
                keys[str(key["key_id"])] = raw
        self._cache[source_id] = (self._clock(), keys)
        if len(self._cache) > 10_000:  # bounded: drop the oldest answers
            for stale in sorted(self._cache, key=lambda s: self._cache[s][0])[:1_000]:
                del self._cache[stale]
        return keys

    def forget(self, nip: str) -> None:
        """Drop the cached answer for `nip` (after a registration or revocation this instance sent)."""
        self._cache.pop(f"nip:{nip}", None)


class Sessions:
    """Reads and writes the session cookie and checks its fences."""

    def __init__(self, secret: str, keys: KeyDirectory, clock: Callable[[], datetime],
                 name_of: Callable[[str], Awaitable[str | None]] | None = None) -> None:
        """`name_of`: the person's name as the structure records it (for `GET /api/me`)."""
        self._secret, self.keys, self._clock, self._name_of = secret, keys, clock, name_of

    def cookie_principal(self, request: Request) -> Principal:
        """The verified holder of the request's session cookie; for a non-GET request also the CSRF value and
        the origin. Raises InvalidToken, TokenExpired or CsrfRefused."""
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            raise InvalidToken("no bearer token and no session")
        viewer = verify_token(token, self._secret, self._clock())
        if request.method not in SAFE_METHODS:
            refuse_foreign_origin(request)
            if not csrf_ok(token, request.headers.get(CSRF_HEADER), self._secret.encode()):
                raise CsrfRefused("header X-Objektif-CSRF tidak ada atau salah / X-Objektif-CSRF missing or wrong")
        return viewer

    async def check_key(self, viewer: Principal) -> None:
        """Raise SessionKeyInactive when the key `viewer` signed in with is no longer active (revoked, or
        replaced by a new enrolment); the answer may be KEY_CACHE_SECONDS old."""
        if viewer.key_id is None or viewer.nip is None:
            return
        if viewer.key_id not in await self.keys.active_keys(viewer.nip):
            raise SessionKeyInactive("kunci sesi ini sudah dicabut atau diganti; masuk lagi / the key of this "
                                     "session was revoked or replaced; sign in again")

    async def about(self, request: Request, viewer: Principal) -> dict[str, Any]:
        """What `GET /api/me` adds: the viewer's name and, for a cookie session, its CSRF value."""
        name = await self._name_of(viewer.nip) if viewer.nip and self._name_of else None
        body: dict[str, Any] = {"name": name}
        token = request.cookies.get(SESSION_COOKIE)
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if token and not (scheme.lower() == "bearer" and bearer.strip()):  # the cookie authenticated it
            body["csrf"] = csrf_value(token, self._secret.encode())
        return body

    def csrf_of(self, token: str) -> str:
        """The CSRF value of a session token just minted."""
        return csrf_value(token, self._secret.encode())

    @staticmethod
    def _secure(request: Request) -> bool:
        return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"

    def set_cookie(self, response: Response, request: Request, token: str) -> None:
        """Put the session token in the cookie (HttpOnly, SameSite=Strict, Path=/, Secure over https)."""
        response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_SECONDS, path="/", secure=self._secure(request),
                            httponly=True, samesite="strict")

    def clear_cookie(self, response: Response, request: Request) -> None:
        """End the session in the browser."""
        response.delete_cookie(SESSION_COOKIE, path="/", secure=self._secure(request), httponly=True,
                               samesite="strict")
