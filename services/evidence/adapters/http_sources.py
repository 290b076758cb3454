"""`GET /sources/{source_id}` on the evidence service's HTTP side: a registered source and its keys, as the gate
knows them now (ADR 0007: the scoring service asks it whether a person's key is still active).

Public information, no token: kind, NIP (a person), scope, and each key's id, public key and status at the
service's clock (`active`, `retired` after a rotation or a new registration, `revoked`). 404 when no such source
is registered; 503 while the service starts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from contracts.signing import b64
from services.evidence.domain import IntakeState
from services.evidence.domain.state import Source


class StateReader(Protocol):
    """What the route needs of the service's `Intake`."""

    def current_state(self) -> Awaitable[IntakeState]: ...


def source_body(source: Source, now: datetime) -> dict[str, Any]:
    """The JSON of one source and its keys' status at `now`."""
    return {
        "source_id": source.source_id,
        "kind": source.kind.value,
        "nip": source.nip,
        "units": sorted(source.units),
        "indicators": sorted(source.indicators),
        "keys": [{"key_id": k.key_id, "public_key": b64(k.public_key.public_bytes_raw()),
                  "status": k.status_at(now).value,
                  "since": k.since.isoformat() if k.since else None,
                  "until": k.until.isoformat() if k.until else None} for k in source.keys],
    }


def source_routes(intake_of: Callable[[], StateReader | None], clock: Callable[[], datetime]) -> list[BaseRoute]:
    """The route over the service's intake (read when asked: it opens at startup)."""

    async def source(request: Request) -> Response:
        intake = intake_of()
        if intake is None:
            return _json({"error": "not_ready", "message": "the service is starting"}, 503)
        found = (await intake.current_state()).sources.get(request.path_params["source_id"])
        if found is None:
            return _json({"error": "not_found", "message": "no such source is registered"}, 404)
        return _json(source_body(found, clock()), 200)

    return [Route("/sources/{source_id}", source, methods=["GET"])]


def _json(body: object, status: int) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")
