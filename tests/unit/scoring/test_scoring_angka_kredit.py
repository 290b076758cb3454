"""Angka kredit from the predikat (REGULATION.md §5): months / 12 × percentage × koefisien, exact, rounded half
up to 2 places at the end only; the jenjang from the `employee.assigned` evidence, the koefisien from the
versioned policy file."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import pytest
from pydantic import ValidationError
from scoring_events import ATASAN, NIP_A, Stream, employee, iki, rhk

from contracts import events as ev
from services.scoring.adapters.policy_files import ANGKA_KREDIT_FILE, POLICY_DIR
from services.scoring.domain import Policy, appraise, load_policy, score_stream
from services.scoring.domain.angka_kredit import AngkaKredit, Stretch
from services.scoring.domain.policy import PolicyError, load_angka_kredit

NIP = "199001012015031009"
QUARTER = "2025-Q3"
#: (capaian of an IKI with target 100, behaviour score of every value) → the predikat it gives (§1.3-§1.5)
PREDIKAT_INPUTS = {
    "Sangat Baik": ("120", 3),
    "Baik": ("100", 2),
    "Butuh Perbaikan": ("50", 2),
    "Kurang/Misconduct": ("100", 1),
    "Sangat Kurang": ("50", 1),
}


def stream(predikat: str = "Baik", period: str = QUARTER, **assignment: object) -> Stream:
    """One employee's complete period: the assignment (with `assignment`'s fields), plan, realisation, ratings."""
    capaian, behaviour = PREDIKAT_INPUTS[predikat]
    s = Stream(NIP, period)
    s.assigned(**assignment)
    s.plan(rhk("r1", iki("i-1", "100")))
    s.realised("i-1", capaian)
    s.rated_all(ATASAN, "atasan", behaviour)
    s.closed()
    return s


def credit_json(s: Stream, policies: Mapping[str, Policy]) -> dict[str, object]:
    result = appraise(s.events, policies).to_json()
    assert "angka_kredit" in result, result
    credit = result["angka_kredit"]
    assert isinstance(credit, dict)
    return credit


def test_the_published_example_two_months_baik_koefisien_12_5_earns_2_08(permen: Policy) -> None:
    # BKN's slide: 2/12 × 100% × 12.5 = 2.08, here from the pure computation and from the evidence
    assert permen.angka_kredit is not None
    pure = AngkaKredit(2025, "Baik", (Stretch(ev.JenjangFungsional.AHLI_PERTAMA, Decimal("12.5"), 8, 9, "e"),),
                       permen.angka_kredit)
    assert pure.value == Decimal("2.08")
    assert pure.formula() == "2/12 × 100% × 12.5 = 2.08"


def test_two_months_held_in_a_quarter_earn_2_08_with_the_formula_and_the_evidence(
    policies: Mapping[str, Policy],
) -> None:
    # appointed Guru Ahli Pertama on 1 August: August and September count (policy month_rule held_on_first_day)
    s = stream("Baik", jenjang_fungsional="Ahli Pertama", effective_from="2025-08-01T00:00:00+07:00")
    result = appraise(s.events, policies)
    credit = result.to_json()["angka_kredit"]
    assert credit["value"] == "2.08"
    assert credit["exact"] == "25/12"
    assert (credit["months"], credit["percentage"], credit["predikat"]) == (2, "100", "Baik")
    assert credit["stretches"] == [{"jenjang": "Ahli Pertama", "koefisien": "12.5", "months": 2, "from": "2025-08",
                                    "to": "2025-09", "event_id": str(s.events[0].event_id)}]
    assert credit["formula"] == "2/12 × 100% × 12.5 = 2.08"
    assert credit["policy"]["id"] == "angka-kredit-permenpanrb-1-2023"
    assert credit["policy"]["version"] == "1.0.0" and len(credit["policy"]["content_hash"]) == 64
    assert credit["event_ids"] == [str(s.events[0].event_id)]
    assert str(s.events[0].event_id) in result.basis_event_ids  # the jenjang's evidence is part of the basis


@pytest.mark.parametrize(
    ("predikat", "value", "percentage"),
    [
        ("Sangat Baik", "9.38", "150"),  # 3/12 × 150% × 25 = 9.375: half up
        ("Baik", "6.25", "100"),
        ("Butuh Perbaikan", "4.69", "75"),  # 4.6875
        ("Kurang/Misconduct", "3.13", "50"),  # 3.125: half up, not half even (3.12)
        ("Sangat Kurang", "1.56", "25"),  # 1.5625
    ],
)
def test_each_predikat_earns_its_share_of_the_koefisien(
    policies: Mapping[str, Policy], predikat: str, value: str, percentage: str
) -> None:
    credit = credit_json(stream(predikat, jenjang_fungsional="Ahli Muda"), policies)
    assert (credit["predikat"], credit["value"], credit["percentage"]) == (predikat, value, percentage)
    assert credit["formula"] == f"3/12 × {percentage}% × 25 = {value}"


def test_a_promotion_within_the_quarter_counts_each_jenjangs_months_and_rounds_once_at_the_end(
    policies: Mapping[str, Policy],
) -> None:
    s = stream("Baik", jenjang_fungsional="Pemula")
    promoted = s.assigned(jenjang_fungsional="Terampil", effective_from="2025-08-01T00:00:00+07:00")
    credit = credit_json(s, policies)
    # exact: (1 × 3.75 + 2 × 5) / 12 = 1.1458… → 1.15; rounding each stretch first would give 0.31 + 0.83 = 1.14
    assert (credit["value"], credit["exact"]) == ("1.15", "55/48")
    assert credit["formula"] == "(1/12 × 3.75 + 2/12 × 5) × 100% = 1.15"
    assert [(x["jenjang"], x["months"]) for x in credit["stretches"]] == [("Pemula", 1), ("Terampil", 2)]
    assert credit["jenjang"] == "Terampil" and credit["koefisien_id"] == "terampil"  # held at the period's end
    assert credit["event_ids"] == [str(s.events[0].event_id), str(promoted.event_id)]


def test_an_annual_result_counts_twelve_months(policies: Mapping[str, Policy]) -> None:
    credit = credit_json(stream("Baik", period="2025", jenjang_fungsional="Ahli Madya"), policies)
    assert (credit["months"], credit["value"], credit["formula"]) == (12, "37.50", "12/12 × 100% × 37.5 = 37.50")


def test_an_annual_result_derived_from_its_quarters_earns_credit_for_the_derived_predikat(permen: Policy) -> None:
    # §1.8 worst-period: the annual predikat is the worst quarter's (Butuh Perbaikan), and so is its credit
    text = (POLICY_DIR / "permenpanrb-6-2022.yaml").read_bytes()
    worst = load_policy(text.replace(b"annual: own", b"annual: worst-period"))
    policies = {worst.id: worst.model_copy(update={"angka_kredit": permen.angka_kredit})}
    quarters = [("2025-Q1", "120", 3), ("2025-Q2", "50", 2), ("2025-Q3", "100", 2), ("2025-Q4", "100", 2)]
    events = [e for p, c, b in [*quarters, ("2025", "100", 2)] for e in employee(NIP_A, c, b, p)]
    events = [e.model_copy(update={"payload": {**e.payload, "jenjang_fungsional": "Ahli Muda"}})
              if e.type == "employee.assigned" else e for e in events]
    out = {a.period: a.to_json() for a in score_stream(events, policies).appraisals}
    assert (out["2025"]["predikat"], out["2025"]["predikat_computed"]) == ("Butuh Perbaikan", "Butuh Perbaikan")
    assert out["2025"]["angka_kredit"]["formula"] == "12/12 × 75% × 25 = 18.75"
    assert out["2025-Q1"]["angka_kredit"]["value"] == "9.38"  # each quarter keeps its own: 3/12 × 150% × 25


def test_without_a_jenjang_a_result_has_no_angka_kredit_and_reads_as_before(policies: Mapping[str, Policy]) -> None:
    result = appraise(stream("Baik").events, policies)
    assert result.angka_kredit is None
    assert "angka_kredit" not in result.to_json()


def test_without_a_predikat_there_is_no_credit(policies: Mapping[str, Policy]) -> None:
    s = Stream(NIP, QUARTER)
    s.assigned(jenjang_fungsional="Ahli Pertama")
    s.plan(rhk("r1", iki("i-1", "100")))  # no realisation, no behaviour rating: no predikat yet
    result = appraise(s.events, policies)
    assert result.predikat is None and result.angka_kredit is None


def test_a_corrected_assignment_replaces_the_jenjang_it_supersedes(policies: Mapping[str, Policy]) -> None:
    s = stream("Baik", jenjang_fungsional="Ahli Utama")
    wrong = s.events[0]
    s.env("employee.assigned", {**wrong.payload, "jenjang_fungsional": "Ahli Pertama"}, supersedes=wrong)
    credit = credit_json(s, policies)
    assert (credit["jenjang"], credit["value"]) == ("Ahli Pertama", "3.13")  # 3/12 × 12.5 = 3.125
    assert str(wrong.event_id) not in credit["event_ids"]


def test_the_same_events_in_any_order_give_the_same_credit(policies: Mapping[str, Policy]) -> None:
    s = stream("Sangat Baik", jenjang_fungsional="Mahir")
    forward = score_stream(s.events, policies).to_json()
    backward = score_stream(list(reversed(s.events)), policies).to_json()
    assert forward == backward
    assert forward["appraisals"][0]["angka_kredit"]["value"] == "4.69"  # 3/12 × 150% × 12.5 = 4.6875


def test_the_regime_without_the_angka_kredit_policy_gives_no_credit(permen: Policy) -> None:
    bare = {"permenpanrb-6-2022": permen.model_copy(update={"angka_kredit": None})}
    assert appraise(stream("Baik", jenjang_fungsional="Ahli Muda").events, bare).angka_kredit is None


def test_the_policy_file_must_name_the_five_predikat_and_known_jenjang() -> None:
    text = (POLICY_DIR / ANGKA_KREDIT_FILE).read_bytes()
    policy = load_angka_kredit(text)
    assert policy.jenjang[ev.JenjangFungsional.AHLI_PERTAMA].koefisien == Decimal("12.5")
    assert policy.jenjang[ev.JenjangFungsional.PEMULA].koefisien == Decimal("3.75")
    with pytest.raises(ValidationError):
        load_angka_kredit(text.replace(b"  Sangat Kurang: 25\n", b""))
    with pytest.raises(ValidationError):
        load_angka_kredit(text.replace(b"  Penyelia:", b"  Penyelia Utama:"))
    with pytest.raises(PolicyError):
        load_angka_kredit(b"- not a mapping")


def test_an_assignment_names_a_known_jenjang_or_none_and_old_assignments_stay_valid() -> None:
    base = {"nip": NIP, "name": "Sari", "unit_id": "u", "position_id": "p", "jabatan": "Bidan",
            "effective_from": "2025-07-01T00:00:00+07:00"}
    assert ev.EmployeeAssigned.model_validate(base).jenjang_fungsional is None
    assert ev.EmployeeAssigned.model_validate({**base, "jenjang_fungsional": "TERAMPIL"}).jenjang_fungsional \
        is ev.JenjangFungsional.TERAMPIL
    with pytest.raises(ValidationError):
        ev.EmployeeAssigned.model_validate({**base, "jenjang_fungsional": "Ahli Super"})


def test_the_demo_gives_its_functional_staff_angka_kredit_and_no_one_else(policies: Mapping[str, Policy]) -> None:
    from demo_world import demo_events

    out = score_stream(demo_events(), policies).appraisals
    credited = {a.jabatan: a.angka_kredit for a in out if a.angka_kredit is not None}
    assert {"Guru Ahli Pertama", "Guru Ahli Muda", "Bidan Terampil", "Bidan Mahir",
            "Pengawas Sekolah Ahli Madya"} <= set(credited)
    assert credited["Guru Ahli Muda"].stretches[0].koefisien == Decimal(25)
    # structural leaders and the kecamatan's pelaksana hold no jenjang: no credit
    leaders = [a for a in out if a.jabatan and a.jabatan.startswith(("Kepala", "Camat", "Analis"))]
    assert leaders and all(a.angka_kredit is None for a in leaders)
