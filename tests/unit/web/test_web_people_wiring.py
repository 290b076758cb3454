"""The scoring composition root wires the people routes beside the read API (services/scoring/main.py), and the
registrar key setting is a base64 Ed25519 seed or an error at start, never a silent default."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.routing import Route

from chassis.http import HttpService
from services.scoring.main import ScoringSettings, build_app, registrar_of

COMMON = {"kafka_bootstrap": "127.0.0.1:1", "database_url": "postgresql://nobody@127.0.0.1:1/none", "http_port": 1,
          "token_secret": "unit-test-secret-0123456789", "evidence_url": "http://127.0.0.1:1"}


def test_the_people_routes_are_served_beside_the_read_api() -> None:
    seed = base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode()
    service = build_app(ScoringSettings(registrar_key=seed, **COMMON))  # type: ignore[arg-type]
    assert isinstance(service, HttpService)
    paths = {(r.path, m) for r in service.asgi.routes if isinstance(r, Route) for m in (r.methods or ())}
    for wanted in (("/api/me", "GET"), ("/api/enrolments", "POST"), ("/api/enrolments", "GET"),
                   ("/api/enrol", "POST"), ("/api/session/challenge", "POST"), ("/api/session", "POST"),
                   ("/api/session/end", "POST"), ("/api/keys/revoke", "POST"), ("/api/submissions", "POST")):
        assert wanted in paths, wanted


def test_the_registrar_key_is_a_base64_seed_or_an_error() -> None:
    key = Ed25519PrivateKey.generate()
    seed = base64.b64encode(key.private_bytes_raw()).decode()
    parsed = registrar_of(ScoringSettings(registrar_key=seed, **COMMON))  # type: ignore[arg-type]
    assert parsed is not None
    assert parsed.public_key().public_bytes_raw() == key.public_key().public_bytes_raw()
    assert registrar_of(ScoringSettings(**COMMON)) is None  # type: ignore[arg-type]
    for bad in ("not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(ValueError, match="REGISTRAR_KEY"):
            registrar_of(ScoringSettings(registrar_key=bad, **COMMON))  # type: ignore[arg-type]
