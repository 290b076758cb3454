"""An evidence service of the people routes' tests: an intake that registers, revokes and checks person keys
like the gate does for these types (registrations signed by the registrar, person acts by an active key of
their source), and its `GET /sources/{id}` answer. A fake we own, not a mock of httpx."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contracts.signing import b64, key_id, unb64, verify_envelope


def rejection(event_id: Any, code: str) -> tuple[int, dict[str, Any]]:
    return 422, {"event_id": event_id, "status": "rejected",
                 "reasons": [{"code": code, "message_id": f"ditolak: {code}", "message_en": f"refused: {code}",
                              "path": "signature"}]}


@dataclass
class FakeEvidence:
    """Sources by id → [{key_id, public_key, status}]; every submission it was sent, in order."""

    registrar: Ed25519PrivateKey
    sources: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    refuse_registrations: bool = False
    reachable: bool = True

    async def forward(self, raw: bytes) -> tuple[int, dict[str, Any]]:
        """POST /submissions."""
        if not self.reachable:
            import httpx

            raise httpx.ConnectError("connection refused")
        envelope = orjson.loads(raw)
        self.sent.append(envelope)
        event_id, payload = envelope["event_id"], envelope["payload"]
        if envelope["type"] in ("source.registered", "source.key.revoked"):
            if self.refuse_registrations or not verify_envelope(envelope, self.registrar.public_key()):
                return rejection(event_id, "signature.invalid")
            keys = self.sources.setdefault(payload["source_id"], [])
            if envelope["type"] == "source.registered":
                for k in keys:
                    k["status"] = "retired" if k["status"] == "active" else k["status"]
                raw_key = unb64(payload["public_key"])
                assert raw_key is not None
                keys.append({"key_id": key_id(raw_key), "public_key": payload["public_key"], "status": "active"})
            else:
                for k in keys:
                    if k["key_id"] == payload["key_id"]:
                        k["status"] = "revoked"
            return 202, {"event_id": event_id, "status": "accepted", "sequence": len(self.sent)}
        for k in self.sources.get(envelope["source"], []):
            public = Ed25519PublicKey.from_public_bytes(unb64(k["public_key"]) or b"")
            if verify_envelope(envelope, public):
                if k["status"] != "active":
                    return rejection(event_id, f"key.{k['status']}")
                return 202, {"event_id": event_id, "status": "accepted", "sequence": len(self.sent)}
        return rejection(event_id, "signature.invalid")

    async def lookup(self, source_id: str) -> dict[str, Any] | None:
        """GET /sources/{source_id}."""
        if source_id not in self.sources:
            return None
        return {"source_id": source_id, "kind": "person", "keys": [dict(k) for k in self.sources[source_id]]}


def behaviour_rating(rater: str, ratee: str, key: Ed25519PrivateKey, source: str | None = None) -> bytes:
    """A `behaviour.rated` envelope signed by `key`, in `source`'s name (the rater's by default)."""
    from contracts.signing import sign_envelope

    envelope = {"event_id": str(uuid.uuid4()), "type": "behaviour.rated", "schema_version": 1,
                "occurred_at": "2025-09-01T08:00:00+07:00", "source": source or f"nip:{rater}", "subject": ratee,
                "period": "2025-Q3", "payload": {"rater_nip": rater, "relation": "atasan", "value": "akuntabel",
                                                 "score": 3}}
    return orjson.dumps(sign_envelope(envelope, key))


def public_b64(key: Ed25519PrivateKey) -> str:
    return b64(key.public_key().public_bytes_raw())
