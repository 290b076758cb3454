"""The score event's bytes (`services.scoring.app.project.score_event`), written as canonical JSON directly, are
exactly the bytes of the envelope the contracts validate and dump: checked over every appraisal of the demo
data and over drawn timestamps."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from demo_world import demo_employees, demo_events
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import events as ev
from contracts.canonical import canonical_bytes
from contracts.envelope import Envelope
from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.app.project import SCORE_NAMESPACE, SOURCE, score_event
from services.scoring.domain.stream import appraise_employee


def _through_the_contracts(result: Mapping[str, Any], basis: Sequence[Envelope]) -> tuple[uuid.UUID, bytes]:
    """The score event as validated by `ScoreComputed` and `Envelope` and dumped (the definition)."""
    payload = ev.ScoreComputed(
        result=dict(result),
        basis_event_ids=tuple(result["basis_event_ids"]),
        basis_hash=result["basis_hash"],
        policy=result["policy"]["id"],
    )
    envelope = Envelope(
        event_id=uuid.uuid5(SCORE_NAMESPACE, f"{result['nip']}|{result['period']}|{result['basis_hash']}"),
        type=ev.ScoreComputed.TYPE,
        occurred_at=max(e.occurred_at for e in basis),
        source=SOURCE,
        subject=result["nip"],
        period=result["period"],
        payload=payload.model_dump(mode="json"),
        correlation_id=str(basis[-1].event_id),
    )
    return envelope.event_id, canonical_bytes(envelope.model_dump(mode="json", exclude_none=True))


def test_score_events_equal_the_contracts_dump_over_the_demo() -> None:
    policies = load_default_policies()
    employees = list(demo_employees())
    compared = 0
    for nip, own, context in employees:
        for _key, stream, appraisal in appraise_employee([*own, *context], nip, policies):
            result = appraisal.to_json()
            latest = max(e.occurred_at for e in stream)
            assert score_event(result, latest, str(stream[-1].event_id)) == _through_the_contracts(result, stream)
            compared += 1
    assert compared > len(employees) // 2


@settings(deadline=None)
@given(
    at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
    offset=st.sampled_from([UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=-3, minutes=-30))]),
)
def test_the_timestamp_is_written_as_the_envelope_writes_it(at: datetime, offset: timezone) -> None:
    events = demo_events()[:3]
    basis = [e.model_copy(update={"occurred_at": at.replace(tzinfo=offset)}) for e in events]
    result = {"nip": "198001012005011001", "period": "2025-Q3", "basis_hash": "0" * 64,
              "basis_event_ids": [str(e.event_id) for e in basis], "policy": {"id": "permenpanrb-6-2022"}}
    announced = score_event(result, max(e.occurred_at for e in basis), str(basis[-1].event_id))
    assert announced == _through_the_contracts(result, basis)


def test_the_read_models_row_holds_the_results_canonical_json_which_the_event_holds_verbatim() -> None:
    from services.scoring.app.project import announce

    policies = load_default_policies()
    nip, own, context = next(iter(demo_employees()))
    for _key, stream, appraisal in appraise_employee([*own, *context], nip, policies):
        result = appraisal.to_json()
        event_id, announcement, (start, end) = announce(result, max(e.occurred_at for e in stream),
                                                        str(stream[-1].event_id))
        assert announcement[start:end] == canonical_bytes(result)
        assert announcement[start - len(b'"result":'):end + 1] == b'"result":' + canonical_bytes(result) + b"}"
        assert (event_id, announcement) == _through_the_contracts(result, stream)
