"""PP 46/2011 over one stream (REGULATION.md §3): the activities in force, tugas tambahan, kreativitas and the
behaviour aspects, combined 60/40 with the policy's rounding and bands."""

from __future__ import annotations

from decimal import Decimal

from contracts import events as ev
from services.scoring.domain.appraisal import Pp46Activity, Pp46Detail
from services.scoring.domain.older import (
    pp46_activity,
    pp46_nilai,
    pp46_nilai_perilaku,
    pp46_nilai_skp,
    pp46_predikat,
    pp46_tugas_tambahan_bonus,
)
from services.scoring.domain.policy import Policy
from services.scoring.domain.state import Fact, State

#: The behaviour aspects in the order of Perka BKN 1/2013 (kepemimpinan only for structural positions).
ASPECTS = ("orientasi_pelayanan", "integritas", "komitmen", "disiplin", "kerja_sama", "kepemimpinan")


def pp46_detail(
    state: State, policy: Policy
) -> tuple[Pp46Detail, Decimal | None, str | None, tuple[str, ...]]:
    """(detail, nilai prestasi kerja, its predikat, events used). A later record of the same activity or of
    the same behaviour aspect replaces the earlier; every tugas tambahan and kreativitas record counts."""
    settings = policy.pp46
    assert settings is not None
    rounding = policy.rounding
    activities: dict[str, Fact[ev.Pp46ActivityRecorded]] = {}
    for fact in state.pp46_activities:
        activities[fact.payload.activity_id] = fact
    results = []
    for activity_id in sorted(activities):
        fact = activities[activity_id]
        a = fact.payload
        capaian, aspects = pp46_activity(a.to, a.ro, a.tk, a.rk, a.tw, a.rw, a.tb, a.rb, settings, rounding)
        results.append(Pp46Activity(activity_id, a.name, aspects, capaian, fact.event_id))
    tambahan = len(state.pp46_tambahan)
    kreativitas = sum((settings.kreativitas[f.payload.level] for f in state.pp46_kreativitas), Decimal(0))
    nilai_skp = (
        pp46_nilai_skp([r.capaian for r in results], tambahan, kreativitas, settings, rounding)
        if results
        else None
    )
    latest: dict[str, Fact[ev.Pp46BehaviourScored]] = {}
    for b in state.pp46_behaviour:
        latest[b.payload.aspect] = b
    perilaku = tuple((aspect, latest[aspect].payload.nilai) for aspect in ASPECTS if aspect in latest)
    nilai_perilaku = pp46_nilai_perilaku([v for _, v in perilaku], rounding) if perilaku else None
    nilai = None
    if nilai_skp is not None and nilai_perilaku is not None:
        nilai = pp46_nilai(nilai_skp, nilai_perilaku, settings, rounding)
    detail = Pp46Detail(
        activities=tuple(results),
        tugas_tambahan=tambahan,
        tugas_tambahan_bonus=pp46_tugas_tambahan_bonus(tambahan, settings),
        kreativitas=kreativitas,
        nilai_skp=nilai_skp,
        predikat_skp=None if nilai_skp is None else pp46_predikat(nilai_skp, settings),
        perilaku=perilaku,
        nilai_perilaku=nilai_perilaku,
        predikat_perilaku=None if nilai_perilaku is None else pp46_predikat(nilai_perilaku, settings),
    )
    used = (
        *(r.event_id for r in results),
        *(f.event_id for f in state.pp46_tambahan),
        *(f.event_id for f in state.pp46_kreativitas),
        *(f.event_id for f in latest.values()),
    )
    return detail, nilai, None if nilai is None else pp46_predikat(nilai, settings), used
