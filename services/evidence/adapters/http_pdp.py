"""The persons' data keys over HTTP (UU PDP; ADR 0010, adapters/pdp_keys.py).

    GET  /pdp/keys/{nip}   the person's current public data key (made on first request): what a page or a
                           departmental system seals personal fields to before signing. Public, like signing keys.
    POST /pdp/open         {"values": [sealed, …]} → {"values": [plaintext | "dihapus (UU PDP)" | null, …]}:
                           for the services that show personal data to those allowed to see it (the scoring
                           service's read API), with `Authorization: Bearer <OBJEKTIF_EVIDENCE_PDP_TOKEN>`; each
                           opening is counted per data key in the service's metrics. 401 without the token.
    GET  /pdp/people/{nip} the person's keys, sealed values, which of them no longer open, and whether every
                           retention period has ended (adapters/pdp_person.py `status`): what the Administrasi page
                           shows before and after an erasure. The same token.
"""

from __future__ import annotations

import hmac
import re
from collections import Counter
from collections.abc import Callable
from datetime import date

import asyncpg
import orjson
import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from contracts import pdp
from contracts.envelope import NIP_PATTERN
from services.evidence.adapters.pdp_keys import DataKeys
from services.evidence.adapters.pdp_person import Retention, status

#: At most this many values per opening request.
MAX_VALUES = 2_000
log = structlog.get_logger()


def pdp_routes(keys_of: Callable[[], DataKeys | None], token: str | None, opened: Counter[str],
               pool_of: Callable[[], asyncpg.Pool | None], retention: Retention,
               today: Callable[[], date]) -> list[BaseRoute]:
    """The routes over the service's data keys and store (read when asked: they open at startup)."""

    def refused(request: Request) -> Response | None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            return _json({"error": "unauthorised", "message": f"{request.url.path} needs the services' PDP token"},
                         401)
        return None

    async def data_key(request: Request) -> Response:
        nip = request.path_params["nip"]
        if not re.fullmatch(NIP_PATTERN, nip):
            return _json({"error": "bad_nip", "message": f"not an 18-digit NIP: {nip[:40]!r}"}, 400)
        keys = keys_of()
        if keys is None:
            return _json({"error": "not_ready", "message": "the service is starting or has no PDP key"}, 503)
        return _json((await keys.data_key(nip)).to_json(), 200)

    async def open_values(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        keys = keys_of()
        if keys is None:
            return _json({"error": "not_ready", "message": "the service is starting or has no PDP key"}, 503)
        try:
            body = orjson.loads(await request.body())
            values = body["values"]
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise TypeError
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return _json({"error": "bad_request", "message": 'expected {"values": ["pdp1:…", …]}'}, 400)
        if len(values) > MAX_VALUES:
            return _json({"error": "too_many", "message": f"at most {MAX_VALUES} values per request"}, 413)
        out = await keys.open(values)
        opened.update(s.kid for v in values if (s := pdp.parse(v)) is not None)
        return _json({"values": out}, 200)

    async def person(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        nip = request.path_params["nip"]
        if not re.fullmatch(NIP_PATTERN, nip):
            return _json({"error": "bad_nip", "message": f"not an 18-digit NIP: {nip[:40]!r}"}, 400)
        keys, pool = keys_of(), pool_of()
        if keys is None or pool is None:
            return _json({"error": "not_ready", "message": "the service is starting or has no PDP key"}, 503)
        async with pool.acquire() as conn:
            return _json(await status(conn, keys, nip, retention, today()), 200)

    return [Route("/pdp/keys/{nip}", data_key, methods=["GET"]), Route("/pdp/open", open_values, methods=["POST"]),
            Route("/pdp/people/{nip}", person, methods=["GET"])]


def _json(body: object, status: int) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")
