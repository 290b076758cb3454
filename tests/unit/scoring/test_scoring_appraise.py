"""§1.3-§1.5 end to end for one employee and period: capaian from evidence, the two ratings side by side,
divergence, multi-rater behaviour, the predikat, identity and the basis."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import pytest
from scoring_events import ATASAN, BAWAHAN, NIP_A, NIP_B, REKAN_1, REKAN_2, Stream, iki, rhk

from contracts.canonical import basis_hash
from contracts.events import Rating
from services.scoring.domain import Policy, StreamError, appraise

ATAS, SESUAI, BAWAH = Rating.DI_ATAS, Rating.SESUAI, Rating.DI_BAWAH


def stream_with_plan(*plan: dict[str, object]) -> Stream:
    s = Stream(NIP_A)
    s.assigned()
    s.plan(*plan)
    return s


def test_an_iki_without_evidence_scores_zero_and_says_so(policies: Mapping[str, Policy]) -> None:
    s = stream_with_plan(rhk("r1", iki("a", "100"), iki("b", "100")))
    s.realised("a", "100")
    a = appraise(s.events, policies)
    assert [(i.iki_id, i.capaian, i.note) for i in a.iki] == [
        ("a", Decimal("100.00"), None),
        ("b", Decimal("0.00"), "no evidence"),
    ]
    assert a.rhk[0].capaian == Decimal("50.00")


def test_the_latest_realisation_of_an_iki_is_the_one_in_force(policies: Mapping[str, Policy]) -> None:
    s = stream_with_plan(rhk("r1", iki("a", "100")))
    s.realised("a", "40")
    latest = s.realised("a", "80")
    a = appraise(s.events, policies)
    assert a.iki[0].capaian == Decimal("80.00")
    assert a.iki[0].evidence_event_ids == (str(latest.event_id),)


def test_additional_rhk_are_shown_but_not_in_the_mean(policies: Mapping[str, Policy]) -> None:
    s = stream_with_plan(rhk("r1", iki("a", "100")), rhk("t1", iki("b", "10"), kind="tambahan"))
    s.realised("a", "100")
    s.realised("b", "1")
    a = appraise(s.events, policies)
    assert [(r.kind, r.capaian) for r in a.rhk] == [
        ("utama", Decimal("100.00")),
        ("tambahan", Decimal("10.00")),
    ]
    assert a.capaian_hasil_kerja == Decimal("100.00")


def test_main_rhk_are_weighted_by_the_plan(policies: Mapping[str, Policy]) -> None:
    s = stream_with_plan(rhk("r1", iki("a", "100"), weight="3"), rhk("r2", iki("b", "100"), weight="1"))
    s.realised("a", "120")
    s.realised("b", "80")
    assert appraise(s.events, policies).capaian_hasil_kerja == Decimal("110.00")


def full(s: Stream, capaian: str, behaviour: int) -> Stream:
    s.plan(rhk("r1", iki("a", "100")))
    s.realised("a", capaian)
    s.rated_all(ATASAN, "atasan", behaviour)
    return s


def test_without_a_pejabat_penilai_rating_the_objective_ratings_decide(
    policies: Mapping[str, Policy],
) -> None:
    s = full(Stream(NIP_A), "112", 3)
    a = appraise(s.events, policies)
    assert a.rating_hasil_kerja == (ATAS, None, ATAS)
    assert a.rating_perilaku == (ATAS, None, ATAS)
    assert a.predikat == "Sangat Baik"
    assert not a.divergence.hasil_kerja


def test_a_justified_pejabat_penilai_rating_is_used_and_the_divergence_shown(
    policies: Mapping[str, Policy],
) -> None:
    s = full(Stream(NIP_A), "100", 2)
    s.pejabat(hasil="DI ATAS EKSPEKTASI", why="Led the measles campaign beyond the plan")
    a = appraise(s.events, policies)
    assert a.rating_hasil_kerja == (SESUAI, ATAS, ATAS)
    assert a.divergence.hasil_kerja
    assert not a.divergence.justification_missing
    assert a.divergence.justification == "Led the measles campaign beyond the plan"
    assert a.predikat == "Baik"


def test_an_unjustified_divergent_rating_gives_way_to_the_evidence(policies: Mapping[str, Policy]) -> None:
    s = full(Stream(NIP_A), "100", 3)
    s.pejabat(hasil="Di Atas Ekspektasi")
    a = appraise(s.events, policies)
    assert a.rating_hasil_kerja == (SESUAI, ATAS, SESUAI)
    assert a.divergence.hasil_kerja
    assert a.divergence.justification_missing
    assert a.predikat == "Baik"


def test_an_agreeing_pejabat_penilai_rating_needs_no_justification(policies: Mapping[str, Policy]) -> None:
    s = full(Stream(NIP_A), "100", 2)
    s.pejabat(hasil="Sesuai Ekspektasi", perilaku="Sesuai Ekspektasi")
    a = appraise(s.events, policies)
    assert not a.divergence.hasil_kerja
    assert not a.divergence.perilaku
    assert not a.divergence.justification_missing


def test_a_justified_behaviour_rating_below_the_raters_gives_misconduct(
    policies: Mapping[str, Policy],
) -> None:
    s = full(Stream(NIP_A), "115", 3)
    s.pejabat(perilaku="Dibawah", why="Misused an official vehicle (BAP 12/2025)")
    a = appraise(s.events, policies)
    assert a.rating_perilaku == (ATAS, BAWAH, BAWAH)
    assert a.predikat == "Kurang/Misconduct"


def test_relation_weights_apply_to_the_mean_of_each_relation(policies: Mapping[str, Policy]) -> None:
    s = Stream(NIP_A)
    s.rated(ATASAN, "atasan", "akuntabel", 3)
    s.rated(REKAN_1, "rekan", "akuntabel", 1)
    s.rated(REKAN_2, "rekan", "akuntabel", 2)
    s.rated(BAWAHAN, "bawahan", "akuntabel", 2)
    # rekan mean 1.5: 0.5 * 3 + 0.3 * 1.5 + 0.2 * 2 = 2.35
    a = appraise(s.events, policies)
    assert [(v.value, v.score) for v in a.per_value] == [("akuntabel", Decimal("2.35"))]
    assert a.rating_perilaku[0] is SESUAI


def test_weights_renormalise_over_the_relations_present(policies: Mapping[str, Policy]) -> None:
    s = Stream(NIP_A)
    s.rated(REKAN_1, "rekan", "loyal", 3)
    s.rated(BAWAHAN, "bawahan", "loyal", 1)
    # (0.3 * 3 + 0.2 * 1) / 0.5 = 2.2
    assert appraise(s.events, policies).per_value[0].score == Decimal("2.20")


def test_self_rating_is_shown_but_never_scored(policies: Mapping[str, Policy]) -> None:
    s = Stream(NIP_A)
    s.rated(ATASAN, "atasan", "kompeten", 1)
    s.rated(NIP_A, "diri", "kompeten", 3)
    s.rated(NIP_A, "diri", "adaptif", 3)
    a = appraise(s.events, policies)
    kompeten, adaptif = a.per_value
    assert kompeten.score == Decimal("1.00")
    assert ("diri", Decimal("3.00"), 1) in kompeten.by_relation
    assert adaptif.score is None
    assert a.perilaku_score == Decimal("1.00")


def test_a_rater_who_rates_a_value_again_counts_once_with_the_later_score(
    policies: Mapping[str, Policy],
) -> None:
    s = Stream(NIP_A)
    s.rated(ATASAN, "atasan", "harmonis", 1)
    s.rated(ATASAN, "atasan", "harmonis", 3)
    assert appraise(s.events, policies).per_value[0].by_relation == (("atasan", Decimal("3.00"), 1),)


@pytest.mark.parametrize(("score", "rating"), [(3, ATAS), (2, SESUAI), (1, BAWAH)])
def test_behaviour_bands(policies: Mapping[str, Policy], score: int, rating: Rating) -> None:
    s = Stream(NIP_A)
    s.rated_all(ATASAN, "atasan", score)
    assert appraise(s.events, policies).rating_perilaku[0] is rating


def test_the_basis_lists_the_events_used_in_order_and_hashes_them(policies: Mapping[str, Policy]) -> None:
    s = full(Stream(NIP_A), "100", 2)
    s.env("feedback.given", {"from_nip": ATASAN, "text": "Good work"})
    s.closed()
    a = appraise(s.events, policies)
    used = [str(e.event_id) for e in s.events if e.type != "feedback.given"]
    assert list(a.basis_event_ids) == used
    assert a.basis_hash == basis_hash(used)
    assert a.status == "final"


def test_an_unclosed_period_is_provisional(policies: Mapping[str, Policy]) -> None:
    assert appraise(full(Stream(NIP_A), "100", 2).events, policies).status == "provisional"


def test_name_unit_and_jabatan_come_from_the_assignment(policies: Mapping[str, Policy]) -> None:
    s = Stream(NIP_A)
    s.assigned(name="Budi", effective_from="2024-01-01T00:00:00+07:00")
    s.assigned(name="Budi Santoso", unit_id="puskesmas-1", effective_from="2025-03-01T00:00:00+07:00")
    s.assigned(name="Budi (2026)", effective_from="2026-01-01T00:00:00+07:00")
    s.rated_all(ATASAN, "atasan", 2)
    a = appraise(s.events, policies)
    assert (a.name, a.unit_id, a.jabatan) == ("Budi Santoso", "puskesmas-1", "Analis Kesehatan")


def test_an_accepted_objection_sets_the_final_result(policies: Mapping[str, Policy]) -> None:
    s = full(Stream(NIP_A), "85", 2)
    filed = s.env("objection.filed", {"reasons": "The realisation omitted the Q4 report"})
    s.env(
        "objection.decided",
        {
            "objection_event_id": str(filed.event_id),
            "decided_by_nip": ATASAN,
            "outcome": "diterima",
            "predikat": "Baik",
            "reasons": "Q4 report verified",
        },
    )
    a = appraise(s.events, policies)
    assert (a.predikat_computed, a.predikat) == ("Butuh Perbaikan", "Baik")


def test_one_stream_appraises_one_employee(policies: Mapping[str, Policy]) -> None:
    with pytest.raises(StreamError):
        appraise([*full(Stream(NIP_A), "100", 2).events, *full(Stream(NIP_B), "100", 2).events], policies)


def test_one_stream_appraises_one_period(policies: Mapping[str, Policy]) -> None:
    with pytest.raises(StreamError):
        appraise(
            [*full(Stream(NIP_A), "100", 2).events, *full(Stream(NIP_A, "2024"), "1", 2).events], policies
        )


def test_an_adopted_policy_is_the_one_used_and_named(policies: Mapping[str, Policy]) -> None:
    pp30 = policies["pp30-2019"]
    s = Stream(NIP_A)
    adopted = {"policy_id": pp30.id, "policy_version": pp30.version, "content_hash": pp30.content_hash}
    s.env("policy.adopted", adopted, subject="*")
    s.env("pp30.skp.valued", {"rater_nip": ATASAN, "nilai_skp": "100"})
    s.env("pp30.behaviour.valued", {"rater_nip": ATASAN, "nilai_perilaku": "80"})
    a = appraise(s.events, policies)
    assert a.policy == (pp30.id, pp30.version, pp30.content_hash)
    assert a.nilai == Decimal("94.00")


def test_a_streams_ratings_are_aggregated_once_while_they_stay_the_same_and_again_when_one_arrives(
    policies: Mapping[str, Policy],
) -> None:
    """`behaviour.behaviour_of` keeps the §1.4 result by the identity of the fold's tuple of ratings: a second
    appraisal of the same ratings (a realisation arrived) reuses it, a new rating or a list is computed anew, and
    every answer equals the one computed from scratch."""
    from services.scoring.domain import fold
    from services.scoring.domain.behaviour import aggregate_behaviour, behaviour_of

    policy = policies["permenpanrb-6-2022"]
    settings = policy.permenpanrb
    assert settings is not None
    s = full(Stream(NIP_A), "100", 2)
    s.rated(REKAN_1, "rekan", "akuntabel", 3)
    state = fold(s.events)
    first = behaviour_of(state.behaviour, settings.behaviour, policy.rounding)
    s.realised("a", "90")
    extended = fold(s.events[-1:], state)
    assert extended.behaviour is state.behaviour  # the fold kept the untouched slot's tuple
    assert behaviour_of(extended.behaviour, settings.behaviour, policy.rounding) is first
    s.rated(REKAN_2, "rekan", "akuntabel", 1)
    rated = fold(s.events[-1:], extended)
    again = behaviour_of(rated.behaviour, settings.behaviour, policy.rounding)
    assert again is not first and again[0] != first[0]
    as_list = behaviour_of(list(rated.behaviour), settings.behaviour, policy.rounding)
    assert as_list is not again and as_list == again
    from services.scoring.domain.behaviour import RaterScore

    scores = tuple(RaterScore(f.payload.rater_nip, f.payload.relation.value, f.payload.value.value, f.payload.score,
                              f.event_id) for f in rated.behaviour)
    assert again[0] == aggregate_behaviour(scores, settings.behaviour, policy.rounding)
    assert appraise(s.events, policies) == appraise(list(s.events), policies)


def test_the_behaviour_results_kept_hold_at_most_their_bound_of_facts(policies: Mapping[str, Policy]) -> None:
    from services.scoring.domain import fold
    from services.scoring.domain.behaviour import BehaviourMemo, behaviour_of

    memo = BehaviourMemo(limit=20)
    policy = policies["permenpanrb-6-2022"]
    settings = policy.permenpanrb
    assert settings is not None
    kept = []
    for rater in (ATASAN, REKAN_1, REKAN_2, BAWAHAN):
        s = Stream(NIP_A)
        s.rated_all(rater, "rekan" if rater != ATASAN else "atasan", 2)  # 7 facts each
        state = fold(s.events)
        kept.append(state)
        first = behaviour_of(state.behaviour, settings.behaviour, policy.rounding, memo)
        assert behaviour_of(state.behaviour, settings.behaviour, policy.rounding, memo) is first
        assert memo.held <= 20
    assert (len(memo), memo.held) == (2, 14)  # the two latest streams' 14 facts; a third would pass the bound
    oldest = kept[0]
    assert memo.get(oldest.behaviour, settings.behaviour, policy.rounding) is None  # let go, least recent first
