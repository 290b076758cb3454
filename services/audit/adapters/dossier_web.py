"""The appeal dossier over HTTP (issue 16: BKPSDM downloads it from the Administrasi page, through the scoring
service's `GET /api/admin/dossier/{nip}/{period}`):

    GET /dossiers/{nip}/{period}   the berkas keberatan of one employee and period (services/audit/app/dossier.py)
                                   as one self-contained HTML page, proofs under the latest checkpoint

A dossier holds the events themselves (personal data, UU PDP; ARCHITECTURE.md "Authorised": an auditor sees
everything), so, like the tiled log's entry bundles, it asks for the auditors' bearer token and is closed to
everyone when none is configured.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable

import asyncpg
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from contracts.envelope import NIP_PATTERN
from services.audit.app import dossier as dossier_app

NIP = re.compile(NIP_PATTERN)
_PERIOD = re.compile(r"^[0-9]{4}(-(Q[1-4]|S[12]))?$")


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """The audit service's JSON error answer, never cached."""
    return JSONResponse({"error": code, "message": message}, status_code=status,
                        headers={"Cache-Control": "no-store", **(headers or {})})


def refused(request: Request, token: str | None, why: str) -> Response | None:
    """The 401 for a request without the auditors' bearer `token` (every request when None), else None."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer" or not hmac.compare_digest(value.encode(), token.encode()):
        return error(401, "unauthorised", f"{why}: send the auditors' bearer token",
                     {"WWW-Authenticate": 'Bearer realm="objektif-ledger-entries"'})
    return None


def dossier_routes(pool_of: Callable[[], asyncpg.Pool | None], token: str | None,
                   vkey: str | None = None) -> list[BaseRoute]:
    """The dossier route over the ledger's pool, open to `token` only (nobody when None); `vkey` (the
    checkpoint verifier key) is printed in the page so that it can be checked offline."""

    async def get_dossier(request: Request) -> Response:
        if (refusal := refused(request, token, "a dossier holds the events themselves")) is not None:
            return refusal
        nip, period = request.path_params["nip"], request.path_params["period"]
        if not NIP.fullmatch(nip) or not _PERIOD.fullmatch(period):
            return error(400, "bad_request", "nip: 18 digits; period: e.g. 2025, 2025-Q3, 2025-S1")
        pool = pool_of()
        if pool is None:
            return error(503, "starting", "the ledger is not open yet")
        async with pool.acquire() as conn:
            gathered = await dossier_app.gather(conn, nip, period, vkey=vkey)
        if not gathered.events:
            return error(404, "not_found", f"nothing about {nip} in {period} is ledgered")
        return HTMLResponse(dossier_app.render_html(gathered), headers={
            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

    return [Route("/dossiers/{nip}/{period}", get_dossier)]
