"""`objektif keberatan file|ask|explain|decide` (REGULATION.md §2.4; issue 4): what the employee, the Pejabat
Penilai and the Atasan run, written with `--out` and checked against the gate; the receipt fetch."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from evidence_world import KADIS, KAPUS, PERSON_KEYS, SIMPEG, STAFF1, World, build_world
from typer.testing import CliRunner

from contracts import events as ev
from contracts import pdp
from objektif.cli import app
from objektif.commands.keys import write_private_key
from objektif.commands.objections import fetch_receipt
from services.evidence.domain import Accepted

runner = CliRunner()
PERIOD = "2025"


@pytest.fixture
def world() -> World:
    w = build_world()
    delivery = w.envelope("result.delivered", STAFF1, {}, source="sys:simpeg")
    w.must_accept(delivery, SIMPEG)
    return w


def key_file(tmp_path: Path, nip: str) -> Path:
    path = tmp_path / f"{nip}.key"
    if not path.exists():
        write_private_key(path, PERSON_KEYS[nip])
    return path


def data_key(world: World, nip: str) -> list[str]:
    """The employee's data key as the CLI takes it offline (`--data-key NIP=<base64>`, ADR 0010)."""
    public = base64.b64encode(pdp.raw_public(world.data_key(nip))).decode()
    return ["--data-key", f"{nip}={public}"]


def run(world: World, tmp_path: Path, nip: str, command: str, *args: str) -> Any:
    """Run the command with --out, then hand the signed envelope to the gate."""
    out = tmp_path / f"{command}-{len(world.accepted)}.json"
    argv = ["keberatan", command, "--key", str(key_file(tmp_path, nip)), "--nip", nip, "--period", PERIOD,
            "--at", world.now.isoformat(), "--out", str(out), *data_key(world, STAFF1), *args]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    return world.decide_raw(out.read_bytes().strip())


def accepted(decision: Any) -> Accepted:
    assert isinstance(decision, Accepted), decision
    return decision


def test_the_whole_thread_built_on_the_command_line_is_accepted_by_the_gate(world: World, tmp_path: Path) -> None:
    filing = accepted(run(world, tmp_path, STAFF1, "file", "--reasons", "Imunisasi bulan Desember tidak dihitung"))
    objection = str(filing.envelope.event_id)
    request = accepted(run(world, tmp_path, KADIS, "ask", "--subject", STAFF1, "--objection", objection,
                           "--from", KAPUS, "--from", STAFF1, "--question", "Mohon penjelasan"))
    accepted(run(world, tmp_path, KAPUS, "explain", "--subject", STAFF1, "--request",
                 str(request.envelope.event_id), "--text", "Laporan Desember masuk setelah penutupan"))
    decision = accepted(run(world, tmp_path, KADIS, "decide", "--subject", STAFF1, "--objection", objection,
                            "--outcome", "diterima", "--reasons", "Laporan Desember sah",
                            "--rating-perilaku", "diatas", "--realisation", "iki-imunisasi=96.5"))
    payload = decision.payload
    assert isinstance(payload, ev.ObjectionDecidedV2)
    assert payload.modified_rating_perilaku is ev.Rating.DI_ATAS
    assert [(m.iki_id, str(m.value)) for m in payload.modified_realisations] == [("iki-imunisasi", "96.5")]


def test_an_inconsistent_decision_is_refused_before_it_is_signed(world: World, tmp_path: Path) -> None:
    out = tmp_path / "d.json"
    argv = ["keberatan", "decide", "--key", str(key_file(tmp_path, KADIS)), "--nip", KADIS, "--subject", STAFF1,
            "--period", PERIOD, "--objection", "00000000-0000-0000-0000-000000000001", "--outcome", "ditolak",
            "--reasons", "Tetap", "--rating-perilaku", "Sesuai", "--out", str(out)]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert "ditolak" in result.output
    assert not out.exists()


def test_a_time_without_an_offset_is_refused(tmp_path: Path) -> None:
    argv = ["keberatan", "file", "--key", str(key_file(tmp_path, STAFF1)), "--nip", STAFF1, "--period", PERIOD,
            "--reasons", "x", "--at", "2025-10-01T09:00:00", "--out", str(tmp_path / "f.json")]
    assert runner.invoke(app, argv).exit_code == 2


def test_the_receipt_is_asked_for_again_until_the_event_is_checkpointed() -> None:
    answers = iter([httpx.Response(409, json={"error": "not_checkpointed"}),
                    httpx.Response(200, json={"event_id": "e", "leaf_index": 7, "tree_size": 9})])
    client = httpx.Client(base_url="http://audit", transport=httpx.MockTransport(lambda _r: next(answers)))
    assert fetch_receipt("http://audit", "e", wait=10, client=client)["leaf_index"] == 7


def test_a_receipt_that_never_comes_is_an_error() -> None:
    client = httpx.Client(base_url="http://audit",
                          transport=httpx.MockTransport(lambda _r: httpx.Response(500, text="damaged")))
    with pytest.raises(RuntimeError, match="HTTP 500"):
        fetch_receipt("http://audit", "e", wait=0, client=client)


def test_the_signed_envelope_names_the_signer_as_its_source(world: World, tmp_path: Path) -> None:
    filing = accepted(run(world, tmp_path, STAFF1, "file", "--reasons", "Bukti belum dihitung"))
    assert filing.envelope.source == f"nip:{STAFF1}"
    assert orjson.loads(filing.original)["signature"]
