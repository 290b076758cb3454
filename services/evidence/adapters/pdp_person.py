"""One person's personal data as the evidence store holds it (UU 27/2022 PDP; issue 18, ADR 0010, docs/pdp.md).

- `Retention`: how long each event type's personal fields are kept (`services/evidence/policies/pdp-retention.toml`).
- `retention_open`: the person's sealed data still within retention on a day: an erasure then needs an order.
- `unreadable`: after an erasure, which stored values no longer open.
- `status`: the three together, for `GET /pdp/people/{nip}` (the Administrasi page shows it before and after an
  erasure) and `objektif pdp erase`.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from contracts import pdp
from services.evidence.adapters.pdp_keys import DataKeys

RETENTION_FILE = Path(__file__).resolve().parent.parent / "policies" / "pdp-retention.toml"


@dataclass(frozen=True, slots=True)
class Retention:
    """The retention policy: years after the appraisal year, per event type."""

    years: dict[str, int]
    default_years: int
    sha256: str

    @classmethod
    def load(cls, path: Path = RETENTION_FILE) -> Retention:
        raw = path.read_bytes()
        doc = tomllib.loads(raw.decode())
        return cls({k: int(v) for k, v in doc.get("years", {}).items()}, int(doc["default_years"]),
                   hashlib.sha256(raw).hexdigest())

    def ends(self, event_type: str, period: str) -> date:
        """The last day personal data of this type and period is kept."""
        return date(int(period[:4]) + self.years.get(event_type, self.default_years), 12, 31)


def personal(envelope: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, value) of the envelope's personal fields that hold a string (contracts/pdp.py's list)."""
    return [(p, v) for p, v in pdp.envelope_values(envelope) if isinstance(v, str)]


async def events_of(conn: asyncpg.Connection, nip: str) -> list[asyncpg.Record]:
    """The stored events whose subject is the person or whose source is `nip:<NIP>`, in store order."""
    return await conn.fetch(
        """SELECT pos, event_id, type, source, subject, period, value FROM evidence.events
           WHERE subject = $1 OR source = $2 ORDER BY pos""", nip, f"nip:{nip}")


async def _about(conn: asyncpg.Connection, nip: str) -> list[tuple[asyncpg.Record, list[tuple[str, str]]]]:
    """The person's own events that carry personal fields, with those fields."""
    out = []
    for row in await events_of(conn, nip):
        envelope = orjson.loads(row["value"])
        if envelope.get("subject") == nip and (values := personal(envelope)):
            out.append((row, values))
    return out


async def retention_open(conn: asyncpg.Connection, nip: str, retention: Retention, today: date
                         ) -> list[tuple[str, str, date]]:
    """(event id, type, retention end) of the person's personal data still within retention on `today`."""
    ends = [(str(row["event_id"]), row["type"], retention.ends(row["type"], row["period"]))
            for row, _values in await _about(conn, nip)]
    return [e for e in ends if e[2] >= today]


async def unreadable(conn: asyncpg.Connection, keys: DataKeys, nip: str) -> list[tuple[str, str, str]]:
    """(event id, type, field) of every personal value about the person that no longer opens."""
    found: list[tuple[str, str, str]] = []
    for row, values in await _about(conn, nip):
        opened = await keys.open([v for _p, v in values])
        found += [(str(row["event_id"]), row["type"], p) for (p, _v), o in zip(values, opened, strict=True)
                  if o == pdp.ERASED]
    return found


async def status(conn: asyncpg.Connection, keys: DataKeys, nip: str, retention: Retention, today: date
                 ) -> dict[str, Any]:
    """What an administrator sees before erasing: the keys, the sealed values, which no longer open, and whether
    retention has ended (else the last day it runs to)."""
    pending = await retention_open(conn, nip, retention, today)
    return {
        "nip": nip,
        "data_keys": [{"kid": k.kid, "destroyed": k.destroyed} for k in await keys.keys_of(nip)],
        "sealed_values": sum(len(values) for _row, values in await _about(conn, nip)),
        "unreadable": [{"event_id": i, "type": t, "field": f} for i, t, f in await unreadable(conn, keys, nip)],
        "retention": {"ended": not pending, "within": len(pending),
                      "last_day": max(e for _i, _t, e in pending).isoformat() if pending else None,
                      "policy_sha256": retention.sha256, "today": today.isoformat()},
    }
