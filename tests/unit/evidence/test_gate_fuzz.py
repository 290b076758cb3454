"""Thousands of malformed submissions: the gate never raises, and every one ends rejected with a reason."""

from __future__ import annotations

import random
from typing import Any

import orjson
from evidence_world import KAPUS, PERSON_KEYS, SIKDA, STAFF1, build_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.signing import sign_envelope, signing_bytes
from services.evidence.domain import Accepted, Duplicate, Rejected, decide

WORLD = build_world()
VALID = [
    sign_envelope(WORLD.realisation(STAFF1, "iki-imunisasi"), SIKDA),
    sign_envelope(WORLD.rating(KAPUS, STAFF1, "atasan"), PERSON_KEYS[KAPUS]),
]
VALID_RAW = [orjson.dumps(v) for v in VALID]
FUZZ = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Generating nested JSON is hypothesis's slow part; fewer examples keep the suite within seconds.
FUZZ_JSON = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=12,
)


def _decide(raw: bytes) -> Accepted | Rejected | Duplicate:
    decision = decide(
        raw, WORLD.state, received_at=WORLD.now, received_from="fuzz", max_bytes=4096, known=WORLD.known
    )
    if isinstance(
        decision, Duplicate
    ):  # a mutation may land on an id already accepted: answered idempotently
        assert decision.event_id in WORLD.known
        return decision
    if isinstance(decision, Rejected):
        assert decision.reasons
        assert all(r.code and r.message_id and r.message_en for r in decision.reasons)
    return decision


def test_the_valid_seeds_are_accepted() -> None:
    assert all(isinstance(_decide(raw), Accepted) for raw in VALID_RAW)


@FUZZ
@given(st.binary(max_size=5000))
def test_random_bytes_are_rejected_with_a_reason(raw: bytes) -> None:
    assert isinstance(_decide(raw), Rejected)


@FUZZ_JSON
@given(json_values)
def test_random_json_is_rejected_with_a_reason(value: Any) -> None:
    assert isinstance(_decide(orjson.dumps(value)), Rejected)


@FUZZ
@given(st.sampled_from(VALID_RAW), st.data())
def test_mutated_bytes_of_a_valid_submission_are_rejected_unless_they_mean_the_same(
    raw: bytes, data: Any
) -> None:
    position = data.draw(st.integers(0, len(raw)))
    mutation = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
    if mutation == "flip" and position < len(raw):
        mutated = (
            raw[:position] + bytes([raw[position] ^ data.draw(st.integers(1, 255))]) + raw[position + 1 :]
        )
    elif mutation == "delete":
        mutated = raw[:position] + raw[position + data.draw(st.integers(1, 20)) :]
    elif mutation == "insert":
        mutated = raw[:position] + data.draw(st.binary(min_size=1, max_size=20)) + raw[position:]
    else:
        mutated = raw[:position]
    decision = _decide(mutated)
    if isinstance(decision, Accepted):  # e.g. whitespace inserted between tokens: the same signed content
        assert signing_bytes(orjson.loads(mutated)) == signing_bytes(orjson.loads(raw))


@FUZZ_JSON
@given(st.sampled_from(VALID), st.data())
def test_a_valid_submission_with_a_field_replaced_by_random_json_is_rejected(
    valid: dict[str, Any], data: Any
) -> None:
    envelope = orjson.loads(orjson.dumps(valid))
    target = envelope if data.draw(st.booleans()) else envelope["payload"]
    field = data.draw(st.sampled_from(sorted(target)) | st.text(max_size=12))
    replacement = data.draw(json_values)
    if target.get(field, object()) == replacement:
        return
    target[field] = replacement
    assert isinstance(_decide(orjson.dumps(envelope)), Rejected)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 3000), st.sampled_from(["[", '{"a":']))
def test_deep_nesting_is_rejected_with_a_reason(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    raw = (opener * depth + "1" + closer * depth).encode()
    decision = _decide(raw)
    assert isinstance(decision, Rejected)


def test_ten_thousand_seeded_byte_mutations_of_valid_submissions_never_escape_the_gate() -> None:
    rng = random.Random(20250101)  # seeded: the same ten thousand cases on every run
    outcomes = {Accepted: 0, Rejected: 0, Duplicate: 0}
    for _ in range(10_000):
        seed = rng.choice(VALID_RAW)
        raw = bytearray(seed)
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(raw))
            raw[position] = rng.randrange(256)
        decision = _decide(bytes(raw))
        if isinstance(decision, Accepted):
            assert signing_bytes(orjson.loads(bytes(raw))) == signing_bytes(orjson.loads(seed))
        outcomes[type(decision)] += 1
    assert outcomes[Rejected] > 9_000
