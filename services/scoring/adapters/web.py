"""The scoring service's HTTP read API and web page (Starlette routes, served by chassis/http.py).

    GET  /                                          the web page (static HTML, CSS, JS from services/scoring/web)
    GET  /api/me                                    who the token names, his or her appraisals and appraisees
    GET  /api/appraisals/{nip}/{period}             one appraisal, explained (services/scoring/app/explain.py)
    GET  /api/units/{unit_id}/{period}              a unit's distribution against its curve
    GET  /api/units/{unit_id}/{period}/export.csv   the unit's results (also .xlsx; .siasn.json: SIASN records)
    GET  /api/appraisals?as_of=…&period=…&unit=…    results as of a time (auditors)
    POST /api/objections                            an objection signed by the employee, to the intake
    GET  /api/objections?open=true                  objections and their decision deadlines (§2.4; false: all)

Every /api route needs `Authorization: Bearer <token>` (services/scoring/app/access.py) or a browser session
(the `objektif_session` cookie, services/scoring/adapters/sessions.py; routes in web_people.py): 401 without a valid
one, 403 when the role does not allow it, 404 when nothing is recorded. An objection is signed in the browser
with the employee's own key and filed unchanged through the intake: POSTed to the evidence service's
`/submissions` when its URL is configured (the gate's answer, accepted or rejected with reasons, goes back to the
page), else, or when that intake refuses or cannot be reached, published to the submissions topic, where the gate
decides it like any submission (§2.4: only the appraised employee, within 14 days of delivery).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import structlog
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from contracts import events as ev
from contracts import topics
from contracts.envelope import Envelope
from services.scoring.adapters import siasn
from services.scoring.adapters.export import to_csv, to_xlsx
from services.scoring.adapters.pdp_reveal import Opener, reveal_fields
from services.scoring.app.access import (
    AccessError,
    Forbidden,
    InvalidToken,
    Principal,
    TokenExpired,
    verify_token,
)
from services.scoring.app.people import PeopleError
from services.scoring.app.read import NotFound, ReadService
from services.scoring.app.siasn import Unexportable

if TYPE_CHECKING:
    from services.scoring.adapters.sessions import Sessions

WEB = Path(__file__).resolve().parent.parent / "web"
#: The page loads nothing from elsewhere: scripts, styles and images come from this service only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
MAX_OBJECTION_BYTES = 64 * 1024

Publish = Callable[[bytes, str, bytes], Awaitable[object]]
Handler = Callable[[Request, Principal], Awaitable[Response]]
#: Wraps a handler into an endpoint that authenticates the request first (`WebApi.guarded`).
Guard = Callable[[Handler], Callable[[Request], Awaitable[Response]]]
#: POST one submission to the evidence service's HTTP intake: (HTTP status, the gate's answer)
Forward = Callable[[bytes], Awaitable[tuple[int, Any]]]
#: The intake's answers that decide a submission (202 accepted or duplicate, 413/422 rejected and recorded);
#: anything else (429, 503, a network error) recorded nothing, and the submission goes through Kafka instead.
DECIDED = frozenset({202, 413, 422})
log = structlog.get_logger()


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _error(status: int, code: str, message: str) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="objektif"'} if status == 401 else None
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


class WebApi:
    """The routes, bound to the read use cases, the token secret (None: the API refuses every request), the
    function that publishes a submission, and the browser sessions (None: bearer tokens only)."""

    def __init__(
        self,
        service: ReadService,
        secret: str | None,
        publish: Publish,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        audit_url: str | None = None,
        forward: Forward | None = None,
        sessions: Sessions | None = None,
        opener: Opener | None = None,
    ) -> None:
        self._service = service
        self._opener = opener
        self._secret = secret
        self._publish = publish
        self._clock = clock
        self._audit_url = audit_url
        self._forward = forward
        self._sessions = sessions

    async def principal(self, request: Request) -> Principal:
        """The verified holder of the request's bearer token, else of its session cookie (with its CSRF and
        origin checks); a token naming a key id holds only while that key is active. Raises InvalidToken,
        TokenExpired or a PeopleError (csrf, session_revoked)."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        assert self._secret is not None
        if scheme.lower() == "bearer" and token:
            viewer = verify_token(token, self._secret, self._clock())
        elif self._sessions is not None:
            viewer = self._sessions.cookie_principal(request)
        else:
            raise InvalidToken("no bearer token")
        if viewer.key_id is not None:
            if self._sessions is None:
                raise InvalidToken("a session token, and sessions are not configured")
            await self._sessions.check_key(viewer)
        return viewer

    def guarded(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """`handler` as an endpoint for a verified principal: 503 without a token secret, 401/403 as the
        access rules say, 404 for NotFound (the guard other route modules are wired with, web_people/web_work)."""

        async def endpoint(request: Request) -> Response:
            if self._secret is None:
                return _error(503, "not_configured", "OBJEKTIF_SCORING_TOKEN_SECRET is not set")
            try:
                return await handler(request, await self.principal(request))
            except PeopleError as exc:
                return _error(exc.status, exc.code, str(exc))
            except TokenExpired as exc:
                return _error(401, "token_expired", str(exc))
            except InvalidToken as exc:
                return _error(401, "invalid_token", str(exc))
            except Forbidden as exc:
                return _error(403, "forbidden", str(exc))
            except NotFound as exc:
                return _error(404, "not_found", str(exc))
            except AccessError as exc:
                return _error(403, "forbidden", str(exc))

        return endpoint

    # --- handlers -----------------------------------------------------------------------------------------------

    async def me(self, request: Request, viewer: Principal) -> Response:
        body: dict[str, Any] = {
            "nip": viewer.nip,
            "role": viewer.role.value,
            "expires_at": viewer.expires_at,
            "audit_url": self._audit_url,
            "grants": sorted(viewer.grants),
        }
        if self._sessions is not None:
            body.update(await self._sessions.about(request, viewer))
        body.update(await self._service.overview(viewer))
        return _json(body)

    async def appraisal(self, request: Request, viewer: Principal) -> Response:
        p = request.path_params
        return _json(await self._service.appraisal(viewer, p["nip"], p["period"]))

    async def unit(self, request: Request, viewer: Principal) -> Response:
        p = request.path_params
        return _json(await self._service.unit(viewer, p["unit_id"], p["period"]))

    async def export(self, request: Request, viewer: Principal) -> Response:
        p = request.path_params
        name = f"objektif-{p['unit_id']}-{p['period']}"
        if p["fmt"] == "siasn.json":  # docs/siasn.md: final results only; pnsDinilaiId needs the CLI's --ids
            try:
                found, skipped = await self._service.siasn_rows(viewer, p["period"], p["unit_id"])
            except Unexportable as exc:
                return _error(400, "bad_request", str(exc))
            return Response(siasn.to_json(found), media_type="application/json", headers={
                "Content-Disposition": f'attachment; filename="{name}.siasn.json"',
                "X-Objektif-Skipped": str(len(skipped)),
            })
        # names are sealed (UU PDP): opened here, for the viewer the service just allowed, as JSON answers are
        rows = await reveal_fields(await self._service.export_rows(viewer, p["unit_id"], p["period"]), "nama",
                                   self._opener)
        if p["fmt"] == "csv":
            return Response(
                to_csv(rows),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
            )
        if p["fmt"] == "xlsx":
            return Response(
                to_xlsx(rows, f"{p['unit_id']} {p['period']}"),
                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
            )
        raise NotFound(f"no export format {p['fmt']!r}: csv, xlsx or siasn.json")

    async def as_of(self, request: Request, viewer: Principal) -> Response:
        q = request.query_params
        when = None
        if q.get("as_of"):
            try:
                when = datetime.fromisoformat(q["as_of"].replace("Z", "+00:00"))
            except ValueError:
                return _error(400, "bad_request", "as_of must be an RFC 3339 time, e.g. 2025-10-01T00:00:00Z")
            if when.tzinfo is None:
                return _error(400, "bad_request", "as_of must carry a UTC offset")
        results = await self._service.as_of(viewer, when, q.get("period") or None, q.get("unit") or None)
        return _json({"as_of": None if when is None else when.isoformat(), "appraisals": results})

    async def objection(self, request: Request, viewer: Principal) -> Response:
        raw = await request.body()
        if len(raw) > MAX_OBJECTION_BYTES:
            return _error(413, "too_large", f"at most {MAX_OBJECTION_BYTES} bytes")
        try:
            envelope = Envelope.model_validate_json(raw)
            ev.ObjectionFiled.model_validate(envelope.payload)
        except ValidationError as exc:
            return _error(400, "bad_request", f"not an objection envelope: {exc.errors()[0]['msg']}")
        if envelope.type != ev.ObjectionFiled.TYPE or not envelope.signature:
            return _error(400, "bad_request", "expected a signed objection.filed envelope")
        if viewer.nip is None or envelope.subject != viewer.nip or envelope.source != f"nip:{viewer.nip}":
            raise Forbidden("an objection is filed by the appraised employee, in his or her own name (§2.4)")
        event_id = str(envelope.event_id)
        if self._forward is not None:
            try:
                status, answer = await self._forward(raw)
            except httpx.HTTPError as exc:
                log.warning("objection.intake_unreachable", event_id=event_id, error=str(exc)[:200])
            else:
                if status in DECIDED:
                    log.info("objection.filed_http", event_id=event_id, subject=envelope.subject, answer=status)
                    return _json({"event_id": event_id, "via": "http", "answer": answer,
                                  "status": answer.get("status") if isinstance(answer, dict) else None}, status)
        await self._publish(raw, topics.SUBMISSIONS, envelope.subject.encode())
        log.info(
            "objection.submitted",
            event_id=str(envelope.event_id),
            subject=envelope.subject,
            period=envelope.period,
        )
        return _json({"event_id": event_id, "status": "submitted", "via": "kafka", "topic": topics.SUBMISSIONS}, 202)

    async def objections(self, request: Request, viewer: Principal) -> Response:
        open_only = request.query_params.get("open", "true").lower() not in ("false", "0", "no")
        today = self._clock().date()
        rows = await self._service.objections(viewer, today, open_only)
        return _json({"today": today.isoformat(), "open": open_only, "objections": rows})

    # --- routes -------------------------------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        """The API's routes, the page at `/` and its assets under `/static`."""
        g = self.guarded

        async def index(_request: Request) -> Response:
            return FileResponse(
                WEB / "index.html",
                headers={
                    "Content-Security-Policy": CSP,
                    "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer",
                },
            )

        return [
            Route("/", index),
            Mount("/static", app=StaticFiles(directory=WEB), name="static"),
            Route("/api/me", g(self.me)),
            Route("/api/appraisals", g(self.as_of)),
            Route("/api/appraisals/{nip}/{period}", g(self.appraisal)),
            Route("/api/units/{unit_id}/{period}/export.{fmt}", g(self.export)),
            Route("/api/units/{unit_id}/{period}", g(self.unit)),
            Route("/api/objections", g(self.objection), methods=["POST"]),
            Route("/api/objections", g(self.objections), methods=["GET"]),
        ]


def intake_forwarder(base_url: str, timeout: float = 10.0) -> Forward:
    """POST a submission to `<base_url>/submissions` (the evidence service's HTTP intake) and return its status
    and JSON answer; raises httpx.HTTPError when the intake cannot be reached."""
    url = base_url.rstrip("/") + "/submissions"

    async def forward(raw: bytes) -> tuple[int, Any]:
        async with httpx.AsyncClient(timeout=timeout) as client:
            answer = await client.post(url, content=raw, headers={"Content-Type": "application/json"})
        try:
            body = answer.json()
        except ValueError:
            body = {"status": "error", "text": answer.text[:500]}
        return answer.status_code, body

    return forward
