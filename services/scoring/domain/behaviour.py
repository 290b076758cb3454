"""Rating perilaku from several raters: BerAKHLAK per value, relation weights, self shown but not scored
(REGULATION.md §1.4)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from contracts import events as ev
from contracts.events import BerakhlakValue, Rating
from services.scoring.domain.capaian import rating_from_bands
from services.scoring.domain.numbers import exact, mean, rounded
from services.scoring.domain.policy import Behaviour, Rounding
from services.scoring.domain.state import Fact

RELATIONS = ("atasan", "rekan", "bawahan", "diri")
#: The BerAKHLAK values in their order (iterating the enum itself costs more than the aggregate).
_BERAKHLAK = tuple(v.value for v in BerakhlakValue)


@dataclass(frozen=True, slots=True)
class RaterScore:
    """One rater's latest score (1-3) of one value of one employee, and the event it came from."""

    rater_nip: str
    relation: str
    value: str
    score: int
    event_id: str


@dataclass(frozen=True, slots=True)
class ValueResult:
    """One BerAKHLAK value: the weighted score, and the mean and number of raters per relation (self included,
    shown and never scored)."""

    value: str
    score: Decimal | None
    by_relation: tuple[tuple[str, Decimal, int], ...]

    def to_json(self) -> dict[str, object]:
        """JSON-ready form (decimals as strings)."""
        return {
            "value": self.value,
            "score": None if self.score is None else format(self.score, "f"),
            "by_relation": {rel: {"mean": format(m, "f"), "raters": n} for rel, m, n in self.by_relation},
        }


@dataclass(frozen=True, slots=True)
class BehaviourAggregate:
    """The multi-rater result: per value, the overall score (mean over the values scored) and its rating."""

    per_value: tuple[ValueResult, ...]
    score: Decimal | None
    rating: Rating | None


def latest_scores(scores: Sequence[RaterScore]) -> tuple[RaterScore, ...]:
    """A rater who rates the same value twice is counted once, with the later score (scores in fold order)."""
    latest: dict[tuple[str, str], RaterScore] = {}
    for score in scores:
        latest.pop((score.rater_nip, score.value), None)
        latest[(score.rater_nip, score.value)] = score
    return tuple(latest.values())


#: How many points a rater's score counts for: its score as given (§1.4), or corrected for the rater's
#: leniency when a policy says so (`services.scoring.domain.correction`).
Points = Callable[[RaterScore], Decimal]


def as_given(score: RaterScore) -> Decimal:
    """A score's points as the rater gave them."""
    return Decimal(score.score)


@exact
def value_score(
    scores: Sequence[RaterScore],
    value: str,
    policy: Behaviour,
    rounding: Rounding,
    points: Points = as_given,
) -> ValueResult:
    """§1.4 per value: raters of one relation are averaged first; each relation's mean then carries the
    relation's weight, renormalised over the relations present with a non-zero weight (self has weight 0)."""
    weights = {str(k): w for k, w in policy.weights.items()}
    by_relation: list[tuple[str, Decimal, int]] = []
    weighted = Decimal(0)
    total_weight = Decimal(0)
    for relation in RELATIONS:
        of_relation = [points(s) for s in scores if s.value == value and s.relation == relation]
        if not of_relation:
            continue
        relation_mean = mean(of_relation)
        by_relation.append(
            (relation, rounded(relation_mean, rounding.places, rounding.mode), len(of_relation))
        )
        weight = weights.get(relation, Decimal(0))
        if weight > 0:
            weighted += relation_mean * weight
            total_weight += weight
    score = rounded(weighted / total_weight, rounding.places, rounding.mode) if total_weight else None
    return ValueResult(value, score, tuple(by_relation))


@exact
def aggregate_behaviour(
    scores: Sequence[RaterScore], policy: Behaviour, rounding: Rounding, points: Points = as_given
) -> BehaviourAggregate:
    """§1.4 overall: the mean of the per-value scores over the values rated (by anyone but self), rated with
    the policy bands (>= 2.5 Di Atas, >= 1.5 Sesuai, else Di Bawah). `None` when nothing is scored. `points`
    reads each score (as given by default)."""
    current = latest_scores(scores)
    present = {s.value for s in current}
    rated_values = [v for v in _BERAKHLAK if v in present]
    per_value = tuple(value_score(current, value, policy, rounding, points) for value in rated_values)
    scored = [v.score for v in per_value if v.score is not None]
    if not scored:
        return BehaviourAggregate(per_value, None, None)
    overall = rounded(mean(scored), rounding.places, rounding.mode)
    return BehaviourAggregate(per_value, overall, rating_from_bands(overall, policy.bands))


#: What `behaviour_of` answers: the scores' aggregate, and the latest score per rater and value.
Assessed = tuple[BehaviourAggregate, tuple[RaterScore, ...]]
#: Behaviour facts the results kept by `behaviour_of` may hold, at most: an entry holds its stream's tuple of
#: facts (≈ 1.6 kB each), which the fold cache holds too while the employee is in it, and alone once it is not,
#: so the bound is on facts, not entries (≈ 100 MB at most).
MEMO_FACTS = 65_536


class BehaviourMemo:
    """Streams' §1.4 results by the identity of their tuple of behaviour facts and of the settings, least
    recently used first out, holding at most `limit` facts. Each entry holds the objects it is keyed by, so
    their ids are not reused while it is kept."""

    def __init__(self, limit: int = MEMO_FACTS) -> None:
        self.limit = limit
        self.held = 0  # facts the entries hold
        self._entries: OrderedDict[tuple[int, int, int], tuple[tuple[Sequence[object], object, object], Assessed]]
        self._entries = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, facts: tuple[object, ...], policy: object, rounding: object) -> Assessed | None:
        kept = self._entries.get((id(facts), id(policy), id(rounding)))
        if kept is None or kept[0][0] is not facts or kept[0][1] is not policy or kept[0][2] is not rounding:
            return None
        self._entries.move_to_end((id(facts), id(policy), id(rounding)))
        return kept[1]

    def put(self, facts: tuple[object, ...], policy: object, rounding: object, assessed: Assessed) -> None:
        if len(facts) > self.limit:
            return
        self._entries[(id(facts), id(policy), id(rounding))] = ((facts, policy, rounding), assessed)
        self.held += len(facts)
        while self.held > self.limit:
            (gone, _policy, _rounding), _assessed = self._entries.popitem(last=False)[1]
            self.held -= len(gone)


_MEMO = BehaviourMemo()


def behaviour_of(facts: Sequence[Fact[ev.BehaviourRated]], policy: Behaviour, rounding: Rounding,
                 memo: BehaviourMemo = _MEMO) -> Assessed:
    """§1.4 for a stream's behaviour facts: `aggregate_behaviour` of the raters' scores, and `latest_scores`.

    Kept in `memo` by the identity of the facts' tuple and of the settings: a fold keeps a slot's tuple as it was
    when no event of it arrived (`state._Builder.frozen`), so re-appraising an employee after a realisation finds
    the ratings' result there instead of aggregating every rating again (≈ 8% of scoring's time at 1,000/s under
    py-spy, docs/performance.md). A tuple of frozen facts cannot change; anything else is computed each time."""
    if type(facts) is tuple and (assessed := memo.get(facts, policy, rounding)) is not None:
        return assessed
    scores = tuple(
        RaterScore(f.payload.rater_nip, f.payload.relation.value, f.payload.value.value, f.payload.score, f.event_id)
        for f in facts
    )
    assessed = (aggregate_behaviour(scores, policy, rounding), latest_scores(scores))
    if type(facts) is tuple:
        memo.put(facts, policy, rounding, assessed)
    return assessed
