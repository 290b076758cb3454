"""`objektif keys new` and `objektif sign`: what a departmental system runs, checked against the gate."""

from __future__ import annotations

import stat
from pathlib import Path

import orjson
import pytest
from evidence_world import STAFF1, World, build_world
from typer.testing import CliRunner

from contracts.signing import parse_batch_signature, unb64
from objektif.cli import app
from objektif.commands.keys import load_private_key
from services.evidence.domain import Accepted

runner = CliRunner()


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    result = runner.invoke(app, ["keys", "new", "--name", "sikda2", "--out", str(tmp_path / "keys")])
    assert result.exit_code == 0, result.output
    return tmp_path / "keys"


def test_keys_new_writes_a_private_key_only_its_owner_can_read_and_prints_the_public_key(
    keys_dir: Path,
) -> None:
    private = keys_dir / "sikda2.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    public_b64 = (keys_dir / "sikda2.pub").read_text().strip()
    assert load_private_key(private).public_key().public_bytes_raw() == unb64(public_b64)


def test_keys_new_refuses_to_overwrite_an_existing_key(keys_dir: Path) -> None:
    result = runner.invoke(app, ["keys", "new", "--name", "sikda2", "--out", str(keys_dir)])
    assert result.exit_code == 2


def _registered_world(keys_dir: Path) -> World:
    world = build_world()
    world.register(
        "sys:sikda2",
        "system",
        load_private_key(keys_dir / "sikda2.key"),
        units=["dinkes"],
        indicators=["iki-imunisasi"],
    )
    return world


@pytest.mark.parametrize("batch", [False, True])
def test_a_file_signed_by_the_cli_is_accepted_by_the_gate(
    keys_dir: Path, tmp_path: Path, batch: bool
) -> None:
    world = _registered_world(keys_dir)
    unsigned = [world.realisation(STAFF1, "iki-imunisasi", source="sys:sikda2") for _ in range(5)]
    for envelope in unsigned[:2]:
        del envelope["source"]  # the CLI fills it in
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(orjson.dumps(e) for e in unsigned) + b"\n\n")
    args = [
        "sign",
        str(tmp_path / "in.jsonl"),
        "--key",
        str(keys_dir / "sikda2.key"),
        "--source",
        "sys:sikda2",
        "--out",
        str(tmp_path / "out.jsonl"),
        "--batch-size",
        "3",
    ]
    result = runner.invoke(app, [*args, "--batch"] if batch else args)
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "out.jsonl").read_bytes().splitlines()
    assert len(lines) == 5
    assert all(isinstance(world.decide_raw(line), Accepted) for line in lines)
    sizes = [p.size for p in (parse_batch_signature(orjson.loads(line)["signature"]) for line in lines) if p]
    assert sizes == ([3, 3, 3, 2, 2] if batch else [])


def test_sign_reports_bad_lines_with_their_numbers_and_writes_nothing(keys_dir: Path, tmp_path: Path) -> None:
    world = build_world()
    good = world.realisation(STAFF1, "iki-imunisasi", source="sys:sikda2")
    floating = dict(good, payload={**good["payload"], "value": 87.5})
    foreign = dict(good, source="sys:other")
    lines = [orjson.dumps(good), b"{not json", orjson.dumps(floating), orjson.dumps(foreign), b"[1]"]
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(lines))
    result = runner.invoke(
        app,
        [
            "sign",
            str(tmp_path / "in.jsonl"),
            "--key",
            str(keys_dir / "sikda2.key"),
            "--source",
            "sys:sikda2",
            "--out",
            str(tmp_path / "out.jsonl"),
        ],
    )
    assert result.exit_code == 2
    for number in (2, 3, 4, 5):
        assert f"line {number}:" in result.output
    assert "line 1:" not in result.output
    assert not (tmp_path / "out.jsonl").exists()
