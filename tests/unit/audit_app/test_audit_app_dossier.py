"""The appeal dossier holds every event about the employee with its evidence references and inclusion proof,
the results over time and the signed checkpoint, and shows submitted text only as text."""

from __future__ import annotations

import asyncpg
from audit_app_data import NIP, NOW, PERIOD, SIGNER, evidence, ledger, realisation, score

from contracts import topics
from services.audit.app.checkpoints import issue_checkpoint
from services.audit.app.dossier import gather, render_html
from services.audit.domain.merkle import verify_inclusion


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
    signed = (await issue_checkpoint(conn, SIGNER, NOW)).checkpoint
    late = realisation("d3", 4, "7")
    await ledger(pool, *evidence(late))
    dossier = await gather(conn, NIP, PERIOD, vkey=SIGNER.verifier_key())
    assert [e.event_id for e in dossier.events][:2] == [e1.event_id, score([e1]).event_id]
    assert [r.result["total"] for r in dossier.results] == ["5", "11"]
    for event in dossier.events:
        if event.event_id == late.event_id:
            assert event.proof is None  # newer than the checkpoint
        else:
            assert event.proof is not None
            verify_inclusion(event.leaf_index, signed.size, event.leaf_hash, list(event.proof), signed.root)
    page = render_html(dossier)
    assert signed.note.splitlines()[0] in page
    assert SIGNER.verifier_key() in page
    assert "https://dapodik.example/d2" in page
    assert str(other.event_id) not in page


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
