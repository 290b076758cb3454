"""Edges of the rules: the divergence policy switch, PP 46 behaviour aspects, assignments over time, and every
regime through the JSON form."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from scoring_events import ATASAN, NIP_A, Stream, iki, rhk

from contracts.canonical import canonical_bytes
from services.scoring.adapters.policy_files import POLICY_DIR
from services.scoring.domain import Policy, appraise, load_policy, score_stream
from services.scoring.domain.timeline import period_bounds


def test_a_policy_may_let_an_unjustified_rating_stand_but_it_is_still_flagged() -> None:
    text = (POLICY_DIR / "permenpanrb-6-2022.yaml").read_bytes()
    policy = load_policy(
        text.replace(b"unjustified_divergence: use_evidence", b"unjustified_divergence: use_pejabat_penilai")
    )
    s = Stream(NIP_A)
    s.plan(rhk("r1", iki("a", "100")))
    s.realised("a", "100")
    s.rated_all(ATASAN, "atasan", 2)
    s.pejabat(hasil="Di Bawah Ekspektasi")
    a = appraise(s.events, {policy.id: policy})
    assert a.rating_hasil_kerja[2] == "Di Bawah Ekspektasi"
    assert a.divergence.justification_missing
    assert a.predikat == "Butuh Perbaikan"


def test_pp46_behaviour_is_the_mean_of_the_aspects_scored_with_the_latest_score_each(
    policies: Mapping[str, Policy],
) -> None:
    s = Stream(NIP_A, "2016")
    for aspect, nilai in [("orientasi_pelayanan", "70"), ("integritas", "80"), ("komitmen", "80")]:
        s.env("pp46.behaviour.scored", {"rater_nip": ATASAN, "aspect": aspect, "nilai": nilai})
    for aspect in ("disiplin", "kerja_sama", "kepemimpinan"):
        s.env("pp46.behaviour.scored", {"rater_nip": ATASAN, "aspect": aspect, "nilai": "80"})
    s.env("pp46.behaviour.scored", {"rater_nip": ATASAN, "aspect": "orientasi_pelayanan", "nilai": "80"})
    a = appraise(s.events, policies)
    assert a.pp46 is not None
    assert len(a.pp46.perilaku) == 6
    assert a.pp46.nilai_perilaku == Decimal("80.00")
    assert a.pp46.predikat_perilaku == "Baik"


def test_an_assignment_effective_only_after_the_period_is_used_when_it_is_the_only_one(
    policies: Mapping[str, Policy],
) -> None:
    s = Stream(NIP_A, "2025-Q1")
    s.assigned(name="Rina", effective_from="2025-06-01T00:00:00+07:00")
    s.rated_all(ATASAN, "atasan", 2)
    assert appraise(s.events, policies).name == "Rina"


def test_period_bounds() -> None:
    assert period_bounds("2024") == (date(2024, 1, 1), date(2024, 12, 31))
    assert period_bounds("2024-Q1") == (date(2024, 1, 1), date(2024, 3, 31))
    assert period_bounds("2024-S2") == (date(2024, 7, 1), date(2024, 12, 31))


def test_every_regime_serialises_to_canonical_json(policies: Mapping[str, Policy]) -> None:
    old = Stream(NIP_A, "2017")
    activity = {
        "activity_id": "k1",
        "name": "Laporan",
        "to": "4",
        "ro": "3",
        "rk": "95",
        "tw": "12",
        "rw": "10",
    }
    old.env("pp46.activity.recorded", activity)
    old.env("pp46.behaviour.scored", {"rater_nip": ATASAN, "aspect": "integritas", "nilai": "91"})
    mid = Stream(NIP_A, "2021-Q3")
    mid.env("pp30.skp.valued", {"rater_nip": ATASAN, "nilai_skp": "89.994"})
    mid.env("pp30.behaviour.valued", {"rater_nip": ATASAN, "nilai_perilaku": "90"})
    new = Stream(NIP_A, "2025")
    new.plan(rhk("r1", iki("a", "100")))
    document = score_stream([*old.events, *mid.events, *new.events], policies).to_json()
    parsed = json.loads(canonical_bytes(document))
    pp46, pp30, permen = parsed["appraisals"]
    assert pp46["pp46"]["activities"][0]["aspects"] == {
        "kuantitas": "75.00",
        "kualitas": "95.00",
        "waktu": "92.67",  # (1.76 * 12 - 10) / 12 * 100, efisiensi 16.67% <= 24
    }
    assert pp30["pp30"]["nilai_skp"] == "89.99"
    assert (pp30["nilai"], pp30["predikat"]) == ("89.99", "Cukup")
    assert permen["iki"][0]["note"] == "no evidence"
