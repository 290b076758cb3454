"""The evidence service's HTTP intake (issue 6), for departmental systems without a Kafka client.

    POST /submissions     one envelope (the same JSON as on `objektif.submissions.v1`), or several as
                          `application/x-ndjson` (one envelope a line)
    GET  /openapi.json    this API's OpenAPI document (services/evidence/adapters/http_openapi.py)

A request is decided by the same gate and stored by the same `Intake` object as a Kafka batch (the service's
single writer, app/intake.py), so each submission ends as exactly one accepted or one rejected event, and a
rejection is recorded with its reasons and original bytes and relayed to `objektif.rejections.v1` like any other.

Answers, per submission: `accepted` or `duplicate` (the event id was accepted before; the first acceptance
stands) with the event's sequence, or `rejected` with the gate's reasons (recorded). One envelope: 202 or 422.
Several: 202 when none was rejected, 422 when all were, 207 when some were; every line is answered.

Refusals before the gate (`status: refused`, nothing recorded, since nothing was read or there is no single
submission to record): 429 over the per-client rate, 413 for an NDJSON body over its limit, 400 for an NDJSON body
without submissions, 503 while the service starts. A single envelope over the gate's size limit is the gate's
`oversize` rejection, answered 413 and recorded (with its first bytes, like an oversize Kafka record).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from contracts.events import RejectionReason
from services.evidence.adapters.http_openapi import (
    AnswerBody,
    BulkAnswerBody,
    LineAnswerBody,
    RefusalBody,
    RejectionBody,
    openapi_document,
)
from services.evidence.app.intake import Answer
from services.evidence.domain import MAX_BYTES, Code

NDJSON = "application/x-ndjson"


class Answerer(Protocol):
    """What the routes need from the service's `Intake`."""

    async def answer(self, raws: Sequence[bytes], received_from: str | Sequence[str]) -> tuple[Answer, ...]: ...


@dataclass
class _Waiting:
    raws: Sequence[bytes]
    received_from: str
    answered: asyncio.Future[tuple[Answer, ...]]


class GroupCommit:
    """Requests that arrive while a batch is being decided and stored wait, then go together as the next batch:
    one pass of the gate and one transaction for all of them (group commit), in arrival order, at most
    `max_lines` submissions a batch. The Intake decides one batch at a time anyway (it is the single writer), so
    without this concurrent single-envelope requests would each wait for their own commit."""

    def __init__(self, max_lines: int) -> None:
        self._max = max_lines
        self._waiting: deque[_Waiting] = deque()
        self._drainer: asyncio.Task[None] | None = None

    async def answer(self, intake: Answerer, raws: Sequence[bytes], received_from: str) -> tuple[Answer, ...]:
        """The answers to `raws`, decided in the next batch."""
        waiting = _Waiting(raws, received_from, asyncio.get_running_loop().create_future())
        self._waiting.append(waiting)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain(intake))
        return await waiting.answered

    async def _drain(self, intake: Answerer) -> None:
        while self._waiting:
            batch = [self._waiting.popleft()]
            size = len(batch[0].raws)
            while self._waiting and size + len(self._waiting[0].raws) <= self._max:
                batch.append(self._waiting.popleft())
                size += len(batch[-1].raws)
            raws = [raw for w in batch for raw in w.raws]
            origins = [w.received_from for w in batch for _ in w.raws]
            try:
                answers = await intake.answer(raws, origins)
            except asyncio.CancelledError:  # the service is stopping: nobody gets an answer
                for w in (*batch, *self._waiting):
                    w.answered.cancel()
                raise
            except Exception as error:  # not swallowed: each request of the batch raises it (a 500)
                for w in batch:
                    if not w.answered.done():
                        w.answered.set_exception(error)
                continue  # the requests that came later are a batch of their own
            start = 0
            for w in batch:
                if not w.answered.done():  # a client that went away no longer waits; its answer stands
                    w.answered.set_result(answers[start : start + len(w.raws)])
                start += len(w.raws)


@dataclass(frozen=True)
class HttpIntakeLimits:
    """Request limits. `max_envelope_bytes` is the gate's own size limit; an NDJSON body may hold up to
    `max_lines` envelopes in `max_body_bytes`. Each client (by address) may make `burst` requests at once and
    `rate_per_second` on average (a token bucket); `max_clients` buckets are kept (least recently seen go)."""

    max_envelope_bytes: int = MAX_BYTES
    max_body_bytes: int = 8 * 1024 * 1024
    max_lines: int = 10_000
    rate_per_second: float = 20.0
    burst: int = 100
    max_clients: int = 10_000


class RateLimiter:
    """A token bucket per client: `take(client)` is 0.0 when the request may go ahead, else the seconds until
    it could. `clock` is monotonic seconds (injected, so tests need not sleep)."""

    def __init__(self, rate_per_second: float, burst: int, max_clients: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._max, self._clock = rate_per_second, float(burst), max_clients, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """Spend one token of `client`'s bucket, or say how long until one is there."""
        now = self._clock()
        tokens, then = self._buckets.pop(client, (self._burst, now))
        tokens = min(self._burst, tokens + (now - then) * self._rate)
        wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self._rate
        self._buckets[client] = (tokens - 1.0 if wait == 0.0 else tokens, now)
        while len(self._buckets) > self._max:  # forget the least recently seen: their bucket starts full again
            self._buckets.popitem(last=False)
        return wait


def _refusal(status: int, code: str, message_id: str, message_en: str, *, detail: str | None = None,
             retry_after: int | None = None) -> Response:
    if detail:
        message_id, message_en = f"{message_id}: {detail}", f"{message_en}: {detail}"
    body = RefusalBody(reasons=(RejectionReason(code=code, message_id=message_id, message_en=message_en),),
                       retry_after=retry_after)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return _json(body.model_dump(mode="json", exclude_none=True), status, headers)


def _json(body: object, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def answer_body(answer: Answer) -> AnswerBody | RejectionBody:
    """The JSON answer for one submission."""
    if answer.status == "rejected":
        return RejectionBody(event_id=answer.event_id, reasons=answer.reasons)
    # a stored submission always has its event id and sequence (Intake.answer)
    assert answer.event_id is not None, answer
    assert answer.sequence is not None, answer
    return AnswerBody(event_id=answer.event_id, status=answer.status, sequence=answer.sequence)


def bulk_status(answers: Sequence[Answer]) -> int:
    """202 when nothing was rejected, 422 when everything was, 207 (multi-status) when some was."""
    rejected = sum(a.status == "rejected" for a in answers)
    return 202 if rejected == 0 else 422 if rejected == len(answers) else 207


def bulk_body(answers: Sequence[Answer]) -> BulkAnswerBody:
    """Every line's answer, numbered from 1 as in the body sent, with the totals."""
    results = tuple(LineAnswerBody(line=i, answer=answer_body(a)) for i, a in enumerate(answers, start=1))
    count = {s: sum(a.status == s for a in answers) for s in ("accepted", "duplicate", "rejected")}
    return BulkAnswerBody(results=results, accepted=count["accepted"], duplicate=count["duplicate"],
                          rejected=count["rejected"])


async def _read_at_most(stream: AsyncIterator[bytes], limit: int) -> tuple[bytes, bool]:
    """The body's first `limit` + 1 bytes at most, and whether it was longer than `limit`. Reading stops there:
    a client cannot make the service hold more than that."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream:
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[: limit + 1], True
    return b"".join(chunks), False


def split_ndjson(body: bytes) -> list[bytes]:
    """The submissions of an NDJSON body: its lines (LF or CRLF), blank ones skipped."""
    return [line.removesuffix(b"\r") for line in body.split(b"\n") if line.strip()]


def intake_routes(
    intake_of: Callable[[], Answerer | None],
    *,
    limits: HttpIntakeLimits = HttpIntakeLimits(),
    on_stored: Callable[[], None] = lambda: None,
    clock: Callable[[], float] = time.monotonic,
) -> list[BaseRoute]:
    """`POST /submissions` over the service's intake (read when asked: it opens at startup) and
    `GET /openapi.json`. `on_stored` runs after each stored request (the service wakes its outbox relays)."""
    limiter = RateLimiter(limits.rate_per_second, limits.burst, limits.max_clients, clock)
    group = GroupCommit(limits.max_lines)
    document = orjson.dumps(openapi_document(limits))

    async def submissions(request: Request) -> Response:
        client = request.client.host if request.client else "unknown"
        wait = limiter.take(client)
        if wait > 0:
            return _refusal(429, "http.rate_limited", "Terlalu banyak permintaan; coba lagi nanti",
                            "Too many requests; try again later", retry_after=max(1, round(wait + 0.5)))
        intake = intake_of()
        if intake is None:
            return _refusal(503, "http.not_ready", "Layanan sedang dimulai", "The service is starting",
                            retry_after=5)
        bulk = request.headers.get("content-type", "").split(";")[0].strip().lower() == NDJSON
        received_from = f"http:{client}"
        if not bulk:
            # Read one byte past the gate's limit: the gate then refuses it as `oversize` and records its start.
            raw, _ = await _read_at_most(request.stream(), limits.max_envelope_bytes)
            (answer,) = await group.answer(intake, [raw], received_from)
            on_stored()
            body = answer_body(answer)
            status = 202 if answer.status != "rejected" else _rejection_status(answer)
            return _json(body.model_dump(mode="json"), status)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limits.max_body_bytes:
            return _refusal(413, "http.body_too_large", "Badan permintaan melebihi batas ukuran",
                            "Request body exceeds the size limit", detail=f"{declared} > {limits.max_body_bytes}")
        body_bytes, over = await _read_at_most(request.stream(), limits.max_body_bytes)
        if over:
            return _refusal(413, "http.body_too_large", "Badan permintaan melebihi batas ukuran",
                            "Request body exceeds the size limit", detail=f"> {limits.max_body_bytes} bytes")
        lines = split_ndjson(body_bytes)
        if not lines:
            return _refusal(400, "http.no_submissions", "Tidak ada kiriman dalam badan permintaan",
                            "The request body holds no submission")
        if len(lines) > limits.max_lines:
            return _refusal(413, "http.too_many_lines", "Terlalu banyak kiriman dalam satu permintaan",
                            "Too many submissions in one request", detail=f"{len(lines)} > {limits.max_lines}")
        answers = await group.answer(intake, lines, received_from)
        on_stored()
        return _json(bulk_body(answers).model_dump(mode="json"), bulk_status(answers))

    async def openapi(_request: Request) -> Response:
        return Response(document, media_type="application/json")

    return [Route("/submissions", submissions, methods=["POST"]), Route("/openapi.json", openapi)]


def _rejection_status(answer: Answer) -> int:
    """413 when the gate refused the submission for its size, else 422."""
    return 413 if any(r.code == Code.OVERSIZE for r in answer.reasons) else 422
