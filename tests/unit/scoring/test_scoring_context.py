"""`context_for` keeps exactly the unit-level events `route` can send into one employee's streams: appraising
an employee from own events plus the kept context gives the appraisals that own events plus every context
event give (the demo: 8 units with leaders, positions, unit predicates, policies for "*" and for units)."""

from __future__ import annotations

import orjson
from demo_world import demo_employees

from contracts import events as ev
from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.domain.context import context_for
from services.scoring.domain.stream import appraise_employee


def _json(appraised: object) -> bytes:
    return orjson.dumps([(key, [str(e.event_id) for e in stream], a.to_json()) for key, stream, a in appraised])


def test_the_kept_context_appraises_every_employee_as_the_whole_context_does() -> None:
    policies = load_default_policies()
    leaders_reached = 0
    for nip, own, context in demo_employees():
        kept = context_for(own, context)
        assert len(kept) < len(context)
        full = appraise_employee([*own, *context], nip, policies)
        assert _json(appraise_employee([*own, *kept], nip, policies)) == _json(full)
        leaders_reached += any(e.type == ev.OrgPredicateSet.TYPE for _k, stream, _a in full for e in stream)
    assert leaders_reached >= 2  # unit predicates did reach leaders' streams: the filter was exercised
