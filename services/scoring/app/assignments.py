"""The assignment each employee holds at the end of a period, read from stored `employee.assigned` events (the
JSON the read model returns), as the scoring core's `assignment_in_force` decides it (REGULATION.md §2.3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.scoring.domain.timeline import period_bounds


def assignments_in_force(assignments: Sequence[Mapping[str, Any]], period: str) -> dict[str, Mapping[str, Any]]:
    """NIP → the payload of the assignment in force at the end of `period`, from `employee.assigned` events in
    sequence order: the one effective latest on or before the period's last day, else the last one recorded (as
    the scoring core's `assignment_in_force`); superseded assignments do not count."""
    superseded = {a.get("supersedes") for a in assignments if a.get("supersedes")}
    end = period_bounds(period)[1]
    chosen: dict[str, tuple[tuple[bool, str, int], Mapping[str, Any]]] = {}
    for i, a in enumerate(assignments):
        if a["event_id"] in superseded:
            continue
        p = a["payload"]
        effective = str(p.get("effective_from", ""))
        in_force = effective[:10] <= end.isoformat()
        rank = (in_force, effective if in_force else "", i)
        if a["subject"] not in chosen or rank >= chosen[a["subject"]][0]:
            chosen[a["subject"]] = (rank, p)
    return {nip: p for nip, (_rank, p) in chosen.items()}


def pejabat_penilai_in_force(assignments: Sequence[Mapping[str, Any]], period: str) -> dict[str, str | None]:
    """NIP → Pejabat Penilai at the end of `period` (`assignments_in_force`)."""
    return {nip: p.get("pejabat_penilai_nip") for nip, p in assignments_in_force(assignments, period).items()}
