"""The appeal dossier shows the keberatan thread (REGULATION.md §2.4; issue 4): the delivery, the objection, the
explanations and the final decision, and a refused filing with its reason, each a ledger leaf."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import orjson

from contracts import topics
from services.audit.app.dossier import Dossier, DossierEvent, render_html

NIP, PERIOD = "198001012006041001", "2025-Q3"


def leaf(index: int, topic: str, type_: str, payload: dict[str, Any], **extra: Any) -> DossierEvent:
    envelope = {"event_id": str(uuid.UUID(int=index)), "type": type_, "occurred_at": f"2025-10-{index:02d}T09:00:00"
                "+07:00", "source": extra.pop("source", f"nip:{NIP}"), "subject": NIP, "period": PERIOD,
                "payload": payload, **extra}
    body = orjson.dumps(envelope)
    return DossierEvent(index, uuid.UUID(int=index), topic, type_, envelope, body, bytes(32), None)


def refusal(index: int, refused: DossierEvent, code: str) -> DossierEvent:
    payload = {"original_b64": base64.b64encode(refused.body or b"").decode(),
               "reasons": [{"code": code, "message_id": "x", "message_en": "x"}]}
    return leaf(index, topics.REJECTIONS, "submission.rejected", payload, source="objektif.evidence")


def thread_dossier() -> Dossier:
    objection = leaf(2, topics.EVIDENCE, "objection.filed", {"reasons": "Perilaku dinilai tanpa bukti"})
    late = leaf(3, topics.EVIDENCE, "objection.filed", {"reasons": "Sekali lagi <b>tolong</b>"})
    events = (
        leaf(1, topics.EVIDENCE, "result.delivered", {}, source="system.x"),
        objection,
        refusal(4, late, "objection.late"),
        leaf(5, topics.EVIDENCE, "realisation.recorded", {"iki_id": "aps", "value": "1"}),
        leaf(6, topics.EVIDENCE, "objection.explanation.requested",
             {"objection_event_id": str(objection.event_id), "from_nips": [NIP], "question": "Mengapa?"}),
        leaf(7, topics.EVIDENCE, "objection.decided",
             {"objection_event_id": str(objection.event_id), "outcome": "diterima",
              "modified_rating_perilaku": "Sesuai Ekspektasi", "reasons": "Tidak ada teguran tercatat"}),
        leaf(8, topics.SCORES, "score.computed", {"result": {"predikat": "Baik"}}, source="objektif.scoring"),
    )
    return Dossier(NIP, PERIOD, events, (), None, None)


def test_the_thread_holds_the_lifecycle_and_a_refused_filing_in_ledger_order() -> None:
    thread = thread_dossier().thread
    assert [e.leaf_index for e in thread] == [1, 2, 4, 6, 7]
    assert [e.submitted_type for e in thread][2] == "objection.filed"


def test_the_page_shows_each_step_the_refusal_reason_and_the_modification_as_text() -> None:
    page = render_html(thread_dossier())
    table = page[page.index("<table id=keberatan>"):]
    table = table[: table.index("</table>")]
    for text in ("Keberatan diajukan", "Penjelasan diminta", "Keputusan Atasan Pejabat Penilai (final)",
                 "objection.late", "Sesuai Ekspektasi", "Tidak ada teguran tercatat"):
        assert text in table
    assert "&lt;b&gt;tolong&lt;/b&gt;" in table  # submitted text stays text


def test_a_dossier_without_an_objection_says_so() -> None:
    dossier = Dossier(NIP, PERIOD, (), (), None, None)
    assert dossier.thread == ()
    assert "Tidak ada keberatan." in render_html(dossier)
