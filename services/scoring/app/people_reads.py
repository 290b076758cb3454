"""What each role works on (docs/people.md "What each role works on"): whom the structure asks a person to rate,
a Pejabat Penilai's team, the dialog kinerja thread, and BKPSDM's progress per unit. Pure functions of the
events the read model holds (bodies as stored in scoring.events); no I/O, no clock (`now` is passed in).

- **Who rates whom** (REGULATION.md §1.4 multi-rater policy, §2.3 "raters are assigned by the structure, never
  chosen by the employee"): for a ratee R, `atasan` is R's Pejabat Penilai; `bawahan` is everyone whose Pejabat
  Penilai is R; `rekan` is everyone else with R's Pejabat Penilai; `diri` is R. The structure is the one in force
  at `now` (`people.current_pejabat_penilai`), because the evidence gate checks the relation at the rating's
  `occurred_at`, which the page sets to the moment it signs.
- **Done**: a (rater, ratee, relation) is done when the rater's accepted `behaviour.rated` events for that
  ratee, relation and period cover the seven BerAKHLAK values (§1.4).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from contracts import events as ev
from services.scoring.domain.timeline import period_bounds

#: The seven core values in the order of SE MenPANRB 20/2021 (REGULATION.md §1.4), as the contract names them.
VALUES: tuple[str, ...] = tuple(v.value for v in ev.BerakhlakValue)
RELATIONS: tuple[str, ...] = tuple(r.value for r in ev.RaterRelation)

#: §1.4: each value's label and behaviour indicators, in the words of the Panduan Perilaku (SE MenPANRB 20/2021).
BERAKHLAK: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "berorientasi_pelayanan": ("Berorientasi Pelayanan", (
        "Memahami dan memenuhi kebutuhan masyarakat",
        "Ramah, cekatan, solutif, dan dapat diandalkan",
        "Melakukan perbaikan tiada henti",
    )),
    "akuntabel": ("Akuntabel", (
        "Melaksanakan tugas dengan jujur, bertanggung jawab, cermat, disiplin, dan berintegritas tinggi",
        "Menggunakan kekayaan dan barang milik negara secara bertanggung jawab, efektif, dan efisien",
        "Tidak menyalahgunakan kewenangan jabatan",
    )),
    "kompeten": ("Kompeten", (
        "Meningkatkan kompetensi diri untuk menjawab tantangan yang selalu berubah",
        "Membantu orang lain belajar",
        "Melaksanakan tugas dengan kualitas terbaik",
    )),
    "harmonis": ("Harmonis", (
        "Menghargai setiap orang apa pun latar belakangnya",
        "Suka menolong orang lain",
        "Membangun lingkungan kerja yang kondusif",
    )),
    "loyal": ("Loyal", (
        "Memegang teguh ideologi Pancasila, Undang-Undang Dasar Negara Republik Indonesia Tahun 1945, setia "
        "kepada Negara Kesatuan Republik Indonesia serta pemerintahan yang sah",
        "Menjaga nama baik sesama ASN, pimpinan, instansi, dan negara",
        "Menjaga rahasia jabatan dan negara",
    )),
    "adaptif": ("Adaptif", (
        "Cepat menyesuaikan diri menghadapi perubahan",
        "Terus berinovasi dan mengembangkan kreativitas",
        "Bertindak proaktif",
    )),
    "kolaboratif": ("Kolaboratif", (
        "Memberi kesempatan kepada berbagai pihak untuk berkontribusi",
        "Terbuka dalam bekerja sama untuk menghasilkan nilai tambah",
        "Menggerakkan pemanfaatan berbagai sumber daya untuk tujuan bersama",
    )),
}
assert tuple(BERAKHLAK) == VALUES, "BERAKHLAK must list the contract's values in order"


@dataclass(frozen=True, slots=True, order=True)
class Expected:
    """One rating the structure asks for: `rater` rates `ratee` as `relation` (§1.4, §2.3)."""

    rater: str
    ratee: str
    relation: str


def values_catalogue() -> list[dict[str, Any]]:
    """The seven values with their labels and behaviour indicators (§1.4), as the tasks route returns them."""
    return [{"value": v, "label": label, "indicators": list(indicators)}
            for v, (label, indicators) in BERAKHLAK.items()]


def period_key(period: str) -> tuple[date, date]:
    """Orders periods by their last day, then their first (so "2025-Q4" comes after "2025")."""
    first, last = period_bounds(period)
    return last, first


def latest_period(periods: Iterable[str]) -> str | None:
    """The latest of `periods` (ValueError-free: periods that do not parse are skipped), or None."""
    readable = []
    for p in periods:
        try:
            readable.append((period_key(p), p))
        except (ValueError, KeyError):
            continue
    return max(readable)[1] if readable else None


def deadline_of(period: str) -> str:
    """The last day to rate for `period`: its last day (§1.1 periodic evaluation closes the period; Objektif's
    policy, since no regulation sets a separate date for the multi-rater answers)."""
    return period_bounds(period)[1].isoformat()


class Structure:
    """Who appraises whom (`pejabat_penilai`: NIP → Pejabat Penilai in force), indexed both ways; someone named
    his or her own Pejabat Penilai has none (the gate refuses such an assignment)."""

    def __init__(self, pejabat_penilai: Mapping[str, str | None]) -> None:
        self.pp = {n: (pp if pp != n else None) for n, pp in pejabat_penilai.items()}
        self.under: dict[str, list[str]] = defaultdict(list)
        for nip, pp in sorted(self.pp.items()):
            if pp is not None:
                self.under[pp].append(nip)

    def raters_of(self, ratee: str) -> Iterator[tuple[str, str]]:
        """(rater, relation) of each rating the structure asks for about `ratee` (§1.4, §2.3)."""
        yield ratee, "diri"
        pp = self.pp.get(ratee)
        if pp is not None:
            yield pp, "atasan"
            yield from ((peer, "rekan") for peer in self.under.get(pp, ()) if peer != ratee)
        yield from ((sub, "bawahan") for sub in self.under.get(ratee, ()))

    def ratees_of(self, rater: str) -> Iterator[tuple[str, str]]:
        """(ratee, relation) of each rating the structure asks `rater` for: the converse of `raters_of`."""
        if rater in self.pp:
            yield rater, "diri"
        yield from ((sub, "atasan") for sub in self.under.get(rater, ()))
        pp = self.pp.get(rater)
        if pp is not None:
            yield from ((peer, "rekan") for peer in self.under.get(pp, ()) if peer != rater)
            yield pp, "bawahan"

    def count_for(self, ratee: str) -> int:
        """How many ratings `raters_of(ratee)` yields, without listing them."""
        pp = self.pp.get(ratee)
        peers = 0 if pp is None else len(self.under.get(pp, ())) - 1
        return 1 + (pp is not None) + peers + len(self.under.get(ratee, ()))

    def holds(self, rater: str, ratee: str, relation: str) -> bool:
        """Whether the structure asks `rater` to rate `ratee` as `relation` (as the gate's relation check)."""
        pp = self.pp.get(ratee)
        match relation:
            case "diri":
                return rater == ratee and ratee in self.pp
            case "atasan":
                return pp is not None and pp == rater
            case "rekan":
                return rater != ratee and pp is not None and self.pp.get(rater) == pp
            case "bawahan":
                return ratee != rater and self.pp.get(rater) == ratee
        return False


def expected_ratings(pejabat_penilai: Mapping[str, str | None], ratees: Iterable[str] | None = None,
                     rater: str | None = None) -> list[Expected]:
    """Every rating the structure asks for (`pejabat_penilai`: NIP → Pejabat Penilai in force), about the
    `ratees` given (all employees by default) and, when `rater` is given, only those he or she gives; sorted."""
    structure = Structure(pejabat_penilai)
    wanted = None if ratees is None else set(ratees)
    if rater is not None:
        found = (Expected(rater, ratee, rel) for ratee, rel in structure.ratees_of(rater))
    else:
        found = (Expected(r, ratee, rel) for ratee in (structure.pp if wanted is None else wanted & set(structure.pp))
                 for r, rel in structure.raters_of(ratee))
    return sorted({e for e in found if wanted is None or e.ratee in wanted})


def rated_values(ratings: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, str], set[str]]:
    """(rater, ratee, relation) → the values rated, from accepted `behaviour.rated` bodies."""
    done: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for body in ratings:
        p = body.get("payload") or {}
        if body.get("type") == ev.BehaviourRated.TYPE and p.get("rater_nip") and p.get("value"):
            done[(p["rater_nip"], body["subject"], str(p.get("relation")))].add(str(p["value"]))
    return done


Done = Mapping[tuple[str, str, str], Iterable[str]]


def _left(done: Iterable[str]) -> list[str]:
    given = set(done)
    return [v for v in VALUES if v not in given]


def tasks(viewer: str, pejabat_penilai: Mapping[str, str | None], people: Mapping[str, Mapping[str, Any]],
          done: Done) -> list[dict[str, Any]]:
    """`GET /api/tasks`'s `tasks`: whom the structure asks `viewer` to rate, with what is done and left.
    `people`: NIP → the last assignment's payload (name, jabatan); `done`: (rater, ratee, relation) → the values
    of the period rated (`rated_values`, or the store's aggregate); only the viewer's count."""
    order = {r: i for i, r in enumerate(("atasan", "rekan", "bawahan", "diri"))}
    rows = []
    for e in sorted(expected_ratings(pejabat_penilai, rater=viewer), key=lambda e: (order[e.relation], e.ratee)):
        given = set(done.get((viewer, e.ratee, e.relation), ()))
        person = people.get(e.ratee) or {}
        rows.append({"nip": e.ratee, "name": person.get("name"), "jabatan": person.get("jabatan"),
                     "relation": e.relation, "values_done": [v for v in VALUES if v in given],
                     "values_left": _left(given), "done": not _left(given)})
    return rows


#: How many missing ratings `progress` lists per unit when it covers every unit (`?unit=` lists them all).
MISSING_LISTED = 100


def progress(pejabat_penilai: Mapping[str, str | None], people: Mapping[str, Mapping[str, Any]],
             unit_names: Mapping[str, str], done: Done, unit: str | None = None,
             listed: int | None = MISSING_LISTED) -> list[dict[str, Any]]:
    """`GET /api/admin/progress`'s `units`: per unit of the ratees (their last assignment), how many ratings the
    structure asks for (`expected`), how many are complete (`done`), how many are not (`missing_total`), and the
    first `listed` missing ones (all when None) with the values left; `unit` keeps only that one. Counting costs
    the number of employees and complete ratings, not the number of pairs (a unit's peers are many)."""
    structure = Structure(pejabat_penilai)
    complete: dict[str, int] = defaultdict(int)
    for (rater, ratee, relation), values in done.items():
        if not _left(values) and structure.holds(rater, ratee, relation):
            complete[ratee] += 1
    by_unit: dict[str, list[str]] = defaultdict(list)
    for nip in sorted(structure.pp):
        unit_id = str((people.get(nip) or {}).get("unit_id") or "")
        if unit is None or unit_id == unit:
            by_unit[unit_id].append(nip)
    units = []
    for unit_id in sorted(by_unit):
        ratees = by_unit[unit_id]
        expected = sum(structure.count_for(r) for r in ratees)
        finished = sum(complete[r] for r in ratees)
        missing: list[dict[str, Any]] = []
        for ratee in ratees:
            for rater, relation in structure.raters_of(ratee):
                if listed is not None and len(missing) >= listed:
                    break
                left = _left(done.get((rater, ratee, relation), ()))
                if left:
                    missing.append({"rater_nip": rater, "rater_name": (people.get(rater) or {}).get("name"),
                                    "ratee_nip": ratee, "ratee_name": (people.get(ratee) or {}).get("name"),
                                    "relation": relation, "values_left": left})
        units.append({"unit_id": unit_id or None, "name": unit_names.get(unit_id), "expected": expected,
                      "done": finished, "missing_total": expected - finished, "missing": missing})
    return units


def team(viewer: str, members: Sequence[str], people: Mapping[str, Mapping[str, Any]],
         results: Mapping[str, Mapping[str, Any]], delivered: Iterable[str]) -> list[dict[str, Any]]:
    """`GET /api/team`'s `members`: each employee `viewer` appraises as Pejabat Penilai, with the evidence
    ratings beside his or her own (§1.3, §1.4), the predikat (§1.5), whether the result was delivered and the
    objection's status (§2.4). `results`: NIP → the stored appraisal of the period (absent: none yet)."""
    sent = set(delivered)
    rows = []
    for nip in sorted(members):
        if nip == viewer:
            continue
        r = results.get(nip) or {}
        hasil, perilaku = r.get("rating_hasil_kerja") or {}, r.get("rating_perilaku") or {}
        own = {"rating_hasil_kerja": hasil.get("pejabat_penilai"), "rating_perilaku": perilaku.get("pejabat_penilai"),
               "justification": (r.get("divergence") or {}).get("justification")}
        person = people.get(nip) or {}
        rows.append({"nip": nip, "name": r.get("name") or person.get("name"),
                     "jabatan": r.get("jabatan") or person.get("jabatan"),
                     "rating_hasil_kerja_evidence": hasil.get("evidence"),
                     "rating_perilaku_evidence": perilaku.get("multi_rater"),
                     "pp": own if own["rating_hasil_kerja"] or own["rating_perilaku"] else None,
                     "predikat": r.get("predikat"), "delivered": nip in sent,
                     "objection_status": (r.get("objection") or {}).get("status")})
    return rows


def _references(refers_to: Iterable[Any]) -> list[dict[str, Any]]:
    """`refers_to` of v1 (bare event ids) or v2 (`{event_id, iki_id?, value?}`), as v2 (contracts.registry)."""
    out = []
    for ref in refers_to or ():
        if isinstance(ref, Mapping):
            out.append({"event_id": str(ref.get("event_id")), "iki_id": ref.get("iki_id"), "value": ref.get("value")})
        else:
            out.append({"event_id": str(ref), "iki_id": None, "value": None})
    return out


def feedback_thread(nip: str, stream: Iterable[Mapping[str, Any]], people: Mapping[str, Mapping[str, Any]],
                    named: Iterable[str]) -> list[dict[str, Any]]:
    """`GET /api/feedback/{nip}/{period}`'s `items`: the `feedback.given` events of the employee's stream in
    order, each with its replies (a reply is the employee's own feedback whose `refers_to` names the item).
    Authors outside `named` (the employee, his or her chain, the viewer; everyone for an auditor) are shown
    without name or NIP: a peer's or subordinate's individual input is never shown to the ratee (§1.4)."""
    shown = set(named)
    items: list[dict[str, Any]] = []
    by_id: dict[str, dict[str, Any]] = {}
    for body in stream:
        if body.get("type") != ev.FeedbackGiven.TYPE or body.get("subject") != nip:
            continue
        p = body.get("payload") or {}
        author = str(p.get("from_nip") or "")
        visible = author in shown
        item = {"event_id": str(body.get("event_id")), "from_nip": author if visible else None,
                "from_name": (people.get(author) or {}).get("name") if visible else None,
                "text": p.get("text"), "occurred_at": body.get("occurred_at"),
                "refers_to": _references(p.get("refers_to") or ()), "replies": []}
        parent = next((by_id[r["event_id"]] for r in item["refers_to"] if r["event_id"] in by_id), None)
        if author == nip and parent is not None:
            parent["replies"].append(item)
        else:
            items.append(item)
        by_id[item["event_id"]] = item
    return items
