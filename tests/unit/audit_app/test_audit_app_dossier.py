"""The appeal dossier holds every event about the employee with its evidence references and inclusion proof (in
its partition's tree, then that tree's head under the checkpoint over every partition; ADR 0013), the results
over time and the signed checkpoints, and shows submitted text only as text."""

from __future__ import annotations

import html
import re

import asyncpg
import orjson
import pytest
from audit_app_data import NIP, NOW, ORIGIN, PERIOD, SIGNER, evidence, ledger, realisation, score

from chassis.partitions import PARTITIONS, partition_of
from contracts import topics
from services.audit.app.checkpoints import issue_checkpoint
from services.audit.app.dossier import gather, render_html
from services.audit.domain.checkpoint import open_checkpoint
from services.audit.domain.errors import ProofError
from services.audit.domain.merkle import verify_inclusion
from services.audit.domain.partitions import partition_origin, partitions_origin, verify_partition


async def test_the_dossier_carries_events_results_proofs_and_the_checkpoint(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    e1, e2 = realisation("d1", 1, "5"), realisation("d2", 2, "6")
    other = realisation("elsewhere", 3, "1", nip="198001012005011002")
    await ledger(
        pool,
        *evidence(e1, other),
        (topics.SCORES, score([e1])),
        *evidence(e2),
        (topics.SCORES, score([e1, e2])),
    )
    issued = await issue_checkpoint(conn, SIGNER, NOW)
    over_all, part = issued.partitions, partition_of(NIP)
    assert part != partition_of(other.subject)  # the other employee's leaf lies in another partition's tree
    mine = next(c for c in issued.signed if c.part == part)
    assert (mine.size, over_all.sizes[part]) == (4, 4)
    late = realisation("d3", 4, "7")
    await ledger(pool, *evidence(late))
    dossier = await gather(conn, NIP, PERIOD, vkey=SIGNER.verifier_key())
    assert dossier.covered is not None and dossier.covered.over_all == over_all
    assert [e.event_id for e in dossier.events][:2] == [e1.event_id, score([e1]).event_id]
    assert [(e.partition, e.leaf_index) for e in dossier.events] == [(part, i) for i in range(5)]
    assert [r.result["total"] for r in dossier.results] == ["5", "11"]
    assert [r.leaf_index for r in dossier.results] == [1, 3]
    for event in dossier.events:
        if event.event_id == late.event_id:
            assert event.proof is None and event.partition_proof is None  # newer than the checkpoint
        else:
            assert event.proof is not None and event.partition_proof is not None
            # Step 1: the leaf in its partition's tree, whose root that partition's checkpoint signs.
            verify_inclusion(event.leaf_index, mine.size, event.leaf_hash, list(event.proof), mine.root)
            # Step 2: that tree's head as entry `part` of the tree the checkpoint over every partition signs.
            verify_partition(part, mine.size, mine.root, PARTITIONS, list(event.partition_proof), over_all.root)
            with pytest.raises(ProofError):
                verify_partition(part, mine.size - 1, mine.root, PARTITIONS, list(event.partition_proof),
                                 over_all.root)
    # Both notes are signed by the log's key, each under its own origin, over the roots the proofs reach.
    assert open_checkpoint(over_all.note, SIGNER.verifier_key(), origin=partitions_origin(ORIGIN)).root == \
        over_all.root
    signed = open_checkpoint(mine.note, SIGNER.verifier_key(), origin=partition_origin(ORIGIN, part))
    assert (signed.size, signed.root) == (mine.size, mine.root)
    page = render_html(dossier)
    assert html.escape(over_all.note) in page and html.escape(mine.note) in page
    assert SIGNER.verifier_key() in page
    assert "https://dapodik.example/d2" in page
    assert str(other.event_id) not in page
    assert f"<td>p{part}/0</td>" in page and f"<td>p{part}/4</td>" in page
    # What the page's own checker reads: both steps of every proof, under the roots signed above.
    proofs = [orjson.loads(html.unescape(d)) for d in re.findall(r"data-proof='([^']*)'", page)]
    assert len(proofs) == 4
    for d in proofs:
        assert (d["part"], d["size"], d["root"], d["count"], d["all_root"]) == (
            part, mine.size, mine.root.hex(), PARTITIONS, over_all.root.hex())
        verify_inclusion(d["index"], d["size"], bytes.fromhex(d["leaf_hash"]),
                         [bytes.fromhex(h) for h in d["proof"]], bytes.fromhex(d["root"]))
        verify_partition(d["part"], d["size"], bytes.fromhex(d["root"]), d["count"],
                         [bytes.fromhex(h) for h in d["part_proof"]], bytes.fromhex(d["all_root"]))


async def test_submitted_text_cannot_inject_markup_into_the_dossier(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    hostile = realisation("x", 1, "1")
    hostile = hostile.model_copy(
        update={
            "payload": {
                **hostile.payload,
                "evidence": {
                    "source_system": "<script>alert(1)</script>",
                    "document": "javascript:alert(2)",
                    "content_hash": "x",
                },
            }
        }
    )
    await ledger(pool, *evidence(hostile))
    page = render_html(await gather(conn, NIP, PERIOD))
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<script>") == 1  # only the page's own proof checker
