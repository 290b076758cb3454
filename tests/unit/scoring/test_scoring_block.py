"""§1.7 "a unit can run in block mode, where final predicates cannot be issued until resolved": a block-mode
unit whose distribution breaks its curve withholds every final predikat with the violated rules as the reason;
a corrected rating or a new organisation predicate that resolves it issues them; warn mode keeps issuing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from scoring_events import ATASAN, NIP_A, NIP_B, NIP_C, UNIT, Stream, employee, iki, rhk

from contracts.envelope import Envelope
from services.scoring.adapters.policy_files import POLICY_DIR
from services.scoring.domain import Policy, score_stream
from services.scoring.domain.policy import load_policy

PERMEN = "permenpanrb-6-2022"


def unit_stream() -> Stream:
    return Stream(UNIT)


def set_org(u: Stream, predicate: str, mode: str | None, supersedes: Envelope | None = None) -> Envelope:
    payload = {"unit_id": UNIT, "predicate": predicate, "set_by_nip": ATASAN, "curve_mode": mode}
    return u.env("org.predicate.set", payload, supersedes=supersedes)


def three_sangat_baik() -> list[Envelope]:
    return [e for nip in (NIP_A, NIP_B, NIP_C) for e in employee(nip, "120", 3)]


def unit_json(events: list[Envelope], policies: Mapping[str, Policy]) -> dict[str, Any]:
    (unit,) = score_stream(events, policies).units
    return unit.to_json()


def test_a_block_mode_unit_with_a_violation_withholds_every_final_predikat(policies: Mapping[str, Policy]) -> None:
    u = unit_stream()
    set_org(u, "Istimewa", "block")
    unit = unit_json([*three_sangat_baik(), *u.events], policies)
    assert unit["kurva"]["verdict"] == "block"
    assert unit["issued"] is False
    reason = (
        "withheld: kurva block mode, the distribution breaks §1.7 for org predicate Istimewa: "
        "at_most Sangat Baik is 3/3, more than 70% (limit at most 70%)"
    )
    assert unit["predikat_final"] == [
        {"nip": nip, "predikat": "Sangat Baik", "predikat_final": None, "reason": reason}
        for nip in (NIP_A, NIP_B, NIP_C)
    ]


def test_the_reason_names_every_violated_rule(policies: Mapping[str, Policy]) -> None:
    u = unit_stream()
    set_org(u, "Baik", "block")
    unit = unit_json([*three_sangat_baik(), *u.events], policies)
    reason = unit["predikat_final"][0]["reason"]
    assert "largest Baik is not the largest group (Sangat Baik 3/3)" in reason
    assert "min_count Butuh Perbaikan + Kurang/Misconduct: 0 employees, needs at least 1" in reason


def test_warn_mode_keeps_issuing_with_the_warning(policies: Mapping[str, Policy]) -> None:
    u = unit_stream()
    set_org(u, "Istimewa", "warn")
    output = score_stream([*three_sangat_baik(), *u.events], policies)
    (unit,) = output.units
    assert unit.curve.verdict == "warn"
    assert unit.issuance is None
    assert "issued" not in unit.to_json() and "predikat_final" not in unit.to_json()
    assert [a.predikat for a in output.appraisals] == ["Sangat Baik"] * 3


def test_block_mode_set_in_the_policy_applies_when_the_event_names_no_mode(policies: Mapping[str, Policy]) -> None:
    data = (POLICY_DIR / f"{PERMEN}.yaml").read_bytes()
    blocking = data.replace(b"    mode: warn", b"    mode: block")
    assert blocking != data
    u = unit_stream()
    set_org(u, "Istimewa", None)
    unit = unit_json([*three_sangat_baik(), *u.events], {**policies, PERMEN: load_policy(blocking)})
    assert unit["kurva"]["mode"] == "block"
    assert unit["issued"] is False


def test_a_corrected_pejabat_penilai_rating_that_resolves_the_curve_issues_them(
    policies: Mapping[str, Policy],
) -> None:
    u = unit_stream()
    set_org(u, "Istimewa", "block")
    c = Stream(NIP_C)
    c.assigned()
    c.plan(rhk("r1", iki("i-c", "100")))
    c.realised("i-c", "120")
    c.rated_all(ATASAN, "atasan", 3)
    first = c.pejabat(perilaku="Di Atas Ekspektasi")
    c.closed()
    before = [*employee(NIP_A, "120", 3), *employee(NIP_B, "120", 3), *c.events, *u.events]
    assert unit_json(before, policies)["issued"] is False
    payload = {**first.payload, "rating_perilaku": "Sesuai Ekspektasi", "justification": "terlambat tiga kali"}
    c.env("rating.pejabat_penilai", payload, supersedes=first)
    unit = unit_json([*before, c.events[-1]], policies)
    # Sangat Baik 2 of 3 (66.7%, at most 70%) and the largest group: allowed under Istimewa
    assert unit["kurva"]["verdict"] == "ok"
    assert unit["issued"] is True
    assert [(e["nip"], e["predikat_final"], e["reason"]) for e in unit["predikat_final"]] == [
        (NIP_A, "Sangat Baik", None),
        (NIP_B, "Sangat Baik", None),
        (NIP_C, "Baik", None),
    ]


def test_a_new_organisation_predicate_that_resolves_the_curve_issues_them(policies: Mapping[str, Policy]) -> None:
    events = [*employee(NIP_A, "120", 3), *employee(NIP_B, "120", 3), *employee(NIP_C, "100", 3)]
    u = unit_stream()
    first = set_org(u, "Baik", "block")
    assert unit_json([*events, *u.events], policies)["issued"] is False
    set_org(u, "Istimewa", "block", supersedes=first)
    unit = unit_json([*events, *u.events], policies)
    assert (unit["org_predicate"], unit["kurva"]["verdict"], unit["issued"]) == ("Istimewa", "ok", True)
    assert [e["predikat_final"] for e in unit["predikat_final"]] == ["Sangat Baik", "Sangat Baik", "Baik"]


def test_an_employee_without_a_final_predikat_has_none_to_issue(policies: Mapping[str, Policy]) -> None:
    u = unit_stream()
    set_org(u, "Istimewa", "block")
    events = [*employee(NIP_A, "120", 3), *employee(NIP_B, "100", 3), *employee(NIP_C, "120", 3, closed=False)]
    unit = unit_json([*events, *u.events], policies)
    assert unit["issued"] is True
    assert unit["predikat_final"][2] == {
        "nip": NIP_C,
        "predikat": "Sangat Baik",
        "predikat_final": None,
        "reason": "not final yet: the period is not closed",
    }


def test_block_mode_output_is_deterministic(policies: Mapping[str, Policy]) -> None:
    u = unit_stream()
    set_org(u, "Baik", "block")
    events = [*three_sangat_baik(), *u.events]
    first = json.dumps(score_stream(events, policies).to_json(), sort_keys=True)
    assert first == json.dumps(score_stream(list(reversed(events)), policies).to_json(), sort_keys=True)
