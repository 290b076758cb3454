"""A person's own copy of everything the ledger holds about or by him or her (issue 18; UU 27/2022 PDP, the right
of access; ADR 0010, docs/pdp.md), with the proof that it is complete as of the latest signed checkpoint.

Built from the ledger alone: under the latest checkpoint over every partition (ADR 0013), every leaf it covers whose
subject is the NIP (accepted events, refusals and published results about the person) and every leaf whose
envelope's ``source`` is ``nip:<NIP>`` (what the person wrote about others). Each event carries its leaf bytes,
leaf hash and two RFC 6962 inclusion proofs, so that `objektif.pdp.verify_export` (or anyone with SHA-256)
recomputes its partition's root, then the checkpoint's root from that; a leaf after the checkpoint waits for the
next one.

Personal fields (`contracts.pdp.personal_values`) are the subject's: in events about the person they are listed
sealed, as stored (only the person's data key opens them); in events about someone else they are replaced, in
``personal_fields`` and in the decoded ``envelope``, by `OTHERS`, so that nothing downstream opens another person's
data. The leaf bytes stay verbatim: the proof needs them, and they hold that data only sealed to its owner's key.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import asyncpg

from contracts import pdp, topics
from services.audit.adapters import queries
from services.audit.adapters.queries import Leaf
from services.audit.app.dossier import envelope_of
from services.audit.app.proofs import Covered, latest_covered, leaf_proofs

__all__ = ["FORMAT", "OTHERS", "gather", "leaf_proof"]

FORMAT = "objektif-pdp-export-v2"
#: What stands in an export for a personal value of someone other than the person exporting.
OTHERS = "(data pribadi orang lain)"


async def leaf_proof(conn: asyncpg.Connection, leaf: Leaf, covered: Covered | None) -> dict[str, Any]:
    """An exported event's proof keys, as `objektif.pdp.verify_export` reads them: its partition, its index in
    the partition's tree, leaf hash and bytes (None where lawfully erased), its inclusion proof under the
    partition's checkpoint and that partition's entry's proof under the checkpoint over every partition (None
    when the leaf is not under ``covered``)."""
    proofs = await leaf_proofs(conn, leaf, covered)
    return {
        "partition": leaf.part,
        "leaf_index": leaf.pos,
        "leaf_hash": leaf.leaf_hash.hex(),
        "leaf_bytes_b64": None if leaf.body is None else base64.b64encode(leaf.body).decode("ascii"),
        "inclusion_proof": None if proofs is None else [p.hex() for p in proofs[0]],
        "partition_proof": None if proofs is None else [p.hex() for p in proofs[1]],
    }


def _without_others_data(envelope: dict[str, Any]) -> dict[str, Any]:
    """A copy of an envelope about someone else with each of that person's personal values replaced."""
    out = copy.deepcopy(envelope)
    payload = out.get("payload")
    if isinstance(payload, dict):
        for _path, _value, put in list(pdp.personal_values(str(out.get("type")), payload)):
            put(OTHERS)
    return out


def _source(envelope: dict[str, Any] | None) -> str | None:
    found = None if envelope is None else envelope.get("source")
    return found if isinstance(found, str) else None


async def _event(conn: asyncpg.Connection, nip: str, leaf: Leaf, envelope: dict[str, Any] | None,
                 covered: Covered) -> dict[str, Any]:
    own = leaf.subject == nip
    personal = [] if envelope is None else pdp.envelope_values(envelope)
    shown = envelope if envelope is None or own else _without_others_data(envelope)
    return {
        "leaf_index": leaf.idx, "event_id": str(leaf.event_id), "topic": leaf.topic, "type": leaf.type,
        "subject": leaf.subject, "source": _source(envelope), "period": leaf.period, "envelope": shown,
        "personal_fields": {path: value if own else OTHERS for path, value in personal},
        **await leaf_proof(conn, leaf, covered),
    }


def _result(leaf: Leaf, envelope: dict[str, Any] | None) -> dict[str, Any] | None:
    if leaf.topic != topics.SCORES or envelope is None or envelope.get("type") != "score.computed":
        return None
    payload = envelope.get("payload")
    result = payload.get("result") if isinstance(payload, dict) else None
    return {"period": leaf.period, "event_id": str(leaf.event_id), "partition": leaf.part, "leaf_index": leaf.pos,
            "result": result if isinstance(result, dict) else {}}


async def gather(conn: asyncpg.Connection, nip: str) -> dict[str, Any]:
    """The person's export (see the module's docstring) as one JSON-ready document; no events when no checkpoint
    was signed yet."""
    covered = await latest_covered(conn)
    events: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    if covered is not None:
        for leaf in await queries.leaves_of_person(conn, nip, covered.over_all.sizes):
            envelope = envelope_of(leaf)
            if leaf.subject != nip and _source(envelope) != f"nip:{nip}":
                continue  # the prefilter's bytes were elsewhere in the envelope
            events.append(await _event(conn, nip, leaf, envelope, covered))
            if leaf.subject == nip and (result := _result(leaf, envelope)) is not None:
                results.append(result)
    return {
        "format": FORMAT, "nip": nip, "source": "ledger",
        "checkpoint": None if covered is None else covered.to_json(),
        "events": events,
        "results": results,
        "completeness": (
            f"Every ledgered leaf under this checkpoint ({sum(covered.over_all.sizes)} leaves) whose subject is {nip} "
            f"or whose source is nip:{nip} (a leaf whose bytes were lawfully erased is found by its subject alone), "
            "each with an inclusion proof that recomputes its partition's root, and that partition's proof "
            "that recomputes the checkpoint's root."
            if covered is not None else
            "No checkpoint has been signed yet, so no leaf is exported: ask again after the next one."
        ),
    }
