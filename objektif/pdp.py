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
from services.audit.app.proofs import latest_covered
from services.audit.domain.partitions import entry
from services.evidence.adapters.pdp_keys import DataKeys
from services.evidence.adapters.pdp_person import events_of, personal

FORMAT = "objektif-pdp-export-v2"


async def gather(conn: asyncpg.Connection, keys: DataKeys, nip: str) -> dict[str, Any]:
    """The person's export (see the module's docstring), as one JSON-ready document."""
    covered = await latest_covered(conn)
    rows = await events_of(conn, nip)
    rejections = await conn.fetch(
        "SELECT event_id, value FROM evidence.rejections WHERE key = $1 ORDER BY pos", nip)
    envelopes = [orjson.loads(r["value"]) for r in rows]
    sealed = sorted({v for e in envelopes if e.get("subject") == nip for _p, v in personal(e)})
    opened = dict(zip(sealed, await keys.open(sealed), strict=True))
    events = []
    for row, envelope in zip(rows, envelopes, strict=True):
        leaf = await queries.leaf_by_event(conn, row["event_id"])
        unledgered = {"partition": None, "leaf_index": None, "leaf_hash": None, "leaf_bytes_b64": None,
                      "inclusion_proof": None, "partition_proof": None}
        fields = {p: opened.get(v, v) if envelope.get("subject") == nip else "(data pribadi orang lain)"
                  for p, v in personal(envelope)}
        events.append({
            "sequence": row["pos"], "event_id": str(row["event_id"]), "type": row["type"], "source": row["source"],
            "subject": row["subject"], "period": row["period"], "envelope": envelope, "personal_fields": fields,
            **(unledgered if leaf is None else await leaf_proof(conn, leaf, covered)),
        })
    results = await conn.fetch(
        "SELECT period, result FROM scoring.appraisals WHERE nip = $1 ORDER BY period", nip)
    return {
        "format": FORMAT, "nip": nip,
        "checkpoint": None if covered is None else covered.to_json(),
        "data_keys": [{"kid": k.kid, "destroyed": k.destroyed} for k in await keys.keys_of(nip)],
        "events": events,
        "rejections": [{"event_id": str(r["event_id"]), "envelope": _json(r["value"])} for r in rejections],
        "results": [{"period": r["period"], "result": _json(r["result"])} for r in results],
        "completeness": "every evidence event whose subject is this NIP or whose source is nip:<NIP>, every "
                        "rejection keyed by it and every published result, as stored when exported; each event's "
                        "inclusion proof recomputes its partition's root, and the partition's proof the checkpoint's",
    }


def _json(value: Any) -> Any:
    """A JSON column as asyncpg hands it: text or bytes, or already decoded by the pool's codec."""
    return orjson.loads(value) if isinstance(value, str | bytes | bytearray | memoryview) else value


def verify_export(doc: dict[str, Any]) -> list[str]:
    """Problems with an export's proofs (empty when each event's leaf bytes hash to its leaf hash, its proof
    recomputes its partition's root and that partition's proof the root of the checkpoint over every partition;
    ADR 0013). What an independent verifier does, using only RFC 6962 hashing."""
    problems: list[str] = []
    checkpoint = doc.get("checkpoint")
    if checkpoint is None:
        return ["no checkpoint in the export"]
    root, count = bytes.fromhex(checkpoint["root"]), checkpoint["count"]
    trees = {p["part"]: (p["size"], bytes.fromhex(p["root"])) for p in checkpoint["partitions"]}
    for e in doc["events"]:
        if e["inclusion_proof"] is None or e["partition"] not in trees:
            problems.append(f"{e['event_id']}: not yet under the checkpoint")
            continue
        leaf = bytes.fromhex(e["leaf_hash"])
        if e["leaf_bytes_b64"] is not None and leaf_hash(base64.b64decode(e["leaf_bytes_b64"])) != leaf:
            problems.append(f"{e['event_id']}: leaf bytes do not hash to the leaf hash")
        size, tree_root = trees[e["partition"]]
        path = [bytes.fromhex(p) for p in e["inclusion_proof"]]
        if root_from_inclusion(leaf, e["leaf_index"], size, path) != tree_root:
            problems.append(f"{e['event_id']}: inclusion proof does not give its partition's root")
        step = [bytes.fromhex(p) for p in e["partition_proof"]]
        if root_from_inclusion(leaf_hash(entry(e["partition"], size, tree_root)), e["partition"], count, step) != root:
            problems.append(f"{e['event_id']}: its partition's proof does not give the checkpoint root")
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
