"""The explanation of one appraisal as a reader may see it (REGULATION.md §4 "Transparent", §1.3, §1.4, §2.4).

Pure: the stored result, the employee-period's events and the viewer in, a JSON-ready document out. Per IKI:
target, realisation, capaian and every realisation recorded for it, each with its source, times and document
reference (the one in force marked); the ratings, the Pejabat Penilai's decision with its justification and the
divergence; the predikat; the delivery and the objection's status; for a jabatan fungsional the angka kredit the
predikat earns, with its months, percentage, koefisien, policy and formula (§5). Individual peer and subordinate
answers are shown to auditors only (§1.4, `access.redact_behaviour`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from contracts import events as ev
from services.scoring.app.access import (
    PROTECTED_RELATIONS,
    Principal,
    redact_behaviour,
    sees_individual_answers,
)

#: §2.4: an objection at most 14 calendar days after the result was delivered (the gate enforces it).
#: §2.4 examination: the Atasan asks the Pejabat Penilai and the employee for explanations, and they give them.
EXAMINATION_TYPES = frozenset({"objection.explanation.requested", "objection.explanation.given"})
OBJECTION_DAYS = timedelta(days=14)


def _link(document: str | None) -> str | None:
    """A document reference that a browser can open (http or https), else None (an id in another system)."""
    if document and document.startswith(("https://", "http://")):
        return document
    return None


def evidence_item(event: Mapping[str, Any], in_force: bool) -> dict[str, Any]:
    """One recorded realisation as evidence: who submitted it, when it happened and was recorded, the value and
    where the document can be checked."""
    payload = event.get("payload", {})
    reference = payload.get("evidence") or {}
    return {
        "event_id": event["event_id"],
        "sequence": event.get("sequence"),
        "source": event.get("source"),
        "occurred_at": event.get("occurred_at"),
        "recorded_at": event.get("recorded_at"),
        "value": payload.get("value"),
        "note": payload.get("note"),
        "source_system": reference.get("source_system"),
        "document": reference.get("document"),
        "link": _link(reference.get("document")),
        "content_hash": reference.get("content_hash"),
        "supersedes": event.get("supersedes"),
        "in_force": in_force,
    }


def _iki(result: Mapping[str, Any], events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    realisations: dict[str, list[Mapping[str, Any]]] = {}
    for e in events:
        if e["type"] == ev.RealisationRecorded.TYPE:
            realisations.setdefault(e["payload"].get("iki_id", ""), []).append(e)
    out = []
    for iki in result.get("iki", ()):
        used = set(iki.get("evidence_event_ids", ()))
        history = [evidence_item(e, e["event_id"] in used) for e in realisations.get(iki["iki_id"], ())]
        out.append({**iki, "evidence": history})
    return out


def _of_type(events: Sequence[Mapping[str, Any]], type_: str) -> list[Mapping[str, Any]]:
    return [e for e in events if e["type"] == type_]


def _behaviour_answers(
    events: Sequence[Mapping[str, Any]], viewer: Principal
) -> tuple[list[dict[str, Any]], int]:
    """Individual behaviour answers the viewer may see, and how many were withheld (§1.4)."""
    shown, hidden = [], 0
    for e in _of_type(events, ev.BehaviourRated.TYPE):
        p = e["payload"]
        if p.get("relation") in PROTECTED_RELATIONS and not sees_individual_answers(viewer):
            hidden += 1
            continue
        shown.append(
            {
                "event_id": e["event_id"],
                "rater_nip": p.get("rater_nip"),
                "relation": p.get("relation"),
                "value": p.get("value"),
                "score": p.get("score"),
                "feedback": p.get("feedback"),
                "occurred_at": e.get("occurred_at"),
            }
        )
    return shown, hidden


def _feedback(
    events: Sequence[Mapping[str, Any]], nip: str, pejabat_penilai: str | None, viewer: Principal
) -> tuple[list[dict[str, Any]], int]:
    """Feedback from the Pejabat Penilai and the employee is shown; a peer's or subordinate's is an individual
    answer too, so only an auditor sees it (§1.4)."""
    shown, hidden = [], 0
    for e in _of_type(events, ev.FeedbackGivenV2.TYPE):
        p = e["payload"]
        if p.get("from_nip") not in (nip, pejabat_penilai) and not sees_individual_answers(viewer):
            hidden += 1
            continue
        refers = [r if isinstance(r, dict) else {"event_id": r} for r in p.get("refers_to", ())]
        shown.append(
            {
                "event_id": e["event_id"],
                "from_nip": p.get("from_nip"),
                "text": p.get("text"),
                "refers_to": refers,
                "occurred_at": e.get("occurred_at"),
            }
        )
    return shown, hidden


def _pejabat_penilai_ratings(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "event_id": e["event_id"],
            "rater_nip": e["payload"].get("rater_nip"),
            "rating_hasil_kerja": e["payload"].get("rating_hasil_kerja"),
            "rating_perilaku": e["payload"].get("rating_perilaku"),
            "justification": e["payload"].get("justification"),
            "occurred_at": e.get("occurred_at"),
        }
        for e in _of_type(events, ev.PejabatPenilaiRated.TYPE)
    ]


def _date(value: str | None) -> date | None:
    return None if value is None else datetime.fromisoformat(value).date()


def objection_status(events: Sequence[Mapping[str, Any]], result: Mapping[str, Any]) -> dict[str, Any]:
    """The delivery and objection state (§2.4): `none`, `filed` (awaiting the Atasan Pejabat Penilai), `examined`
    (explanations asked for or given, listed under `examination`) or `decided` (final, with what the decision
    changed), and the last day an objection may be filed once the result was delivered."""
    delivered = _of_type(events, ev.ResultDelivered.TYPE)
    last = delivered[-1] if delivered else None
    deadline = None if last is None else _date(last.get("occurred_at"))
    filed = [
        {
            "event_id": e["event_id"],
            "reasons": e["payload"].get("reasons"),
            "occurred_at": e.get("occurred_at"),
            "recorded_at": e.get("recorded_at"),
        }
        for e in _of_type(events, ev.ObjectionFiled.TYPE)
    ]
    decided = [
        {
            "event_id": e["event_id"],
            "objection_event_id": e["payload"].get("objection_event_id"),
            "outcome": e["payload"].get("outcome"),
            "predikat": e["payload"].get("predikat"),
            "reasons": e["payload"].get("reasons"),
            "decided_by_nip": e["payload"].get("decided_by_nip"),
            "occurred_at": e.get("occurred_at"),
            # v2 decisions may set ratings and realisations anew (§2.4 "may change and set the result")
            "modified_rating_hasil_kerja": e["payload"].get("modified_rating_hasil_kerja"),
            "modified_rating_perilaku": e["payload"].get("modified_rating_perilaku"),
            "modified_realisations": e["payload"].get("modified_realisations") or [],
        }
        for e in _of_type(events, ev.ObjectionDecided.TYPE)
    ]
    examination = [
        {
            "event_id": e["event_id"],
            "type": e["type"],
            "by_nip": e["payload"].get("requested_by_nip") or e["payload"].get("given_by_nip"),
            "from_nips": e["payload"].get("from_nips") or [],
            "text": e["payload"].get("question") or e["payload"].get("explanation"),
            "occurred_at": e.get("occurred_at"),
        }
        for e in events
        if e["type"] in EXAMINATION_TYPES
    ]
    status = "decided" if decided else "examined" if examination else "filed" if filed else "none"
    return {
        "status": status,
        "delivered_at": None if last is None else last.get("occurred_at"),
        "last_day": None if deadline is None else (deadline + OBJECTION_DAYS).isoformat(),
        "filed": filed,
        "examination": examination,
        "decisions": decided,
        "applied": result.get("objection"),
        **decision_outcome(result),
    }


def _summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """The result's predikat, ratings used and numbers, in the shape of `objection.original`."""
    return {
        "predikat": result.get("predikat"),
        "rating_hasil_kerja": (result.get("rating_hasil_kerja") or {}).get("used"),
        "rating_perilaku": (result.get("rating_perilaku") or {}).get("used"),
        "capaian_hasil_kerja": result.get("capaian_hasil_kerja"),
        "nilai": result.get("nilai"),
        "iki": [
            {"iki_id": i.get("iki_id"), "realisasi": i.get("realisasi"), "capaian": i.get("capaian")}
            for i in result.get("iki", ())
        ],
    }


def decision_outcome(result: Mapping[str, Any]) -> dict[str, Any]:
    """What the scored objection (`result.objection`, services/scoring/domain/objection.py) says about the
    decision (§2.4): `overdue` (no decision by the due day, as the stream shows), `decision_due`, `decided_late`,
    `modified` (the ratings and realisations the Atasan Pejabat Penilai set) and, when the decision changed the
    result, `original` (the result before it) beside `final` (the result now, `from_decision` true: it came from
    the Atasan's decision and is final)."""
    applied = result.get("objection") or {}
    original = applied.get("original")
    return {
        "overdue": applied.get("status") == "overdue",
        "overdue_as_of": applied.get("overdue_as_of"),
        "decision_due": applied.get("decision_due"),
        "decided_at": applied.get("decided_at"),
        "decided_late": bool(applied.get("decided_late")),
        "modified": applied.get("modified"),
        "original": original,
        "final": None if original is None else {**_summary(result), "from_decision": True},
    }


def explain(
    result: Mapping[str, Any], events: Sequence[Mapping[str, Any]], viewer: Principal
) -> dict[str, Any]:
    """The document the read API returns for `GET /api/appraisals/{nip}/{period}`."""
    shown = dict(result)
    if isinstance(result.get("rating_perilaku"), Mapping):
        shown["rating_perilaku"] = redact_behaviour(result["rating_perilaku"], viewer)
    answers, answers_hidden = _behaviour_answers(events, viewer)
    feedback, feedback_hidden = _feedback(events, result["nip"], result.get("pejabat_penilai_nip"), viewer)
    return {
        "result": shown,
        "iki": _iki(result, events),
        "pejabat_penilai_ratings": _pejabat_penilai_ratings(events),
        "behaviour_answers": answers,
        "behaviour_answers_withheld": answers_hidden,
        "feedback": feedback,
        "feedback_withheld": feedback_hidden,
        "objection": objection_status(events, result),
        # §5: null for anyone without a jenjang fungsional (and for results stored before angka kredit)
        "angka_kredit": result.get("angka_kredit"),
        "viewer": {"nip": viewer.nip, "role": viewer.role.value},
    }
