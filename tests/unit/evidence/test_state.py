"""The gate's state: a deterministic fold over accepted events, however they were stored and replayed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import reduce

import pytest
from evidence_world import ADMIN, KAPUS, STAFF1, World, build_world

from contracts.envelope import Envelope
from contracts.signing import public_key_bytes
from services.evidence.domain import decide, evolve, initial_state
from services.evidence.domain.state import IntakeState


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


def _replay(envelopes: list[Envelope]) -> IntakeState:
    return reduce(evolve, envelopes, initial_state([public_key_bytes(ADMIN)]))


def test_replaying_the_accepted_events_rebuilds_the_same_state(world: World) -> None:
    assert _replay([a.envelope for a in world.accepted]) == world.state


def test_replaying_events_read_back_from_their_stored_json_rebuilds_the_same_state(world: World) -> None:
    stored = [Envelope.model_validate_json(a.envelope.model_dump_json()) for a in world.accepted]
    assert _replay(stored) == world.state


def test_a_prefix_then_the_rest_equals_the_whole(world: World) -> None:
    envelopes = [a.envelope for a in world.accepted]
    for cut in range(len(envelopes) + 1):
        assert reduce(evolve, envelopes[cut:], _replay(envelopes[:cut])) == world.state


def test_evolving_leaves_the_earlier_state_unchanged(world: World) -> None:
    before = _replay([a.envelope for a in world.accepted[:5]])
    snapshot = (len(before.sources), len(before.units), len(before.assignments))
    evolve(before, world.accepted[5].envelope)
    assert (len(before.sources), len(before.units), len(before.assignments)) == snapshot


def test_the_pejabat_penilai_is_looked_up_at_a_time(world: World) -> None:
    assert world.state.pejabat_penilai_at(STAFF1, world.now) == KAPUS
    assert world.state.pejabat_penilai_at(STAFF1, datetime(2000, 1, 1).astimezone()) is None


def test_a_cycle_in_recorded_unit_parents_does_not_hang_the_scope_check(world: World) -> None:
    looped = replace(world.state, units=world.state.units.insert("a", "b").insert("b", "a"))
    assert not looped.unit_covered(frozenset({"pemkot"}), "a")


def test_deciding_with_a_clock_without_offset_is_a_programming_error(world: World) -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        decide(b"{}", world.state, received_at=datetime(2025, 1, 1), received_from="t")


def test_the_types_a_catch_up_reads_are_exactly_those_the_fold_learns_from() -> None:
    """`STATE_TYPES` lets `Intake.catch_up` skip the bytes of every other event: it must name each payload
    `_learn` has a case for, and nothing else."""
    import inspect
    import re

    from services.evidence.domain import state as module

    cases = set(re.findall(r"case ev\.(\w+)\(\)", inspect.getsource(module._learn)))
    assert cases == {p.__name__ for p in module.STATE_PAYLOADS}
    assert {p.TYPE for p in module.STATE_PAYLOADS} == module.STATE_TYPES


def test_replaying_only_the_state_types_rebuilds_the_same_state() -> None:
    from evidence_world import SIKDA, build_world

    from services.evidence.domain.state import STATE_TYPES

    world = build_world()
    for value in ("80", "90"):
        world.must_accept(world.realisation(STAFF1, "iki-imunisasi", value=value), SIKDA)
    envelopes = [a.envelope for a in world.accepted]
    assert {e.type for e in envelopes} - STATE_TYPES  # the world has events the fold does not learn from
    assert _replay([e for e in envelopes if e.type in STATE_TYPES]) == world.state
