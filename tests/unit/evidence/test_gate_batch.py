"""Signed batches: one Ed25519 signature over a Merkle root; each member verifiable and decided on its own."""

from __future__ import annotations

import base64
import random

import orjson
import pytest
from evidence_world import SIKDA, SIMPEG, STAFF1, STRANGER, World, build_world, codes

from contracts.signing import parse_batch_signature, sign_batch
from services.evidence.domain import Accepted, Code, Rejected, decide, decide_batch
from services.evidence.domain.authenticate import BatchMemo, authenticate
from services.evidence.domain.parse import Parsed, parse


@pytest.fixture
def world() -> World:
    return build_world()


def _batch(world: World, n: int) -> list[dict[str, object]]:
    return sign_batch([world.realisation(STAFF1, "iki-imunisasi", value=str(i)) for i in range(n)], SIKDA)


def test_one_tampered_member_is_rejected_while_the_others_are_accepted(world: World) -> None:
    members = _batch(world, 7)
    members[3]["payload"]["value"] = "120"  # type: ignore[index]
    decisions = decide_batch(
        [orjson.dumps(m) for m in members], world.state, received_at=world.now, received_from="t"
    )
    assert [type(d).__name__ for d in decisions] == ["Accepted"] * 3 + ["Rejected"] + ["Accepted"] * 3
    assert codes(decisions[3]) == (Code.SIGNATURE_INVALID,)


def test_a_member_that_fails_authorisation_is_rejected_alone(world: World) -> None:
    envelopes = [
        world.realisation(STAFF1, "iki-imunisasi"),
        world.realisation(STRANGER, "iki-imunisasi"),
        world.realisation(STAFF1, "iki-imunisasi"),
    ]
    decisions = world.submit_batch(envelopes, SIKDA)
    assert isinstance(decisions[0], Accepted)
    assert isinstance(decisions[2], Accepted)
    assert codes(decisions[1]) == (Code.SUBJECT_UNKNOWN,)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13])
def test_each_member_of_a_batch_verifies_on_its_own(world: World, size: int) -> None:
    for member in _batch(world, size):
        decision = decide(orjson.dumps(member), world.state, received_at=world.now, received_from="t")
        assert isinstance(decision, Accepted)


def test_verifying_a_whole_batch_in_any_order_costs_one_ed25519_verification_and_n_hashes(
    world: World,
) -> None:
    parsed = [p for m in _batch(world, 50) if isinstance(p := parse(orjson.dumps(m), max_bytes=10**6), Parsed)]
    random.Random(7).shuffle(parsed)
    memo = BatchMemo.over([(p.batch, p.leaf) for p in parsed if p.batch])
    results = [authenticate(p, world.state, world.now, memo) for p in parsed]
    assert results == [()] * 50
    assert memo.ed25519_checks == 1
    assert memo.node_hashes == 49  # every interior node of the tree once; plus one leaf hash per member


def test_a_batch_split_over_two_calls_costs_one_verification_in_each(world: World) -> None:
    members = [orjson.dumps(m) for m in _batch(world, 20)]
    for part in (members[:13], members[13:]):
        memo = BatchMemo()
        parsed = [p for raw in part if isinstance(p := parse(raw, max_bytes=10**6), Parsed)]
        assert [authenticate(p, world.state, world.now, memo) for p in parsed] == [()] * len(part)
        assert memo.ed25519_checks == 1


def test_a_member_whose_audit_path_is_altered_is_rejected_though_its_batch_is_complete(world: World) -> None:
    members = _batch(world, 8)
    parts = str(members[6]["signature"]).split(":")
    path = bytearray(base64.b64decode(parts[4]))
    path[-1] ^= 1  # the top sibling: the leaf is in the signed tree, but this path does not prove it
    members[6]["signature"] = ":".join([*parts[:4], base64.b64encode(bytes(path)).decode()])
    decisions = decide_batch(
        [orjson.dumps(m) for m in members], world.state, received_at=world.now, received_from="t"
    )
    assert [type(d).__name__ for d in decisions] == ["Accepted"] * 6 + ["Rejected", "Accepted"]
    assert codes(decisions[6]) == (Code.SIGNATURE_INVALID,)


def test_a_batch_by_the_wrong_key_costs_one_failed_verification_not_one_per_member(world: World) -> None:
    memo = BatchMemo()
    members = sign_batch([world.realisation(STAFF1, "iki-imunisasi") for _ in range(20)], SIMPEG)
    parsed = [parse(orjson.dumps(m), max_bytes=10**6) for m in members]
    results = [authenticate(p, world.state, world.now, memo) for p in parsed if isinstance(p, Parsed)]
    assert [tuple(r.code for r in reasons) for reasons in results] == [(Code.SIGNATURE_INVALID,)] * 20
    assert memo.ed25519_checks == 1


def test_a_tampered_member_is_caught_even_after_its_neighbours_proved_the_tree(world: World) -> None:
    members = _batch(world, 8)
    members[5]["payload"]["value"] = "120"  # type: ignore[index]
    memo = BatchMemo()
    parsed = [parse(orjson.dumps(m), max_bytes=10**6) for m in members]
    results = [authenticate(p, world.state, world.now, memo) for p in parsed if isinstance(p, Parsed)]
    assert [bool(r) for r in results] == [False] * 5 + [True] + [False] * 2


def test_a_member_moved_to_another_position_is_rejected(world: World) -> None:
    members = _batch(world, 4)
    members[0]["signature"], members[1]["signature"] = members[1]["signature"], members[0]["signature"]
    decisions = decide_batch(
        [orjson.dumps(m) for m in members], world.state, received_at=world.now, received_from="t"
    )
    assert [type(d) for d in decisions] == [Rejected, Rejected, Accepted, Accepted]


def test_a_batch_signed_by_the_wrong_source_is_rejected_member_by_member(world: World) -> None:
    members = sign_batch([world.realisation(STAFF1, "iki-imunisasi") for _ in range(3)], SIMPEG)
    decisions = decide_batch(
        [orjson.dumps(m) for m in members], world.state, received_at=world.now, received_from="t"
    )
    assert [codes(d) for d in decisions] == [(Code.SIGNATURE_INVALID,)] * 3


def test_a_batch_signature_carries_its_size_index_and_audit_path(world: World) -> None:
    members = _batch(world, 5)
    parts = [parse_batch_signature(str(m["signature"])) for m in members]
    assert [(p.size, p.index, len(p.path)) for p in parts if p] == [
        (5, 0, 3),
        (5, 1, 3),
        (5, 2, 3),
        (5, 3, 3),
        (5, 4, 1),
    ]
    assert len({p.signature for p in parts if p}) == 1
