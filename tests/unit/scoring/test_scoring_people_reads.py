"""What each role works on, as pure rules (services/scoring/app/people_reads.py): who rates whom by the structure
(REGULATION.md §1.4, §2.3), what is done and left, the BerAKHLAK catalogue, BKPSDM's progress, a Pejabat
Penilai's team and the dialog kinerja thread."""

from __future__ import annotations

from typing import Any

import pytest

from contracts import events as ev
from services.scoring.app import people_reads as rules
from services.scoring.app.people_reads import Expected

HEAD, PP, A, B, C, SUB, LONE = "head", "pp", "a", "b", "c", "sub", "lone"
#: HEAD appraises PP; PP appraises A, B and C; A appraises SUB; LONE has no Pejabat Penilai and no one under
STRUCTURE = {HEAD: None, PP: HEAD, A: PP, B: PP, C: PP, SUB: A, LONE: None}
PEOPLE = {n: {"name": n.upper(), "jabatan": "Guru", "unit_id": "u2" if n in (HEAD, LONE) else "u1"}
          for n in STRUCTURE}


def rated(rater: str, ratee: str, relation: str, *values: str) -> list[dict[str, Any]]:
    return [{"type": "behaviour.rated", "subject": ratee,
             "payload": {"rater_nip": rater, "relation": relation, "value": v, "score": 2}} for v in values]


def test_the_values_are_the_contracts_seven_in_order_each_with_its_label_and_three_indicators() -> None:
    catalogue = rules.values_catalogue()
    assert [v["value"] for v in catalogue] == [v.value for v in ev.BerakhlakValue]
    assert [v["label"] for v in catalogue] == ["Berorientasi Pelayanan", "Akuntabel", "Kompeten", "Harmonis",
                                               "Loyal", "Adaptif", "Kolaboratif"]
    assert all(len(v["indicators"]) == 3 and all(v["indicators"]) for v in catalogue)
    assert "Tidak menyalahgunakan kewenangan jabatan" in catalogue[1]["indicators"]


def test_a_member_rates_her_pejabat_penilai_as_bawahan_her_peers_as_rekan_her_subordinate_as_atasan() -> None:
    got = {(e.ratee, e.relation) for e in rules.expected_ratings(STRUCTURE, rater=A)}
    assert got == {(PP, "bawahan"), (B, "rekan"), (C, "rekan"), (SUB, "atasan"), (A, "diri")}


def test_a_ratee_is_rated_by_the_structure_around_him_and_by_nobody_else() -> None:
    got = {(e.rater, e.relation) for e in rules.expected_ratings(STRUCTURE, ratees=[PP])}
    # HEAD's only subordinate is PP: PP has no peers; A, B and C rate him as bawahan
    assert got == {(HEAD, "atasan"), (A, "bawahan"), (B, "bawahan"), (C, "bawahan"), (PP, "diri")}
    assert {(e.rater, e.relation) for e in rules.expected_ratings(STRUCTURE, ratees=[LONE])} == {(LONE, "diri")}
    assert rules.expected_ratings(STRUCTURE, ratees=["nobody"]) == []


def test_a_structure_naming_someone_his_own_pejabat_penilai_asks_only_his_self_rating() -> None:
    assert rules.expected_ratings({"x": "x"}) == [Expected("x", "x", "diri")]


def test_tasks_say_which_values_are_done_and_left_and_only_the_viewers_ratings_count() -> None:
    ratings = [*rated(A, B, "rekan", *rules.VALUES), *rated(A, C, "rekan", "loyal", "akuntabel"),
               *rated(B, C, "rekan", *rules.VALUES), *rated(A, C, "diri", "adaptif")]  # wrong relation
    rows = {(t["nip"], t["relation"]): t for t in rules.tasks(A, STRUCTURE, PEOPLE, rules.rated_values(ratings))}
    assert rows[(B, "rekan")]["done"] and rows[(B, "rekan")]["values_left"] == []
    c = rows[(C, "rekan")]
    assert (c["values_done"], c["done"]) == (["akuntabel", "loyal"], False)
    assert c["values_left"] == ["berorientasi_pelayanan", "kompeten", "harmonis", "adaptif", "kolaboratif"]
    assert (c["name"], c["jabatan"]) == ("C", "Guru")
    assert [t["relation"] for t in rules.tasks(A, STRUCTURE, PEOPLE, {})] == [
        "atasan", "rekan", "rekan", "bawahan", "diri"]


@pytest.mark.parametrize(("periods", "latest"), [
    (["2025-Q3", "2025-Q4", "2025"], "2025-Q4"), (["2024", "2025-Q1"], "2025-Q1"), (["2025-S2", "2025-Q3"], "2025-S2"),
    (["junk", "2025-Q2"], "2025-Q2"), ([], None)])
def test_the_latest_period_is_the_one_ending_last(periods: list[str], latest: str | None) -> None:
    assert rules.latest_period(periods) == latest


def test_the_deadline_is_the_periods_last_day() -> None:
    assert [rules.deadline_of(p) for p in ("2024-Q1", "2025-S2", "2025")] == ["2024-03-31", "2025-12-31",
                                                                              "2025-12-31"]


def test_progress_counts_each_expected_rating_per_unit_and_lists_the_missing() -> None:
    ratings = [*rated(HEAD, PP, "atasan", *rules.VALUES), *rated(A, A, "diri", *rules.VALUES[:6])]
    done = rules.rated_values(ratings)
    units = {u["unit_id"]: u for u in rules.progress(STRUCTURE, PEOPLE, {"u1": "Unit Satu"}, done)}
    u1 = units["u1"]
    expected = rules.expected_ratings(STRUCTURE, ratees=[PP, A, B, C, SUB])
    assert (u1["name"], u1["expected"], u1["done"]) == ("Unit Satu", len(expected), 1)
    diri = next(m for m in u1["missing"] if (m["rater_nip"], m["ratee_nip"]) == (A, A))
    assert (diri["relation"], diri["values_left"], diri["rater_name"]) == ("diri", ["kolaboratif"], "A")
    assert (units["u2"]["expected"], units["u2"]["done"]) == (3, 0)  # HEAD, LONE themselves; PP rates HEAD
    assert [u["unit_id"] for u in rules.progress(STRUCTURE, PEOPLE, {}, done, unit="u2")] == ["u2"]


def test_the_team_shows_evidence_beside_the_pejabat_penilais_own_ratings() -> None:
    results = {A: {"name": "A", "jabatan": "Guru", "predikat": "Baik",
                   "rating_hasil_kerja": {"evidence": "Sesuai Ekspektasi", "pejabat_penilai": "Di Atas Ekspektasi"},
                   "rating_perilaku": {"multi_rater": "Sesuai Ekspektasi", "pejabat_penilai": None},
                   "divergence": {"justification": "Memimpin program"}, "objection": {"status": "filed"}}}
    rows = {r["nip"]: r for r in rules.team(PP, [A, B, PP], PEOPLE, results, delivered=[A])}
    assert set(rows) == {A, B}  # never oneself
    assert rows[A]["pp"] == {"rating_hasil_kerja": "Di Atas Ekspektasi", "rating_perilaku": None,
                             "justification": "Memimpin program"}
    assert (rows[A]["delivered"], rows[A]["objection_status"]) == (True, "filed")
    assert rows[B] == {"nip": B, "name": "B", "jabatan": "Guru", "rating_hasil_kerja_evidence": None,
                       "rating_perilaku_evidence": None, "pp": None, "predikat": None, "delivered": False,
                       "objection_status": None}


def feedback(event_id: str, author: str, refers: list[Any], subject: str = A) -> dict[str, Any]:
    return {"type": "feedback.given", "event_id": event_id, "subject": subject, "occurred_at": "2025-08-01",
            "payload": {"from_nip": author, "text": f"teks {event_id}", "refers_to": refers}}


def test_the_thread_nests_replies_reads_v1_references_and_hides_authors_outside_the_named() -> None:
    stream = [feedback("f1", PP, ["e-real"]), feedback("r1", A, [{"event_id": "f1"}]),
              feedback("r2", A, [{"event_id": "r1"}]), feedback("n1", B, [{"event_id": "f1"}]),
              feedback("s1", A, [{"event_id": "e-real", "iki_id": "aps"}]),
              feedback("x1", PP, [], subject=B), {"type": "behaviour.rated", "subject": A, "payload": {}}]
    items = rules.feedback_thread(A, stream, PEOPLE, named={A, PP, HEAD})
    assert [i["event_id"] for i in items] == ["f1", "n1", "s1"]
    f1, n1, s1 = items
    assert f1["refers_to"] == [{"event_id": "e-real", "iki_id": None, "value": None}]
    assert (f1["from_nip"], f1["from_name"]) == (PP, "PP")
    (r1,) = f1["replies"]
    assert r1["event_id"] == "r1" and [r["event_id"] for r in r1["replies"]] == ["r2"]
    assert (n1["from_nip"], n1["from_name"], n1["replies"]) == (None, None, [])  # a peer's note, not a reply
    assert s1["refers_to"][0]["iki_id"] == "aps" and s1["from_nip"] == A


def test_progress_counts_without_listing_and_a_rating_outside_the_structure_does_not_count() -> None:
    structure = rules.Structure(STRUCTURE)
    for ratee in STRUCTURE:
        assert structure.count_for(ratee) == len(list(structure.raters_of(ratee)))
        assert all(structure.holds(r, ratee, rel) for r, rel in structure.raters_of(ratee))
    done = rules.rated_values([*rated(HEAD, A, "atasan", *rules.VALUES), *rated(B, A, "rekan", *rules.VALUES)])
    (u1,) = rules.progress(STRUCTURE, PEOPLE, {}, done, unit="u1", listed=2)
    assert (u1["done"], u1["missing_total"], len(u1["missing"])) == (1, u1["expected"] - 1, 2)
    everything = rules.progress(STRUCTURE, PEOPLE, {}, done, unit="u1", listed=None)[0]
    assert len(everything["missing"]) == everything["missing_total"]
    assert (HEAD, A, "atasan") not in {(m["rater_nip"], m["ratee_nip"], m["relation"]) for m in everything["missing"]}
