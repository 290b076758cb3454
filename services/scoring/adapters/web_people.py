"""The people's routes (ADR 0007, docs/people.md "Enrolment and sign-in" and "Acts"):

    POST /api/enrolments          admin: issue a one-time code for a NIP → 201 {code, link, nip, expires_at}
    GET  /api/enrolments          admin: every assigned employee and his or her enrolment
    POST /api/enrol               a code holder: register the browser's public key (registrar-signed, via the gate)
    POST /api/session/challenge   anyone: a stateless sign-in challenge for a NIP
    POST /api/session             the key holder: the signed challenge → the session cookie and its CSRF value
    POST /api/session/end         the session's holder: the cookie cleared
    POST /api/keys/revoke         admin: the registrar-signed `source.key.revoked` of a person's active keys
    POST /api/submissions         a session: one envelope signed in the browser, forwarded unchanged to the intake

The web side never signs for a person: the only envelopes it signs are the registrar's (an administrator key of
its own, OBJEKTIF_SCORING_REGISTRAR_KEY), and the gate decides those like any submission.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from contracts import pdp
from contracts.envelope import Envelope
from contracts.signing import b64, key_id, sign_envelope, unb64, verify_single
from services.scoring.adapters.people_store import PeopleStore
from services.scoring.adapters.sessions import Sessions, Throttle, refuse_foreign_origin
from services.scoring.adapters.web import DECIDED, Forward, Guard
from services.scoring.app.access import Principal, mint_token
from services.scoring.app.people import (
    PERSON_TYPES,
    SESSION_SECONDS,
    GrantMissing,
    NotEnrolled,
    NotYourNip,
    PeopleError,
    SignatureInvalid,
    check_challenge,
    new_challenge,
    role_of,
    signin_message,
)

#: The `source` of the envelopes the registrar signs (administrator events verify against admin keys).
REGISTRAR_SOURCE = "objektif.registrar"
MAX_SUBMISSION_BYTES = 64 * 1024


class BadRequest(PeopleError):
    """The body is not what the route takes."""

    status, code = 400, "bad_request"


class NotConfigured(PeopleError):
    """A setting the route needs is missing."""

    status, code = 503, "not_configured"


class IntakeUnavailable(PeopleError):
    """The evidence intake did not decide the submission (unreachable, starting, rate-limited)."""

    status, code = 503, "intake_unavailable"


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def _body(request: Request, limit: int = 16 * 1024) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > limit:
        raise BadRequest(f"at most {limit} bytes")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest("the body is not JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("the body is not a JSON object")
    return body


def _nip(body: dict[str, Any]) -> str:
    nip = body.get("nip")
    if not (isinstance(nip, str) and len(nip) == 18 and nip.isdigit()):
        raise BadRequest("nip: 18 digits")
    return nip


def _admin(viewer: Principal) -> None:
    if "admin" not in viewer.grants:
        raise GrantMissing("hanya admin BKPSDM / BKPSDM's administrators only")


class PeopleApi:
    """The routes above, over the people store, the sessions, the registrar key and the intake."""

    def __init__(self, store: PeopleStore, sessions: Sessions | None, secret: str | None,
                 registrar: Ed25519PrivateKey | None, forward: Forward | None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), throttle: Throttle | None = None) -> None:
        self._store, self._sessions, self._secret = store, sessions, secret
        self._registrar, self._forward, self._clock = registrar, forward, clock
        self._throttle = throttle or Throttle()

    def _open(self, handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        """An endpoint without a session (enrol, sign in): 503 without the token secret, errors as JSON."""

        async def endpoint(request: Request) -> Response:
            if self._secret is None or self._sessions is None:
                return _error(NotConfigured("sessions need OBJEKTIF_SCORING_TOKEN_SECRET and "
                                            "OBJEKTIF_SCORING_EVIDENCE_URL"))
            refused = self._throttle.refusal(request)
            if refused is not None:
                return refused
            try:
                # a page elsewhere must not sign someone in (with the attacker's own key) or enrol for them
                refuse_foreign_origin(request)
                return await handler(request)
            except PeopleError as exc:
                return _error(exc)

        return endpoint

    def _registrar_key(self) -> tuple[Ed25519PrivateKey, Forward]:
        if self._registrar is None:
            raise NotConfigured("OBJEKTIF_SCORING_REGISTRAR_KEY is not set")
        if self._forward is None:
            raise NotConfigured("OBJEKTIF_SCORING_EVIDENCE_URL is not set")
        return self._registrar, self._forward

    async def _send(self, forward: Forward, raw: bytes) -> tuple[int, dict[str, Any]]:
        try:
            status, answer = await forward(raw)
        except httpx.HTTPError as exc:
            raise IntakeUnavailable(f"layanan bukti tidak terjangkau / the evidence intake is unreachable: {exc}"
                                    ) from exc
        if status not in DECIDED or not isinstance(answer, dict):
            raise IntakeUnavailable(f"the evidence intake answered {status}: {str(answer)[:200]}")
        return status, answer

    def _registrar_envelope(self, type_: str, nip: str, payload: dict[str, Any], now: datetime) -> bytes:
        key, _ = self._registrar_key()
        envelope = {"event_id": str(uuid.uuid4()), "type": type_, "schema_version": 1,
                    "occurred_at": now.isoformat(), "source": REGISTRAR_SOURCE, "subject": f"nip:{nip}",
                    "period": str(now.year), "payload": payload}
        return orjson.dumps(sign_envelope(envelope, key))

    # --- enrolment ----------------------------------------------------------------------------------------------

    async def issue(self, request: Request, viewer: Principal) -> Response:
        """`POST /api/enrolments` (admin): a code for `nip`, with an optional grant."""
        _admin(viewer)
        body = await _body(request)
        grant = body.get("grant")
        if grant not in (None, "admin", "auditor"):
            raise BadRequest("grant: admin or auditor")
        hours = body.get("hours", 72)
        if not isinstance(hours, int) or not 1 <= hours <= 24 * 30:
            raise BadRequest("hours: 1 to 720")
        issued = await self._store.issue_code(_nip(body), grants=() if grant is None else (grant,), hours=hours,
                                              issued_by=f"nip:{viewer.nip}", now=self._clock())
        link = f"{str(request.base_url).rstrip('/')}/#/daftar/{issued.code}"
        return _json({"code": issued.code, "link": link, "nip": issued.nip, "grants": list(issued.grants),
                      "expires_at": issued.expires_at.isoformat()}, 201)

    async def roster(self, request: Request, viewer: Principal) -> Response:
        """`GET /api/enrolments` (admin)."""
        _admin(viewer)
        return _json({"people": await self._store.roster(self._clock())})

    async def enrol(self, request: Request) -> Response:
        """`POST /api/enrol {code, public_key}`: the registrar-signed `source.registered` through the gate; the
        code is used only when the gate accepted it."""
        _, forward = self._registrar_key()
        body = await _body(request)
        public_key = unb64(str(body.get("public_key", "")))
        if public_key is None or len(public_key) != 32:
            raise BadRequest("public_key: base64 of the raw 32-byte Ed25519 public key")
        now = self._clock()
        async with self._store.claimed(str(body.get("code", "")), now) as claim:
            nip = claim.enrolment.nip
            name = ((await self._store.person(nip)) or {}).get("name")
            payload = {"source_id": f"nip:{nip}", "kind": "person", "public_key": b64(public_key), "nip": nip}
            if name and not pdp.is_sealed(name):  # a sealed name (UU PDP) is not copied: it is the person's own
                payload["name"] = str(name)[:200]  # the contract's bound: a longer name must not fail enrolment
            status, answer = await self._send(
                forward, self._registrar_envelope("source.registered", nip, payload, now))
            if status != 202:
                return _json({"status": "rejected", "answer": answer}, 422)
            kid = key_id(public_key)
            await claim.mark_used(kid, now)
        assert self._sessions is not None  # _open checked
        self._sessions.keys.forget(nip)
        return _json({"status": "accepted", "nip": nip, "name": name, "key_id": kid, "answer": answer}, 202)

    async def revoke(self, request: Request, viewer: Principal) -> Response:
        """`POST /api/keys/revoke {nip, reason}` (admin): every active key of the person, revoked."""
        _admin(viewer)
        _, forward = self._registrar_key()
        body = await _body(request)
        nip, reason = _nip(body), str(body.get("reason") or "dicabut oleh admin BKPSDM")[:2000]
        assert self._sessions is not None  # guarded routes exist only with sessions
        keys = await self._sessions.keys.active_keys(nip, fresh=True)
        if not keys:
            return _error(PeopleError("tidak ada kunci aktif / no active key"), 404, "not_enrolled")
        now = self._clock()
        answers = []
        for kid in sorted(keys):
            payload = {"source_id": f"nip:{nip}", "key_id": kid, "reason": reason}
            _status, answer = await self._send(
                forward, self._registrar_envelope("source.key.revoked", nip, payload, now))
            answers.append({"key_id": kid, **answer})
        self._sessions.keys.forget(nip)
        rejected = any(a.get("status") == "rejected" for a in answers)
        return _json({"status": "rejected" if rejected else "accepted", "nip": nip, "answers": answers},
                     422 if rejected else 202)

    # --- sign-in ------------------------------------------------------------------------------------------------

    async def challenge(self, request: Request) -> Response:
        """`POST /api/session/challenge {nip}`."""
        assert self._secret is not None
        challenge, expires_at = new_challenge(_nip(await _body(request)), self._secret.encode(), self._clock())
        return _json({"challenge": challenge, "expires_at": expires_at})

    async def sign_in(self, request: Request) -> Response:
        """`POST /api/session {nip, challenge, signature}` → the session cookie."""
        assert self._secret is not None
        assert self._sessions is not None
        body = await _body(request)
        nip, challenge, signature = _nip(body), str(body.get("challenge", "")), str(body.get("signature", ""))
        now = self._clock()
        checked = check_challenge(challenge, nip, self._secret.encode(), now)
        keys = await self._sessions.keys.active_keys(nip, fresh=True)
        if not keys:
            raise NotEnrolled("belum terdaftar: daftar dengan kode / not enrolled: enrol with a code first")
        message = signin_message(request.headers.get("host", ""), nip, challenge)
        kid = next((k for k, raw in sorted(keys.items())
                    if verify_single(message, signature, Ed25519PublicKey.from_public_bytes(raw))), None)
        if kid is None:
            raise SignatureInvalid("tanda tangan tidak cocok / the signature does not verify")
        await self._store.record_nonce(checked.nonce, datetime.fromtimestamp(checked.expires_at, UTC), now)
        grants = await self._store.grants_of_key(nip, kid)
        role = role_of(nip, grants, await self._store.assignments_under(nip), now)
        expires = now + timedelta(seconds=SESSION_SECONDS)
        token = mint_token(nip, role, expires, self._secret, kid=kid, grants=grants)
        name = ((await self._store.person(nip)) or {}).get("name")
        response = _json({"nip": nip, "name": name, "role": role.value, "grants": sorted(grants), "key_id": kid,
                          "csrf": self._sessions.csrf_of(token), "expires_at": int(expires.timestamp())})
        self._sessions.set_cookie(response, request, token)
        return response

    async def sign_out(self, request: Request, viewer: Principal) -> Response:
        """`POST /api/session/end`: the cookie cleared (the token itself expires on its own)."""
        response = Response(status_code=204)
        assert self._sessions is not None
        self._sessions.clear_cookie(response, request)
        return response

    # --- acts ---------------------------------------------------------------------------------------------------

    async def submit(self, request: Request, viewer: Principal) -> Response:
        """`POST /api/submissions`: a person-signed envelope in the session's own name, to the intake unchanged."""
        if self._forward is None:
            raise NotConfigured("OBJEKTIF_SCORING_EVIDENCE_URL is not set")
        raw = await request.body()
        if len(raw) > MAX_SUBMISSION_BYTES:
            raise BadRequest(f"at most {MAX_SUBMISSION_BYTES} bytes")
        try:
            envelope = Envelope.model_validate_json(raw)
        except ValidationError as exc:
            raise BadRequest(f"not an envelope: {exc.errors()[0]['msg']}") from exc
        if envelope.type not in PERSON_TYPES or not envelope.signature:
            raise BadRequest(f"expected a signed envelope of a person type ({', '.join(sorted(PERSON_TYPES))})")
        if viewer.nip is None or envelope.source != f"nip:{viewer.nip}":
            raise NotYourNip(f"kiriman ini bukan atas nama Anda (nip:{viewer.nip}) / this submission is not in "
                             f"your own name (nip:{viewer.nip}), but {envelope.source[:40]}")
        status, answer = await self._send(self._forward, raw)
        return _json({"event_id": str(envelope.event_id), "status": answer.get("status"),
                      "reasons": answer.get("reasons", []), "answer": answer}, status)

    def routes(self, guard: Guard) -> list[BaseRoute]:
        """The routes, the session-bound ones wrapped by `guard` (`WebApi.guarded`, which answers PeopleErrors
        with their status and code)."""
        guarded = guard
        return [
            Route("/api/enrolments", guarded(self.issue), methods=["POST"]),
            Route("/api/enrolments", guarded(self.roster), methods=["GET"]),
            Route("/api/enrol", self._open(self.enrol), methods=["POST"]),
            Route("/api/session/challenge", self._open(self.challenge), methods=["POST"]),
            Route("/api/session", self._open(self.sign_in), methods=["POST"]),
            Route("/api/session/end", guarded(self.sign_out), methods=["POST"]),
            Route("/api/keys/revoke", guarded(self.revoke), methods=["POST"]),
            Route("/api/submissions", guarded(self.submit), methods=["POST"]),
        ]


def _error(exc: PeopleError, status: int | None = None, code: str | None = None) -> Response:
    return _json({"error": code or exc.code, "message": str(exc)}, status or exc.status)
