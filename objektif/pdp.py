"""A person's data under UU PDP, for `objektif pdp export|erase` (issue 18; ADR 0010, docs/pdp.md).

- `gather`: everything held about or by one person — the evidence events whose subject is the NIP or whose source is
  `nip:<NIP>`, the rejections about him or her, the published results — with each personal field opened, each
  event's ledger leaf and its RFC 6962 inclusion proof under the latest signed checkpoint (so that the root an
  independent verifier computes from any of them equals the checkpoint's), and the person's data keys.
- `verify_export`: an export's proofs checked with RFC 6962 hashing alone.

Retention and what an erasure made unreadable are the evidence service's (`services/evidence/adapters/pdp_person.py`).
"""

from __future__ import annotations

import base64
from typing import Any

import asyncpg
import orjson

from contracts.merkle import leaf_hash, root_from_inclusion
from services.audit.adapters import queries
from services.audit.app.person_export import leaf_proof
from services.evidence.adapters.pdp_keys import DataKeys
from services.evidence.adapters.pdp_person import events_of, personal

FORMAT = "objektif-pdp-export-v1"


async def gather(conn: asyncpg.Connection, keys: DataKeys, nip: str) -> dict[str, Any]:
    """The person's export (see the module's docstring), as one JSON-ready document."""
    checkpoint = await queries.latest_checkpoint(conn)
    rows = await events_of(conn, nip)
    rejections = await conn.fetch(
        "SELECT event_id, value FROM evidence.rejections WHERE key = $1 ORDER BY pos", nip)
    envelopes = [orjson.loads(r["value"]) for r in rows]
    sealed = sorted({v for e in envelopes if e.get("subject") == nip for _p, v in personal(e)})
    opened = dict(zip(sealed, await keys.open(sealed), strict=True))
    events = []
    for row, envelope in zip(rows, envelopes, strict=True):
        leaf = await queries.leaf_by_event(conn, row["event_id"])
        unledgered = {"leaf_index": None, "leaf_hash": None, "leaf_bytes_b64": None, "inclusion_proof": None}
        fields = {p: opened.get(v, v) if envelope.get("subject") == nip else "(data pribadi orang lain)"
                  for p, v in personal(envelope)}
        events.append({
            "sequence": row["pos"], "event_id": str(row["event_id"]), "type": row["type"], "source": row["source"],
            "subject": row["subject"], "period": row["period"], "envelope": envelope, "personal_fields": fields,
            **(unledgered if leaf is None else await leaf_proof(conn, leaf, checkpoint)),
        })
    results = await conn.fetch(
        "SELECT period, result FROM scoring.appraisals WHERE nip = $1 ORDER BY period", nip)
    return {
        "format": FORMAT, "nip": nip,
        "checkpoint": None if checkpoint is None else {
            "size": checkpoint.size, "root": checkpoint.root.hex(), "note": checkpoint.note},
        "data_keys": [{"kid": k.kid, "destroyed": k.destroyed} for k in await keys.keys_of(nip)],
        "events": events,
        "rejections": [{"event_id": str(r["event_id"]), "envelope": _json(r["value"])} for r in rejections],
        "results": [{"period": r["period"], "result": _json(r["result"])} for r in results],
        "completeness": "every evidence event whose subject is this NIP or whose source is nip:<NIP>, every "
                        "rejection keyed by it and every published result, as stored when exported; each event's "
                        "inclusion proof recomputes the checkpoint's root",
    }


def _json(value: Any) -> Any:
    """A JSON column as asyncpg hands it: text or bytes, or already decoded by the pool's codec."""
    return orjson.loads(value) if isinstance(value, str | bytes | bytearray | memoryview) else value


def verify_export(doc: dict[str, Any]) -> list[str]:
    """Problems with an export's proofs (empty when each event's leaf bytes hash to its leaf hash and its proof
    recomputes the checkpoint root). What an independent verifier does, using only RFC 6962 hashing."""
    problems: list[str] = []
    checkpoint = doc.get("checkpoint")
    if checkpoint is None:
        return ["no checkpoint in the export"]
    root = bytes.fromhex(checkpoint["root"])
    for e in doc["events"]:
        if e["inclusion_proof"] is None:
            problems.append(f"{e['event_id']}: not yet under the checkpoint")
            continue
        leaf = bytes.fromhex(e["leaf_hash"])
        if e["leaf_bytes_b64"] is not None and leaf_hash(base64.b64decode(e["leaf_bytes_b64"])) != leaf:
            problems.append(f"{e['event_id']}: leaf bytes do not hash to the leaf hash")
        path = [bytes.fromhex(p) for p in e["inclusion_proof"]]
        if root_from_inclusion(leaf, e["leaf_index"], checkpoint["size"], path) != root:
            problems.append(f"{e['event_id']}: inclusion proof does not give the checkpoint root")
    return problems


async def opened(admin_dsn: str, kek: bytes, document: Any) -> Any:
    """`document` with its sealed personal values (names, comments; ADR 0010) opened with the operator's
    key-encryption key, as the read API opens them for those allowed to see them."""
    from chassis.db import create_pool
    from services.scoring.adapters.pdp_reveal import reveal

    pool = await create_pool(admin_dsn)
    try:
        return await reveal(document, DataKeys(pool, kek).open)
    finally:
        await pool.close()


async def opened_page(admin_dsn: str, kek: bytes, page: str) -> str:
    """An HTML page (the appeal dossier) with its sealed values opened, HTML-escaped, as `opened` does."""
    from chassis.db import create_pool
    from services.scoring.adapters.pdp_reveal import reveal_in_text

    pool = await create_pool(admin_dsn)
    try:
        return await reveal_in_text(page, DataKeys(pool, kek).open)
    finally:
        await pool.close()
