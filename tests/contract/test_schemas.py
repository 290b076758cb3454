"""The checked-in JSON Schemas are exactly what the pydantic models generate."""

from __future__ import annotations

import json

import jsonschema
import pytest

from contracts.generate import SCHEMA_DIR, schemas


def test_checked_in_schemas_match_the_models() -> None:
    wanted = schemas()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.json")}
    assert set(on_disk) == set(wanted), "run `make schemas` and commit contracts/schemas/"
    drifted = [name for name in wanted if on_disk[name] != wanted[name]]
    assert not drifted, f"schemas drifted from the models (run `make schemas`): {drifted}"


@pytest.mark.parametrize("name", sorted(schemas()))
def test_each_schema_is_a_valid_json_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(schemas()[name]))
