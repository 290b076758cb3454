"""`objektif score EVENTS.jsonl --json`: one document, byte-identical per input; bad lines named, exit 2,
nothing on stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scoring_events import ATASAN, NIP_A, NIP_B, NIP_C, UNIT, Stream, employee
from typer.testing import CliRunner

from objektif.cli import app


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    events = [*employee(NIP_A, "112", 3), *employee(NIP_B, "95", 2)]
    path.write_text("".join(e.model_dump_json() + "\n" for e in events) + "\n", encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, bytes, bytes]:
    result = CliRunner().invoke(app, ["score", *args])
    return result.exit_code, result.stdout_bytes, result.stderr_bytes


def test_json_output_has_appraisals_and_units(events_file: Path) -> None:
    code, out, _ = run(str(events_file), "--json")
    document = json.loads(out)
    assert code == 0
    assert [a["predikat"] for a in document["appraisals"]] == ["Sangat Baik", "Baik"]
    assert document["units"][0]["predikat_counts"]["Sangat Baik"] == 1


def test_the_same_input_gives_byte_identical_output(events_file: Path) -> None:
    assert run(str(events_file), "--json")[1] == run(str(events_file), "--json")[1]


def test_keys_are_sorted(events_file: Path) -> None:
    document = json.loads(run(str(events_file), "--json")[1])
    appraisal = document["appraisals"][0]
    assert list(appraisal) == sorted(appraisal)


def test_a_bad_line_is_named_and_nothing_is_printed(events_file: Path) -> None:
    lines = events_file.read_text(encoding="utf-8").splitlines()
    lines.insert(2, '{"event_id": "not-a-uuid"}')
    lines.insert(4, "{broken")
    events_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run(str(events_file), "--json")
    assert code == 2
    assert out == b""
    assert f"{events_file}:3: not a valid envelope".encode() in err
    assert f"{events_file}:5: not JSON".encode() in err


def test_a_payload_that_breaks_its_contract_is_named_with_its_line(events_file: Path) -> None:
    lines = events_file.read_text(encoding="utf-8").splitlines()
    bad = json.loads(lines[3])
    bad["payload"]["score"] = 9
    lines[3] = json.dumps(bad)
    events_file.write_text("\n".join(lines), encoding="utf-8")
    code, out, err = run(str(events_file), "--json")
    assert (code, out) == (2, b"")
    assert b":4: payload does not match behaviour.rated: score" in err


def test_an_unknown_event_type_is_a_bad_line(events_file: Path) -> None:
    lines = events_file.read_text(encoding="utf-8").splitlines()
    bad = json.loads(lines[0])
    bad["type"] = "no.such.type"
    lines[0] = json.dumps(bad)
    events_file.write_text("\n".join(lines), encoding="utf-8")
    code, _, err = run(str(events_file), "--json")
    assert code == 2
    assert b":1: UnknownEventType" in err


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    code, out, err = run(str(tmp_path / "absent.jsonl"), "--json")
    assert (code, out) == (2, b"")
    assert b"cannot read" in err


def test_without_json_it_prints_tables(events_file: Path) -> None:
    code, out, _ = run(str(events_file))
    assert code == 0
    assert b"Sangat Baik" in out


def _table_text(path: Path) -> str:
    code, out, _ = run(str(path))
    assert code == 0
    return " ".join(out.decode().split())


def test_the_table_says_a_block_mode_units_final_predicates_are_withheld_and_why(tmp_path: Path) -> None:
    u = Stream(UNIT)
    u.env("org.predicate.set", {"unit_id": UNIT, "predicate": "Istimewa", "set_by_nip": ATASAN, "curve_mode": "block"})
    events = [*(e for nip in (NIP_A, NIP_B, NIP_C) for e in employee(nip, "120", 3)), *u.events]
    path = tmp_path / "block.jsonl"
    path.write_text("".join(e.model_dump_json() + "\n" for e in events), encoding="utf-8")
    text = _table_text(path)
    assert "withheld (block)" in text
    assert f"Unit {UNIT} " in text and "final predicates withheld (kurva block mode, §1.7)" in text
    assert "at_most Sangat Baik is 3/3, more than 70%" in text


def test_the_table_of_a_warn_mode_unit_says_nothing_is_withheld(events_file: Path) -> None:
    text = _table_text(events_file)
    assert "withheld" not in text
