"""What each role works on (docs/people.md "What each role works on", "Administration"):

    GET  /api/tasks?period=P                    a session: whom the structure asks the viewer to rate (§1.4, §2.3)
    GET  /api/team?period=P                     a Pejabat Penilai: his or her appraisees, evidence beside own ratings
    GET  /api/feedback/{nip}/{period}           the employee, his or her chain, auditors: the dialog kinerja thread
    GET  /api/admin/progress?period=P[&unit=U]  admin: per unit, the expected ratings done and missing
    POST /api/admin/periods/{period}/close      admin (+CSRF): the registrar-signed `period.closed`, via the gate
    GET  /api/admin/dossier/{nip}/{period}      admin or auditor: the appeal dossier, from the audit service

The pure rules are services/scoring/app/people_reads.py; the queries services/scoring/adapters/work_store.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from contracts.signing import sign_envelope
from services.scoring.adapters.pdp_reveal import Opener, reveal_in_text
from services.scoring.adapters.web import DECIDED, Forward, Guard
from services.scoring.adapters.web_people import REGISTRAR_SOURCE, BadRequest, IntakeUnavailable, NotConfigured
from services.scoring.adapters.work_store import WorkStore
from services.scoring.app import people_reads as rules
from services.scoring.app.access import Principal, Role, require_appraisal
from services.scoring.app.people import GrantMissing, PeopleError, current_pejabat_penilai
from services.scoring.app.read import NotFound, ReadService

#: The audit service's dossier of one employee and period: (HTTP status, content type, body).
DossierFetch = Callable[[str, str], Awaitable[tuple[int, str, bytes]]]


class NoPeriod(PeopleError):
    """No period was asked for and no assignment is recorded to default to."""

    status, code = 404, "no_period"


class UnknownSubject(PeopleError):
    """A period is closed for a registered unit or an assigned employee only."""

    status, code = 404, "unknown_subject"


class AuditUnavailable(PeopleError):
    """The audit service is not configured or did not answer."""

    status, code = 503, "audit_unavailable"


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _people(assignments: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """NIP → the payload of his or her last recorded assignment (`assignments` in sequence order)."""
    return {a["subject"]: dict(a.get("payload") or {}) for a in assignments}


def _admin(viewer: Principal) -> None:
    if "admin" not in viewer.grants:
        raise GrantMissing("hanya admin BKPSDM / BKPSDM's administrators only")


def _own_nip(viewer: Principal) -> str:
    if viewer.nip is None:
        raise GrantMissing("tanpa NIP tidak ada tugas / a principal without a NIP has no tasks")
    return viewer.nip


def _checked_period(period: str) -> str:
    try:
        rules.period_key(period)
    except (ValueError, KeyError) as exc:
        raise BadRequest(f"period {period[:20]!r}: e.g. 2026, 2026-Q1, 2026-S1") from exc
    return period


def _is_nip(value: object) -> bool:
    return isinstance(value, str) and len(value) == 18 and value.isdigit()


class WorkApi:
    """The routes above, over the work store, the read use cases (for the chain of superiors), the registrar
    key and intake (closing a period), and the audit service (dossiers)."""

    def __init__(self, store: WorkStore, reads: ReadService, registrar: Ed25519PrivateKey | None,
                 forward: Forward | None, dossier: DossierFetch | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._store, self._reads, self._registrar = store, reads, registrar
        self._forward, self._dossier, self._clock = forward, dossier, clock

    async def _period(self, request: Request) -> str:
        asked = request.query_params.get("period")
        if asked:
            return _checked_period(asked)
        latest = rules.latest_period(await self._store.assigned_periods())
        if latest is None:
            raise NoPeriod("belum ada penugasan tercatat / no assignment is recorded yet")
        return latest

    # --- each role's work ---------------------------------------------------------------------------------------

    async def tasks(self, request: Request, viewer: Principal) -> Response:
        """`GET /api/tasks?period=P`."""
        nip, period = _own_nip(viewer), await self._period(request)
        assignments = await self._store.assignments_around(nip)
        structure = current_pejabat_penilai(assignments, self._clock())
        rows = rules.tasks(nip, structure, _people(assignments), await self._store.rated(period, rater=nip))
        return _json({"period": period, "deadline": rules.deadline_of(period), "tasks": rows,
                      "values": rules.values_catalogue()})

    async def team(self, request: Request, viewer: Principal) -> Response:
        """`GET /api/team?period=P`: the employees whose Pejabat Penilai the viewer is now."""
        nip, period = _own_nip(viewer), await self._period(request)
        assignments = await self._store.assignments_around(nip)
        structure = current_pejabat_penilai(assignments, self._clock())
        members = [n for n, pp in structure.items() if pp == nip and n != nip]
        rows = rules.team(nip, members, _people(assignments), await self._store.results(period, members),
                          await self._store.delivered(period, members))
        return _json({"period": period, "members": rows})

    async def feedback(self, request: Request, viewer: Principal) -> Response:
        """`GET /api/feedback/{nip}/{period}`: as far as the viewer may see the appraisal (access.py)."""
        nip, period = request.path_params["nip"], _checked_period(request.path_params["period"])
        if not _is_nip(nip):
            raise BadRequest("nip: 18 digits")
        chain = (await self._reads.chains([nip], period))[nip]
        require_appraisal(viewer, nip, chain)
        stream = await self._store.feedback(nip, period)
        authors = {str((b.get("payload") or {}).get("from_nip")) for b in stream}
        people = _people(await self._store.assignments_of(authors | {nip}))
        named = authors if viewer.role is Role.AUDITOR else {nip, *chain, *([viewer.nip] if viewer.nip else [])}
        return _json({"nip": nip, "period": period, "items": rules.feedback_thread(nip, stream, people, named)})

    # --- administration -----------------------------------------------------------------------------------------

    async def progress(self, request: Request, viewer: Principal) -> Response:
        """`GET /api/admin/progress?period=P[&unit=U]` (admin)."""
        _admin(viewer)
        period = await self._period(request)
        assignments = await self._store.all_assignments()
        structure = current_pejabat_penilai(assignments, self._clock())
        unit = request.query_params.get("unit") or None
        units = rules.progress(structure, _people(assignments), await self._store.unit_names(),
                               await self._store.rated(period), unit=unit,
                               listed=None if unit else rules.MISSING_LISTED)
        return _json({"period": period, "units": units})

    async def close_period(self, request: Request, viewer: Principal) -> Response:
        """`POST /api/admin/periods/{period}/close {unit_id} | {nip}` (admin): the registrar-signed
        `period.closed` sent through the intake; the gate's answer as `POST /api/submissions` gives it."""
        _admin(viewer)
        if self._registrar is None:
            raise NotConfigured("OBJEKTIF_SCORING_REGISTRAR_KEY is not set")
        if self._forward is None:
            raise NotConfigured("OBJEKTIF_SCORING_EVIDENCE_URL is not set")
        period = _checked_period(request.path_params["period"])
        body = await _object(request)
        unit_id, nip = body.get("unit_id"), body.get("nip")
        if (unit_id is None) == (nip is None):
            raise BadRequest("exactly one of unit_id, nip")
        if nip is not None and not _is_nip(nip):
            raise BadRequest("nip: 18 digits")
        if unit_id is not None and not (isinstance(unit_id, str) and 0 < len(unit_id) <= 64):
            raise BadRequest("unit_id: 1 to 64 characters")
        evaluation = body.get("evaluation", "periodik")
        if evaluation not in ("periodik", "tahunan"):
            raise BadRequest("evaluation: periodik or tahunan")
        subject = str(unit_id if unit_id is not None else nip)
        if not await self._store.known_subject(subject):
            raise UnknownSubject(f"{subject} tidak tercatat / no unit or employee {subject} is recorded")
        now = self._clock()
        envelope = sign_envelope({
            "event_id": str(uuid.uuid4()), "type": "period.closed", "schema_version": 1,
            "occurred_at": now.isoformat(), "source": REGISTRAR_SOURCE, "subject": subject, "period": period,
            "payload": {"closed_by": f"nip:{viewer.nip}" if viewer.nip else REGISTRAR_SOURCE,
                        "evaluation": evaluation}}, self._registrar)
        try:
            status, answer = await self._forward(orjson.dumps(envelope))
        except httpx.HTTPError as exc:
            raise IntakeUnavailable(f"layanan bukti tidak terjangkau / the evidence intake is unreachable: {exc}"
                                    ) from exc
        if status not in DECIDED or not isinstance(answer, dict):
            raise IntakeUnavailable(f"the evidence intake answered {status}: {str(answer)[:200]}")
        return _json({"event_id": envelope["event_id"], "subject": subject, "period": period,
                      "status": answer.get("status"), "reasons": answer.get("reasons", []), "answer": answer}, status)

    async def dossier(self, request: Request, viewer: Principal) -> Response:
        """`GET /api/admin/dossier/{nip}/{period}` (admin or auditor): the audit service's appeal dossier page."""
        if "admin" not in viewer.grants and viewer.role is not Role.AUDITOR:
            raise GrantMissing("hanya admin BKPSDM dan auditor / BKPSDM's administrators and auditors only")
        nip, period = request.path_params["nip"], _checked_period(request.path_params["period"])
        if not _is_nip(nip):
            raise BadRequest("nip: 18 digits")
        if self._dossier is None:
            raise AuditUnavailable("OBJEKTIF_SCORING_AUDIT_URL is not set")
        try:
            status, media_type, content = await self._dossier(nip, period)
        except httpx.HTTPError as exc:
            raise AuditUnavailable(f"layanan audit tidak terjangkau / the audit service is unreachable: {exc}"
                                   ) from exc
        if status == 404:
            raise NotFound(f"tidak ada berkas untuk {nip} {period} / nothing ledgered about {nip} in {period}")
        if status != 200:
            raise AuditUnavailable(f"the audit service answered {status}: {content[:200]!r}")
        return Response(content, media_type=media_type, headers={
            "Content-Disposition": f'attachment; filename="berkas-keberatan-{nip}-{period}.html"',
            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

    def routes(self, guard: Guard) -> list[BaseRoute]:
        """The routes, each wrapped by `guard` (`WebApi.guarded`)."""
        return [
            Route("/api/tasks", guard(self.tasks), methods=["GET"]),
            Route("/api/team", guard(self.team), methods=["GET"]),
            Route("/api/feedback/{nip}/{period}", guard(self.feedback), methods=["GET"]),
            Route("/api/admin/progress", guard(self.progress), methods=["GET"]),
            Route("/api/admin/periods/{period}/close", guard(self.close_period), methods=["POST"]),
            Route("/api/admin/dossier/{nip}/{period}", guard(self.dossier), methods=["GET"]),
        ]


async def _object(request: Request, limit: int = 4096) -> dict[str, Any]:
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


def audit_dossiers(base_url: str, token: str | None, opener: Opener | None = None,
                   timeout: float = 30.0) -> DossierFetch:
    """A DossierFetch over the audit service's `GET /dossiers/{nip}/{period}` at `base_url`, sending the
    auditors' bearer `token` (services/audit/adapters/dossier_web.py). The audit service holds no keys: the
    page's sealed personal values (names, comments; UU PDP) are opened here with `opener`, for the administrators
    and auditors this route serves."""
    root = base_url.rstrip("/")
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def fetch(nip: str, period: str) -> tuple[int, str, bytes]:
        async with httpx.AsyncClient(timeout=timeout) as client:
            answer = await client.get(f"{root}/dossiers/{quote(nip, safe='')}/{quote(period, safe='')}",
                                      headers=headers)
        media_type = answer.headers.get("content-type", "text/html; charset=utf-8")
        content = answer.content
        if answer.status_code == 200 and media_type.startswith("text/html"):
            content = (await reveal_in_text(content.decode("utf-8", "replace"), opener)).encode()
        return answer.status_code, media_type, content

    return fetch

