"""An erasure (UU PDP, ADR 0010) is a fact about a person that no appraisal reads: it must neither stop the fold
(a consumer that raised on it would retry the same batch for ever) nor open a stream for the year it happened in,
nor change a result. And every event type the contracts know has a case in the fold."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from contracts import registry
from services.scoring.domain import Policy, score_stream
from services.scoring.domain.state import _slot
from tests.unit.scoring.scoring_events import NIP_A, Stream, employee


def _erased(nip: str) -> Any:
    s = Stream(nip, period="2026")
    return s.env("personal_data.erased", {"nip": nip, "reason": "permintaan pegawai", "retention": "override",
                                          "retention_policy_hash": "0" * 64})


def test_an_erasure_changes_no_result_and_opens_no_stream(policies: Mapping[str, Policy]) -> None:
    events = employee(NIP_A, "100", 3)
    before = score_stream(events, policies).to_json()
    assert score_stream([*events, _erased(NIP_A)], policies).to_json() == before
    assert score_stream([_erased(NIP_A)], policies).to_json() == {"appraisals": [], "units": []}


@pytest.mark.parametrize("type_", sorted(registry.PAYLOADS))
def test_every_contract_type_has_a_case_in_the_fold(type_: str) -> None:
    slot = _slot(registry.PAYLOADS[type_].model_construct())  # UnhandledEventType when the fold has no case
    assert slot is None or isinstance(slot, str)
