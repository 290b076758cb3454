"""The ledger over HTTP as a C2SP tiled log (c2sp.org/tlog-tiles), beside the receipt API, at the service's root:

    GET /checkpoint                 the latest signed checkpoint (text/plain; cached a few seconds)
    GET /tile/<L>/<N>[.p/<W>]       hash tiles (full ones immutable, cached for a year; partial ones briefly)
    GET /tile/entries/<N>[.p/<W>]   entry bundles: the events' bytes, for auditors only (bearer token)
    GET /p<K>/checkpoint, /p<K>/tile/...   the same for partition K (1-11); the root is partition 0's log
    GET /partitions/checkpoint      the latest signed checkpoint over every partition (ADR 0013)

Each partition's tree is a log of its own (ADR 0013), with its own origin (`partition_origin`) and the same key.

The hash tiles reveal no event's content and are open to anyone, like the receipts. An entry bundle is the
events themselves, personal data (UU PDP; ARCHITECTURE.md "Authorised": an auditor sees everything), so it asks
for the auditors' bearer token and is withheld (410) when a leaf's bytes were lawfully erased. Nothing
redirects: tlog clients refuse redirects (docs/adr/0011-tlog-tiles.md).
"""

from __future__ import annotations

import gzip
import hmac
from collections.abc import Awaitable, Callable

import asyncpg
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from chassis.partitions import PARTITIONS
from services.audit.app import tiles
from services.audit.app.errors import EntriesWithheld, NoCheckpoint, TileNotFound
from services.audit.domain.errors import TileError
from services.audit.domain.tiles import parse_path

IMMUTABLE = "public, max-age=31536000, immutable"
PARTIAL = "public, max-age=60"
"""A partial tile's bytes never change either, but it stops being the right edge: keep clients fetching fresh
ones."""
CHECKPOINT = "public, max-age=5"
"""The spec asks that the mutable checkpoint not be cached beyond a few seconds."""
OCTETS = "application/octet-stream"


def tile_routes(pool_of: Callable[[], asyncpg.Pool | None], entries_token: str | None) -> list[BaseRoute]:
    """The tiled log's routes over the ledger's pool (read when asked: it opens at startup); entry bundles open
    to ``entries_token`` only, and to nobody when it is None."""

    async def get_checkpoint(request: Request) -> Response:
        part = _part(request)
        if part is None:
            return _text("no such partition", 404, "no-store")
        return await _note(lambda conn: tiles.checkpoint_note(conn, part))

    async def get_partitions(_request: Request) -> Response:
        return await _note(tiles.partitions_note)

    async def _note(read: Callable[[asyncpg.Connection], Awaitable[str]]) -> Response:
        pool = pool_of()
        if pool is None:
            return _text("the ledger is not open yet", 503, "no-store")
        try:
            async with pool.acquire() as conn:
                note = await read(conn)
        except NoCheckpoint as exc:
            return _text(str(exc), 404, "no-store")
        return _text(note, 200, CHECKPOINT)

    async def get_tile(request: Request) -> Response:
        try:
            ref = parse_path("tile/" + request.path_params["rest"])
        except TileError as exc:
            return _text(str(exc), 404, "no-store")
        part = _part(request)
        if part is None:
            return _text("no such partition", 404, "no-store")
        if ref.entries and not _authorised(request, entries_token):
            return _text("entry bundles hold the events themselves: send the auditors' bearer token", 401,
                         "no-store", {"WWW-Authenticate": 'Bearer realm="objektif-ledger-entries"'})
        pool = pool_of()
        if pool is None:
            return _text("the ledger is not open yet", 503, "no-store")
        try:
            async with pool.acquire() as conn:
                body = await tiles.read_tile(conn, part, ref)
        except TileNotFound as exc:
            return _text(str(exc), 404, "no-store")
        except EntriesWithheld as exc:
            return _text(str(exc), 410, "no-store")
        cache = IMMUTABLE if ref.full else PARTIAL
        if not ref.entries:
            return Response(body, media_type=OCTETS,
                            headers={"Cache-Control": cache, "Access-Control-Allow-Origin": "*"})
        # Entries are private: no shared cache may keep them; a bundle compresses well (the spec's SHOULD).
        headers = {"Cache-Control": cache.replace("public", "private"), "Vary": "Accept-Encoding, Authorization"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(gzip.compress(body, mtime=0), media_type=OCTETS,
                            headers={**headers, "Content-Encoding": "gzip"})
        return Response(body, media_type=OCTETS, headers=headers)

    return [Route("/checkpoint", get_checkpoint), Route("/tile/{rest:path}", get_tile),
            Route("/partitions/checkpoint", get_partitions),
            Route("/p{part:int}/checkpoint", get_checkpoint), Route("/p{part:int}/tile/{rest:path}", get_tile)]


def _part(request: Request) -> int | None:
    """The partition a path names (`/p<K>/...`; none: partition 0), or None when there is no such one."""
    part = request.path_params.get("part", 0)
    return part if 0 <= part < PARTITIONS and (part != 0 or "part" not in request.path_params) else None


def _authorised(request: Request, token: str | None) -> bool:
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    return token is not None and scheme.lower() == "bearer" and hmac.compare_digest(value.encode(), token.encode())


def _text(body: str, status: int, cache: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(body, status_code=status, headers={"Cache-Control": cache, **(headers or {})},
                             media_type="text/plain; charset=utf-8")
