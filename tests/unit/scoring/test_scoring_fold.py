"""The fold (STYLE.md): duplicates change nothing, corrections supersede, unknown types are errors."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import ClassVar

import pytest
from scoring_events import NIP_A, Stream, iki, rhk

from contracts import events as ev
from contracts import registry
from contracts.registry import UnknownEventType
from services.scoring.domain import Policy, State, UnhandledEventType, appraise, evolve, fold


def planned_stream() -> Stream:
    s = Stream(NIP_A)
    s.assigned()
    s.plan(rhk("r1", iki("a", "100")))
    return s


def test_a_duplicate_event_changes_nothing() -> None:
    s = planned_stream()
    s.realised("a", "90")
    once = fold(s.events)
    assert fold([*s.events, s.events[-1], s.events[0]]) == once


def test_a_correction_replaces_the_event_it_supersedes(policies: Mapping[str, Policy]) -> None:
    s = planned_stream()
    wrong = s.realised("a", "50")
    right = s.realised("a", "95", supersedes=wrong)
    appraisal = appraise(s.events, policies)
    assert appraisal.iki[0].capaian == Decimal("95.00")
    assert appraisal.iki[0].evidence_event_ids == (str(right.event_id),)
    assert str(wrong.event_id) not in appraisal.basis_event_ids


def test_a_superseded_event_arriving_after_its_correction_stays_superseded() -> None:
    s = planned_stream()
    wrong = s.realised("a", "50")
    right = s.realised("a", "95", supersedes=wrong)
    state = fold([*s.events[:2], right, wrong])
    assert [f.payload.value for f in state.realisations] == [Decimal("95")]


def test_a_correction_of_a_correction_leaves_only_the_last() -> None:
    s = planned_stream()
    first = s.realised("a", "50")
    second = s.realised("a", "60", supersedes=first)
    s.realised("a", "70", supersedes=second)
    assert [f.payload.value for f in fold(s.events).realisations] == [Decimal("70")]


def test_an_event_type_no_contract_defines_is_an_error() -> None:
    s = planned_stream()
    bogus = s.env("no.such.type", {})
    with pytest.raises(UnknownEventType):
        evolve(State(), bogus)


class _NewFact(ev.Payload):
    TYPE: ClassVar[str] = "test.new_fact"


def test_a_contract_the_fold_has_no_case_for_is_an_error_not_a_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.PAYLOADS, _NewFact.TYPE, _NewFact)
    monkeypatch.setitem(registry.CURRENT_VERSION, _NewFact.TYPE, 1)
    event = Stream(NIP_A).env(_NewFact.TYPE, {})
    with pytest.raises(UnhandledEventType):
        evolve(State(), event)


def test_folding_a_prefix_then_the_rest_equals_folding_the_whole() -> None:
    s = planned_stream()
    s.realised("a", "90")
    s.closed()
    assert fold(s.events[2:], fold(s.events[:2])) == fold(s.events)
