"""The pages' side of UU 27/2022 PDP (issue 18; ADR 0010, docs/pdp.md):

    GET /api/pdp/fields            which fields of which event type are personal (contracts/pdp.py's one list), so
                                   that a page seals those and fetches a data key only when a submission has one
    GET /api/pdp/keys/{nip}        the person's public data key, from the evidence service (signed-in people only:
                                   a first request makes the key)
    GET /api/pdp/export            the signed-in person's own copy of everything ledgered about or by him or her,
                                   with inclusion proofs under the latest checkpoint (the audit service's
                                   `GET /people/{nip}/export.json`), as a download; the personal fields are opened
                                   by RevealPersonalData like every other answer. An administrator may add `?nip=`.
    GET /api/admin/pdp/{nip}       administrators: the person's data keys, sealed values, what no longer opens and
                                   whether retention has ended (the evidence service's `GET /pdp/people/{nip}`),
                                   shown on the Administrasi page before and after an erasure
    POST /api/admin/pdp/{nip}/erase  administrators, {reason, order?}: the registrar-signed `personal_data.erased`
                                   through the gate (whose acceptance destroys the keys), refused with 409
                                   `retention_not_ended` while retention runs unless `order` names the order to erase
                                   earlier; answers the gate's answer and the person's state afterwards
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from contracts import pdp
from contracts.envelope import NIP_PATTERN
from contracts.signing import sign_envelope
from services.scoring.adapters.web import DECIDED, Forward, Guard
from services.scoring.adapters.web_people import REGISTRAR_SOURCE, BadRequest
from services.scoring.app.access import Principal
from services.scoring.app.people import GrantMissing, PeopleError
from services.scoring.app.read import NotFound

FIELDS = orjson.dumps({t: list(f) for t, f in pdp.PERSONAL_FIELDS.items()})


class RetentionNotEnded(PeopleError):
    """The person's data is still within retention and no order to erase earlier was named."""

    status, code = 409, "retention_not_ended"


class ServiceUnavailable(PeopleError):
    """The evidence or the audit service is not configured or did not answer."""

    status, code = 503, "unavailable"


@dataclass(frozen=True, slots=True)
class Upstream:
    """A service this API asks, with the bearer token it sends (None: send none)."""

    url: str | None
    token: str | None = None
    name: str = "service"

    async def get(self, path: str) -> httpx.Response:
        if not self.url:
            raise ServiceUnavailable(f"no {self.name} service configured")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            async with httpx.AsyncClient(timeout=30.0) as client:
                return await client.get(f"{self.url.rstrip('/')}{path}", headers=headers)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"{self.name} service unreachable: {exc}"[:300]) from exc


def _json(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store", **(headers or {})})


def _nip(text: str | None) -> str:
    import re

    if text is None or not re.fullmatch(NIP_PATTERN, text):
        raise BadRequest(f"not an 18-digit NIP: {str(text)[:40]!r}")
    return text


class PdpApi:
    """The routes above, over the evidence service (keys, status) and the audit service (the ledgered copy)."""

    def __init__(self, evidence: Upstream, audit: Upstream, registrar: Ed25519PrivateKey | None,
                 forward: Forward | None, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._evidence, self._audit = evidence, audit
        self._registrar, self._forward, self._clock = registrar, forward, clock

    async def fields(self, _request: Request) -> Response:
        return Response(FIELDS, media_type="application/json", headers={"Cache-Control": "max-age=300"})

    async def data_key(self, request: Request, _viewer: Principal) -> Response:
        nip = _nip(request.path_params["nip"])
        answer = await self._evidence.get(f"/pdp/keys/{quote(nip, safe='')}")
        if answer.status_code != 200:
            raise ServiceUnavailable(f"the evidence service answered {answer.status_code}: {answer.text[:200]}")
        return _json(orjson.dumps({**answer.json(), "personal_fields": orjson.loads(FIELDS)}))

    async def export(self, request: Request, viewer: Principal) -> Response:
        asked = request.query_params.get("nip")
        if asked is not None and asked != viewer.nip and "admin" not in viewer.grants:
            raise GrantMissing("hanya data Anda sendiri / only your own data (administrators may ask for any NIP)")
        nip = _nip(asked or viewer.nip)
        answer = await self._audit.get(f"/people/{quote(nip, safe='')}/export.json")
        if answer.status_code == 404:
            raise NotFound(f"belum ada yang tercatat di ledger tentang {nip} / nothing about {nip} is ledgered yet")
        if answer.status_code != 200:
            raise ServiceUnavailable(f"the audit service answered {answer.status_code}: {answer.text[:200]}")
        return _json(answer.content, headers={"Content-Disposition": f'attachment; filename="data-saya-{nip}.json"'})

    async def _state(self, nip: str) -> dict[str, Any]:
        answer = await self._evidence.get(f"/pdp/people/{quote(nip, safe='')}")
        if answer.status_code != 200:
            raise ServiceUnavailable(f"the evidence service answered {answer.status_code}: {answer.text[:200]}")
        return dict(answer.json())

    async def person(self, request: Request, viewer: Principal) -> Response:
        _admin(viewer)
        return _json(orjson.dumps(await self._state(_nip(request.path_params["nip"]))))

    async def erase(self, request: Request, viewer: Principal) -> Response:
        _admin(viewer)
        if self._registrar is None or self._forward is None:
            raise ServiceUnavailable("erasing needs OBJEKTIF_SCORING_REGISTRAR_KEY and OBJEKTIF_SCORING_EVIDENCE_URL")
        nip = _nip(request.path_params["nip"])
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise BadRequest("the body is not JSON") from exc
        reason = str(body.get("reason") or "").strip() if isinstance(body, dict) else ""
        order = str(body.get("order") or "").strip() if isinstance(body, dict) else ""
        if not reason:
            raise BadRequest("reason: why the data is erased (recorded on the event)")
        before = await self._state(nip)
        retention = before["retention"]
        if not retention["ended"] and not order:
            raise RetentionNotEnded(
                f"masa retensi {retention['within']} peristiwa belum berakhir (sampai {retention['last_day']}); "
                f"sebutkan perintah penghapusan lebih awal / retention has not ended (until {retention['last_day']}): "
                "name the order to erase earlier")
        now = self._clock()
        envelope = {"event_id": str(uuid.uuid4()), "type": "personal_data.erased", "schema_version": 1,
                    "occurred_at": now.isoformat(), "source": REGISTRAR_SOURCE, "subject": nip,
                    "period": str(now.year), "payload": {
                        "nip": nip, "reason": f"{reason} (perintah: {order})"[:2000] if order else reason[:2000],
                        "retention": "ended" if retention["ended"] else "override",
                        "retention_policy_hash": retention["policy_sha256"]}}
        try:
            status, answer = await self._forward(orjson.dumps(sign_envelope(envelope, self._registrar)))
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"the evidence intake is unreachable: {exc}"[:300]) from exc
        if status not in DECIDED or not isinstance(answer, dict):
            raise ServiceUnavailable(f"the evidence intake answered {status}: {str(answer)[:200]}")
        return _json(orjson.dumps({"event_id": envelope["event_id"], "status": answer.get("status"),
                                   "reasons": answer.get("reasons", []), "before": before,
                                   "after": await self._state(nip)}), status)

    def routes(self, guard: Guard) -> list[BaseRoute]:
        return [Route("/api/pdp/fields", self.fields, methods=["GET"]),
                Route("/api/pdp/keys/{nip}", guard(self.data_key), methods=["GET"]),
                Route("/api/pdp/export", guard(self.export), methods=["GET"]),
                Route("/api/admin/pdp/{nip}", guard(self.person), methods=["GET"]),
                Route("/api/admin/pdp/{nip}/erase", guard(self.erase), methods=["POST"])]


def _admin(viewer: Principal) -> None:
    if "admin" not in viewer.grants:
        raise GrantMissing("hanya admin BKPSDM / BKPSDM's administrators only")
