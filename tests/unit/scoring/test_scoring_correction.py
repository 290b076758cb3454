"""§1.4 "A policy may correct leniency": the unit summary corrects each rater's scores by his or her measured
leniency (policy `bias.correction: leniency`), shows both results, and checks the kurva (§1.7) on the
corrected predikat. Hand-computed examples, the unbiased-raters property, determinism."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from scoring_events import ATASAN, BAWAHAN, NIP_A, NIP_B, NIP_C, REKAN_1, REKAN_2, UNIT, VALUES, Stream, iki, rhk

from contracts.envelope import Envelope
from services.scoring.adapters.policy_files import POLICY_DIR
from services.scoring.domain import Policy, score_stream
from services.scoring.domain.correction import corrected_points
from services.scoring.domain.policy import load_policy

PERMEN = "permenpanrb-6-2022"


def with_correction(policies: Mapping[str, Policy]) -> dict[str, Policy]:
    """The shipped policies with `bias.correction: leniency` in the PermenPANRB 6/2022 file."""
    data = (POLICY_DIR / f"{PERMEN}.yaml").read_bytes()
    on = data.replace(b"correction: none", b"correction: leniency")
    assert on != data
    return {**policies, PERMEN: load_policy(on)}


def rated(
    nip: str, raters: list[tuple[str, str, int]], capaian: str = "115", pp: tuple[str, str | None] | None = None
) -> list[Envelope]:
    """A closed stream: one IKI (target 100) realised at `capaian`; each rater scores every value alike;
    `pp` is the Pejabat Penilai's (rating perilaku, justification)."""
    s = Stream(nip)
    s.assigned(name=f"Pegawai {nip[-3:]}")
    s.plan(rhk("r1", iki(f"i-{nip[-3:]}", "100")))
    s.realised(f"i-{nip[-3:]}", capaian)
    for rater, relation, score in raters:
        s.rated_all(rater, relation, score)
    if pp is not None:
        s.pejabat(perilaku=pp[0], why=pp[1])
    s.closed()
    return s.events


def org(predicate: str, mode: str | None = None) -> list[Envelope]:
    u = Stream(UNIT)
    u.env("org.predicate.set", {"unit_id": UNIT, "predicate": predicate, "set_by_nip": ATASAN, "curve_mode": mode})
    return u.events


def lenient_unit(pp_a: tuple[str, str | None] | None = None) -> list[Envelope]:
    """A and B: the atasan gives 3, the peer 2, on every value; C: only a subordinate (2) and self (3)."""
    return [
        *rated(NIP_A, [(ATASAN, "atasan", 3), (REKAN_1, "rekan", 2)], pp=pp_a),
        *rated(NIP_B, [(ATASAN, "atasan", 3), (REKAN_1, "rekan", 2)]),
        *rated(NIP_C, [(BAWAHAN, "bawahan", 2), (NIP_C, "diri", 3)]),
        *org("Istimewa"),
    ]


def unit_json(events: list[Envelope], policies: Mapping[str, Policy]) -> dict[str, Any]:
    (unit,) = score_stream(events, policies).units
    return unit.to_json()


def test_a_score_is_corrected_by_its_raters_leniency_within_the_1_to_3_scale() -> None:
    assert corrected_points(Decimal(3), Decimal("1.00")) == Decimal("2.00")
    assert corrected_points(Decimal(2), Decimal("-0.33")) == Decimal("2.33")
    assert corrected_points(Decimal(3), Decimal("-0.50")) == Decimal(3)
    assert corrected_points(Decimal(1), Decimal("0.50")) == Decimal(1)


def test_the_raters_leniency_is_measured_against_the_other_raters(policies: Mapping[str, Policy]) -> None:
    unit = unit_json(lenient_unit(), with_correction(policies))
    # the atasan scores 3 where the peer scores 2 on 14 items (7 values of A and of B): +1 and -1
    assert unit["bias"]["raters"] == [
        {"rater_nip": ATASAN, "leniency": "1.00", "items": 14},
        {"rater_nip": REKAN_1, "leniency": "-1.00", "items": 14},
    ]


def test_correcting_leniency_turns_a_lenient_sangat_baik_into_baik(policies: Mapping[str, Policy]) -> None:
    unit = unit_json(lenient_unit(), with_correction(policies))
    a = unit["corrected"][0]
    # uncorrected per value (3 x 0.5 + 2 x 0.3) / 0.8 = 2.625 -> 2.63 Di Atas; corrected (3 - 1) and (2 + 1):
    # (2 x 0.5 + 3 x 0.3) / 0.8 = 2.375 -> 2.38 Sesuai; hasil kerja 115 Di Atas
    assert a == {
        "nip": NIP_A,
        "perilaku_score_uncorrected": "2.63",
        "perilaku_score_corrected": "2.38",
        "multi_rater_uncorrected": "Di Atas Ekspektasi",
        "multi_rater_corrected": "Sesuai Ekspektasi",
        "rating_perilaku_uncorrected": "Di Atas Ekspektasi",
        "rating_perilaku_corrected": "Sesuai Ekspektasi",
        "predikat_uncorrected": "Sangat Baik",
        "predikat_corrected": "Baik",
        "raters": [
            {"rater_nip": ATASAN, "leniency": "1.00", "applied": True},
            {"rater_nip": REKAN_1, "leniency": "-1.00", "applied": True},
        ],
        "note": None,
    }
    assert unit["bias_correction"] == "leniency"


def test_a_rater_with_nobody_to_compare_with_and_self_are_not_corrected(policies: Mapping[str, Policy]) -> None:
    c = unit_json(lenient_unit(), with_correction(policies))["corrected"][2]
    assert c["raters"] == [
        {"rater_nip": NIP_C, "leniency": None, "applied": False},
        {"rater_nip": BAWAHAN, "leniency": None, "applied": False},
    ]
    assert (c["perilaku_score_uncorrected"], c["perilaku_score_corrected"]) == ("2.00", "2.00")
    assert (c["predikat_uncorrected"], c["predikat_corrected"]) == ("Baik", "Baik")


def test_the_kurva_is_checked_on_the_corrected_predikat(policies: Mapping[str, Policy]) -> None:
    plain = unit_json(lenient_unit(), policies)
    corrected = unit_json(lenient_unit(), with_correction(policies))
    # uncorrected: Sangat Baik 2 of 3 (at most 70%, the largest group): allowed under Istimewa
    assert plain["kurva"]["verdict"] == "ok"
    assert plain["predikat_counts"]["Sangat Baik"] == 2
    # corrected: Baik 3 of 3, Sangat Baik no longer the largest group
    assert corrected["predikat_counts"] == {
        "Sangat Baik": 0,
        "Baik": 3,
        "Butuh Perbaikan": 0,
        "Kurang/Misconduct": 0,
        "Sangat Kurang": 0,
    }
    assert [(v["check"], v["share"]) for v in corrected["kurva"]["violations"]] == [("largest", "0/3")]


def test_an_unjustified_pejabat_penilai_rating_loses_to_the_corrected_aggregate(
    policies: Mapping[str, Policy],
) -> None:
    events = lenient_unit(pp_a=("Di Atas Ekspektasi", None))
    a = unit_json(events, with_correction(policies))["corrected"][0]
    # equal to the uncorrected aggregate, so used; different from the corrected one and unjustified: the
    # objective rating is used (policy unjustified_divergence: use_evidence)
    assert (a["rating_perilaku_uncorrected"], a["rating_perilaku_corrected"]) == (
        "Di Atas Ekspektasi",
        "Sesuai Ekspektasi",
    )
    assert a["predikat_corrected"] == "Baik"


def test_a_justified_pejabat_penilai_rating_still_decides_after_correction(policies: Mapping[str, Policy]) -> None:
    events = lenient_unit(pp_a=("Di Atas Ekspektasi", "memimpin tim vaksinasi di luar jam kerja"))
    a = unit_json(events, with_correction(policies))["corrected"][0]
    assert a["multi_rater_corrected"] == "Sesuai Ekspektasi"
    assert a["rating_perilaku_corrected"] == "Di Atas Ekspektasi"
    assert a["predikat_corrected"] == "Sangat Baik"


def test_the_appraisals_themselves_are_not_corrected(policies: Mapping[str, Policy]) -> None:
    plain = score_stream(lenient_unit(), policies).appraisals
    corrected = score_stream(lenient_unit(), with_correction(policies)).appraisals
    assert [a.predikat for a in plain] == [a.predikat for a in corrected] == ["Sangat Baik", "Sangat Baik", "Baik"]


def test_without_the_option_the_unit_has_no_correction_keys(policies: Mapping[str, Policy]) -> None:
    unit = unit_json(lenient_unit(), policies)
    assert "corrected" not in unit and "bias_correction" not in unit


def test_the_same_input_gives_identical_json_in_any_order_of_employees(policies: Mapping[str, Policy]) -> None:
    corrected = with_correction(policies)
    events = lenient_unit()
    first = json.dumps(score_stream(events, corrected).to_json(), sort_keys=True)
    again = json.dumps(score_stream(list(events), corrected).to_json(), sort_keys=True)
    reversed_employees = [*events[-1:], *reversed(events[:-1])]
    other = json.dumps(score_stream(reversed_employees, corrected).to_json(), sort_keys=True)
    assert first == again == other


def _without_correction(output: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(output, sort_keys=True)
    for unit in output["units"]:
        text = text.replace(unit["policy"]["content_hash"], "HASH")
    plain = json.loads(text)
    for unit in plain["units"]:
        unit.pop("corrected", None)
        unit.pop("bias_correction", None)
    return plain


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.integers(1, 3), min_size=len(VALUES), max_size=len(VALUES)),
            st.integers(1, 3),
            st.sampled_from(["60", "95", "115"]),
            st.sampled_from([None, "Di Bawah Ekspektasi", "Sesuai Ekspektasi", "Di Atas Ekspektasi"]),
            st.booleans(),
        ),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(["Istimewa", "Baik", "Butuh Perbaikan"]),
)
def test_correction_with_unbiased_raters_changes_nothing(
    policies: Mapping[str, Policy], people: list[tuple[list[int], int, str, str | None, bool]], predicate: str
) -> None:
    events: list[Envelope] = []
    for nip, (scores, own, capaian, pp, justified) in zip((NIP_A, NIP_B, NIP_C), people, strict=False):
        s = Stream(nip)
        s.assigned()
        s.plan(rhk("r1", iki(f"i-{nip[-3:]}", "100")))
        s.realised(f"i-{nip[-3:]}", capaian)
        for value, score in zip(VALUES, scores, strict=True):
            # every rater agrees on every item: each leniency is 0; self rates as he or she likes
            for rater, relation in ((ATASAN, "atasan"), (REKAN_1, "rekan"), (REKAN_2, "rekan")):
                s.rated(rater, relation, value, score)
            s.rated(nip, "diri", value, own)
        if pp is not None:
            s.pejabat(perilaku=pp, why="alasan" if justified else None)
        s.closed()
        events += s.events
    events += org(predicate)
    plain = score_stream(events, policies).to_json()
    corrected = score_stream(events, with_correction(policies)).to_json()
    (unit,) = corrected["units"]
    assert {r["leniency"] for r in unit["bias"]["raters"]} == {"0.00"}
    for entry in unit["corrected"]:
        assert entry["perilaku_score_corrected"] == entry["perilaku_score_uncorrected"]
        assert entry["rating_perilaku_corrected"] == entry["rating_perilaku_uncorrected"]
        assert entry["predikat_corrected"] == entry["predikat_uncorrected"]
    assert _without_correction(corrected) == _without_correction(plain)


def test_in_block_mode_the_corrected_predikat_is_the_one_withheld(policies: Mapping[str, Policy]) -> None:
    events = [*lenient_unit()[:-1], *org("Istimewa", "block")]
    assert unit_json(events, policies)["issued"] is True  # uncorrected: Sangat Baik 2 of 3, allowed
    unit = unit_json(events, with_correction(policies))
    assert unit["issued"] is False
    assert [(e["predikat"], e["predikat_final"]) for e in unit["predikat_final"]] == [("Baik", None)] * 3
