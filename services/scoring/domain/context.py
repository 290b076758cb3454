"""Which unit-level context events can reach one employee's streams, so that re-appraising an employee routes
his or her own events and a handful of context events rather than every unit's (a city has one position
registration per employee: routing them all for each touched employee made each re-appraisal O(city)).

`route` sends a context event into an employee's stream only through the positions and units the employee was
assigned to: a position's registration (who leads a unit, §1.3) to the streams of whoever held that position;
a unit's predicate (§1.3) to the streams of that unit's leader; a policy adoption (§0) by period and unit. So
keeping every adoption, and the registrations and predicates of the positions and units named in the
employee's own assignments, gives `route` everything it would use for that employee: the same streams, the
same appraisals (a differential test checks it over the demo data and drawn organisations).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from contracts import events as ev
from contracts.envelope import Envelope


def context_for(own: Iterable[Envelope], context: Sequence[Envelope]) -> list[Envelope]:
    """The events of `context` (unit-level, `stream.is_context`) that `route` can send into the streams of the
    employee whose events are `own`, in their order."""
    positions: set[object] = set()
    units: set[object] = set()
    for event in own:
        if event.type == ev.EmployeeAssigned.TYPE:
            positions.add(event.payload.get("position_id"))
            units.add(event.payload.get("unit_id"))
    return [
        e for e in context
        if e.type == ev.PolicyAdopted.TYPE
        or (e.type == ev.PositionRegistered.TYPE and e.payload.get("position_id") in positions)
        or (e.type == ev.OrgPredicateSet.TYPE and e.payload.get("unit_id") in units)
    ]
