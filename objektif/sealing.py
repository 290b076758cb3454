"""Sealing personal fields before signing, for the CLI (UU PDP; ADR 0010, contracts/pdp.py).

The subject's data key comes from `--data-key NIP=<base64>` (offline, e.g. with `--out`) or from the evidence
service (`GET /pdp/keys/{nip}`, asked once per NIP): `--evidence-url`, else the `--http` intake URL, else
`OBJEKTIF_EVIDENCE_URL`.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import httpx
import typer

from contracts import pdp

ENV_EVIDENCE_URL = "OBJEKTIF_EVIDENCE_URL"
DataKeyOption = Annotated[
    list[str] | None,
    typer.Option("--data-key", help="NIP=<base64 X25519 public key>: seal that person's personal fields to it"),
]
EvidenceUrl = Annotated[
    str | None,
    typer.Option("--evidence-url", envvar=ENV_EVIDENCE_URL, help="evidence service URL (GET /pdp/keys/{nip})"),
]


class NoDataKey(LookupError):
    """The subject's data key could not be found: the message says what to give."""


def parse_data_keys(options: Sequence[str] | None) -> dict[str, bytes]:
    """`NIP=<base64>` options as NIP → raw public key; ValueError naming the bad one."""
    keys: dict[str, bytes] = {}
    for option in options or ():
        nip, _, text = option.partition("=")
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(nip) != 18 or not nip.isdigit() or len(raw) != 32:
            raise ValueError(f"--data-key {option[:40]!r}: expected NIP=<base64 of a 32-byte X25519 public key>")
        keys[nip] = raw
    return keys


def data_key_lookup(given: dict[str, bytes], url: str | None, client: httpx.Client | None = None
                    ) -> Callable[[str], bytes]:
    """NIP → public data key: the given ones first, then the evidence service's (cached)."""
    cache = dict(given)

    def lookup(nip: str) -> bytes:
        if nip in cache:
            return cache[nip]
        if not url:
            raise NoDataKey(f"no data key for {nip}: give --data-key {nip}=<base64>, --evidence-url or --http "
                            f"(or {ENV_EVIDENCE_URL})")
        answer = _ask(url, nip, client)
        if answer.status_code != 200:
            raise NoDataKey(f"the evidence service gave no data key for {nip}: HTTP {answer.status_code} "
                            f"{answer.text[:200]}")
        cache[nip] = base64.b64decode(answer.json()["public_key"])
        return cache[nip]

    return lookup


def _ask(url: str, nip: str, client: httpx.Client | None, wait: float = 60.0) -> httpx.Response:
    """GET /pdp/keys/{nip}, asking again for up to `wait` seconds while the service starts (no answer, 503)."""
    deadline = time.monotonic() + wait
    with client or httpx.Client(base_url=url.rstrip("/"), timeout=30.0) as c:
        while True:
            try:
                answer = c.get(f"/pdp/keys/{nip}")
                if answer.status_code != 503 or time.monotonic() > deadline:
                    return answer
            except httpx.TransportError as exc:
                if time.monotonic() > deadline:
                    raise NoDataKey(f"the evidence service at {url} did not answer: {exc}") from exc
            time.sleep(0.5)


def stack_lookup(stack: Any) -> Callable[[str], bytes]:
    """The data keys of the evidence service an embedded or environment stack (objektif/stack.py) runs."""
    return data_key_lookup({}, f"http://127.0.0.1:{stack.http_ports['evidence']}")


def has_personal_fields(envelope: dict[str, Any]) -> bool:
    payload = envelope.get("payload")
    return isinstance(payload, dict) and any(True for _ in pdp.personal_values(str(envelope.get("type")), payload))


def sealed(envelope: dict[str, Any], lookup: Callable[[str], bytes]) -> dict[str, Any]:
    """The envelope with its personal fields sealed to its subject's data key (unchanged when it has none)."""
    if not has_personal_fields(envelope):
        return envelope
    return pdp.seal_payload(envelope, lookup(str(envelope.get("subject"))))


def default_url(*candidates: str | None) -> str | None:
    return next((c for c in candidates if c), None) or os.environ.get(ENV_EVIDENCE_URL)
