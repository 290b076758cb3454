"""The audit service's public HTTP routes (served by chassis/http.py): ledger receipts.

    GET /receipts/{event_id}              the latest signed checkpoint and the event's inclusion proof under it
    GET /receipts/{event_id}.tlog-proof   the same receipt as a c2sp.org/tlog-proof@v1 file, to check offline

A receipt reveals hashes, a leaf index and a signed tree head, never an event's content, so it needs no token:
an employee follows the link from the web page's evidence list, and anyone can check it against the checkpoint
key without trusting the database (REGULATION.md §2.1 *transparan*, §2.4).
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from services.audit.app.errors import LeafNotFound, NoCheckpoint, NotCheckpointed, StoredTreeDamaged
from services.audit.app.proofs import Receipt, receipt
from services.audit.domain.tlog_proof import MEDIA_TYPE


def _as_json(found: Receipt) -> Response:
    return JSONResponse(found.to_json(), headers={"Access-Control-Allow-Origin": "*"})


def _as_tlog_proof(found: Receipt) -> Response:
    return PlainTextResponse(found.to_tlog_proof(), media_type=MEDIA_TYPE, headers={
        "Access-Control-Allow-Origin": "*", "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="{found.event_id}.tlog-proof"'})


def receipt_routes(pool_of: Callable[[], asyncpg.Pool | None]) -> list[BaseRoute]:
    """The receipt routes over the ledger's pool (read when asked: it opens at startup)."""

    async def get_receipt(request: Request) -> Response:
        return await _receipt(request, _as_json)

    async def get_tlog_proof(request: Request) -> Response:
        return await _receipt(request, _as_tlog_proof)

    async def _receipt(request: Request, render: Callable[[Receipt], Response]) -> Response:
        try:
            event_id = UUID(request.path_params["event_id"])
        except ValueError:
            return JSONResponse({"error": "bad_request", "message": "not an event id"}, status_code=400)
        pool = pool_of()
        if pool is None:
            return JSONResponse(
                {"error": "starting", "message": "the ledger is not open yet"}, status_code=503
            )
        try:
            async with pool.acquire() as conn:
                found = await receipt(conn, event_id)
        except LeafNotFound as exc:
            return JSONResponse({"error": "not_found", "message": str(exc)}, status_code=404)
        except (NoCheckpoint, NotCheckpointed) as exc:
            # not yet: the next periodic checkpoint covers it; the client may ask again
            return JSONResponse(
                {"error": "not_checkpointed", "message": str(exc)},
                status_code=409,
                headers={"Retry-After": "5"},
            )
        except StoredTreeDamaged as exc:
            return JSONResponse({"error": "damaged", "message": str(exc)}, status_code=500)
        return render(found)

    # The file's route first: `{event_id}` alone would match "<id>.tlog-proof" and refuse it as no event id.
    return [Route("/receipts/{event_id}.tlog-proof", get_tlog_proof), Route("/receipts/{event_id}", get_receipt)]
