"""A person's UU PDP export over HTTP (issue 18; the scoring service proxies it to the person's own page):

    GET /people/{nip}/export.json   everything the ledger holds about or by one person, with each event's
                                    inclusion proof under the latest checkpoint (services/audit/app/person_export.py)

Like a dossier (services/audit/adapters/dossier_web.py) it holds the events themselves, so it asks for the
auditors' bearer token, is closed to everyone when none is configured, and is never cached.
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from services.audit.adapters.dossier_web import NIP, error, refused
from services.audit.app import person_export


def person_routes(pool_of: Callable[[], asyncpg.Pool | None], token: str | None) -> list[BaseRoute]:
    """The person export route over the ledger's pool, open to `token` only (nobody when None)."""

    async def get_export(request: Request) -> Response:
        if (refusal := refused(request, token, "a person's export holds the events themselves")) is not None:
            return refusal
        nip = request.path_params["nip"]
        if not NIP.fullmatch(nip):
            return error(400, "bad_request", "nip: 18 digits")
        pool = pool_of()
        if pool is None:
            return error(503, "starting", "the ledger is not open yet")
        async with pool.acquire() as conn:
            doc = await person_export.gather(conn, nip)
        if not doc["events"]:
            return error(404, "not_found", f"nothing about or by {nip} is ledgered under a signed checkpoint")
        return Response(orjson.dumps(doc), media_type="application/json", headers={
            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

    return [Route("/people/{nip}/export.json", get_export)]
