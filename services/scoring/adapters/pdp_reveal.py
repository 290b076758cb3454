"""Personal data shown only to those the read API already answers (UU PDP; ADR 0010, contracts/pdp.py).

The scoring store holds personal fields as they were signed: sealed to the person's data key (`pdp1:…`). This
ASGI middleware opens them in the JSON answers of `/api/…` — after the route decided who may see the answer — by
asking the evidence service (`POST /pdp/open`, with the services' PDP token) for all of one answer's values at
once. A value whose key was destroyed reads `dihapus (UU PDP)`; one that cannot be opened now (the evidence
service unreachable, no token configured) reads `tidak dapat dibuka sekarang`, never the ciphertext.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx
import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts import pdp

#: Shown where a sealed value could not be opened now (it may open later: nothing was destroyed).
UNAVAILABLE = "tidak dapat dibuka sekarang"
#: Sealed values per `POST /pdp/open` (services/evidence/adapters/http_pdp.py MAX_VALUES).
OPEN_AT_ONCE = 2_000
Opener = Callable[[Sequence[str]], Awaitable[list[str | None]]]
log = structlog.get_logger()


def evidence_opener(base_url: str, token: str, timeout: float = 10.0) -> Opener:
    """Open sealed values with the evidence service's `POST /pdp/open`."""
    root = base_url.rstrip("/")

    async def open_values(values: Sequence[str]) -> list[str | None]:
        opened: list[str | None] = []
        async with httpx.AsyncClient(timeout=timeout) as client:
            for at in range(0, len(values), OPEN_AT_ONCE):  # the evidence service's limit per request
                answer = await client.post(f"{root}/pdp/open", headers={"Authorization": f"Bearer {token}"},
                                           content=orjson.dumps({"values": list(values[at:at + OPEN_AT_ONCE])}))
                answer.raise_for_status()
                opened += [v if isinstance(v, str) else None for v in answer.json()["values"]]
        return opened

    return open_values


def _sealed_strings(node: Any, found: set[str]) -> None:
    if isinstance(node, str):
        if node.startswith(pdp.PREFIX):
            found.add(node)
    elif isinstance(node, dict):
        for value in node.values():
            _sealed_strings(value, found)
    elif isinstance(node, list):
        for value in node:
            _sealed_strings(value, found)


def _replaced(node: Any, opened: dict[str, str]) -> Any:
    if isinstance(node, str):
        return opened.get(node, node) if node.startswith(pdp.PREFIX) else node
    if isinstance(node, dict):
        return {k: _replaced(v, opened) for k, v in node.items()}
    if isinstance(node, list):
        return [_replaced(v, opened) for v in node]
    return node


async def reveal(body: Any, opener: Opener | None) -> Any:
    """`body` with every sealed string replaced by its plaintext (or why it cannot be shown)."""
    found: set[str] = set()
    _sealed_strings(body, found)
    if not found:
        return body
    values = sorted(found)
    opened: list[str | None] = [None] * len(values)
    if opener is not None:
        try:
            opened = await opener(values)
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            log.warning("pdp.open_failed", error=str(exc)[:200], values=len(values))
    return _replaced(body, {v: o if o is not None else UNAVAILABLE for v, o in zip(values, opened, strict=True)})


#: A sealed value inside text (an HTML page): `pdp1:<kid>:<base64url>` (contracts/pdp.py).
SEALED_IN_TEXT = re.compile(r"pdp1:[0-9a-f]{16}:[A-Za-z0-9_-]+")


async def reveal_in_text(text: str, opener: Opener | None, escape: Callable[[str], str] = html.escape) -> str:
    """`text` (a page the route decided the viewer may see) with each sealed value replaced by its plaintext,
    escaped for the page, or by why it cannot be shown; as `reveal` does for JSON."""
    values = sorted(set(SEALED_IN_TEXT.findall(text)))
    if not values:
        return text
    shown = await reveal(values, opener)
    table = {v: escape(o) for v, o in zip(values, shown, strict=True)}
    return SEALED_IN_TEXT.sub(lambda m: table[m.group(0)], text)


async def reveal_fields(rows: Sequence[Any], field: str, opener: Opener | None) -> list[Any]:
    """Rows (dataclasses) with their sealed `field` opened, for outputs that are not JSON (CSV, XLSX)."""
    shown = await reveal([getattr(r, field) for r in rows], opener)
    return [dataclasses.replace(r, **{field: v}) for r, v in zip(rows, shown, strict=True)]


def json_escaped(text: str) -> str:
    """`text` as it stands inside a JSON string (for `reveal_in_text` over a JSON document's bytes)."""
    return orjson.dumps(text).decode()[1:-1]


class RevealPersonalData:
    """Wraps the service's ASGI app: JSON answers under `/api/` have their sealed values opened."""

    def __init__(self, app: ASGIApp, opener: Opener | None) -> None:
        self.app = app
        self._opener = opener

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._finish(start, b"".join(chunks), send)

        await self.app(scope, receive, buffered)

    async def _finish(self, start: Message, body: bytes, send: Send) -> None:
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        is_json = any(k.lower() == b"content-type" and v.startswith(b"application/json") for k, v in headers)
        if is_json and pdp.PREFIX.encode() in body:
            body = orjson.dumps(await reveal(orjson.loads(body), self._opener))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

