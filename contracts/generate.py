"""Generate the checked-in JSON Schemas from the pydantic models: `python -m contracts.generate`.

The models are the source; `contracts/schemas/` is what other languages read. tests/contract/test_schemas.py fails
when the two drift apart. Besides the envelope and the event payloads: the SIASN `kinerjaPeriodik` record that
`objektif export siasn` writes (contracts/siasn.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from contracts import siasn
from contracts.envelope import Envelope
from contracts.registry import CURRENT_VERSION, PAYLOADS

SCHEMA_DIR = Path(__file__).parent / "schemas"


def schemas() -> dict[str, str]:
    """File name → JSON Schema text, for the envelope, every payload type at its current version and the SIASN
    record."""
    out = {"envelope.schema.json": Envelope.model_json_schema()}
    for type_, cls in sorted(PAYLOADS.items()):
        schema = cls.model_json_schema()
        schema["$id"] = f"https://objektif.example/schemas/{type_}.v{CURRENT_VERSION[type_]}.json"
        schema["x-objektif-type"] = type_
        schema["x-objektif-schema-version"] = CURRENT_VERSION[type_]
        out[f"{type_}.v{CURRENT_VERSION[type_]}.schema.json"] = schema
    out[siasn.SCHEMA_NAME] = siasn.schema()
    return {
        name: json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n" for name, schema in out.items()
    }


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    wanted = schemas()
    for stale in set(p.name for p in SCHEMA_DIR.glob("*.json")) - set(wanted):
        (SCHEMA_DIR / stale).unlink()
    for name, text in wanted.items():
        (SCHEMA_DIR / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(wanted)} schemas to {SCHEMA_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
