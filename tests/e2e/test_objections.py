"""Keberatan end to end (REGULATION.md §2.4; issue 4), through the real broker and database, with the commands the
people involved run (`objektif keberatan …`): a result is delivered; the employee files on day 13 (accepted, with a
ledger receipt) and again on day 15 (refused: late); the Atasan Pejabat Penilai asks for explanations, the Pejabat
Penilai gives one, and the Atasan raises the behaviour rating; the predikat follows through the §1.5 matrix; the
dossier shows the thread; and the audit replay reproduces the results before and after the decision.

The delivery is dated in the period's world (October 2025) and recorded now, as a history recorded late is: the
gate then counts the filings' own dates, bounded by what its clock saw pass (services/evidence/domain/objections.py).
"""

from __future__ import annotations

import asyncio
import re
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from typer.testing import CliRunner

from contracts.signing import b64, public_key_bytes, sign_batch, sign_envelope
from objektif.cli import app
from objektif.commands.keys import write_private_key
from objektif.pipeline import publish
from objektif.stack import Stack
from services.audit.app.dossier import gather, render_html
from services.audit.domain.merkle import verify_inclusion
from services.scoring.app.access import mint_token
from tests.e2e.world import AT, PERIOD, World, _nip, check_receipt, query_value, stack_vkey, wait_for

pytestmark = pytest.mark.e2e

DELIVERED = datetime.fromisoformat("2025-10-03T09:00:00+07:00")


class ObjectionWorld(World):
    """World plus the Atasan Pejabat Penilai: the Pejabat Penilai's own Pejabat Penilai (§2.3)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.atasan = _nip(int(self.tag, 16) + 3)

    def registrations(self) -> list[dict[str, Any]]:
        src = f"nip:{self.atasan}"
        payload = {"source_id": src, "kind": "person", "public_key": b64(public_key_bytes(self.key(src))),
                   "nip": self.atasan}
        atasan = self.envelope("source.registered", src, payload, "admin", AT - timedelta(days=1))
        return [*super().registrations(), sign_envelope(atasan, self.stack.admin_key())]

    def structure(self) -> list[dict[str, Any]]:
        signed = super().structure()
        s = self.system
        atasan = self.envelope("employee.assigned", self.atasan, {
            "nip": self.atasan, "name": "Pengawas Uji", "unit_id": self.unit, "position_id": f"{self.unit}.w",
            "jabatan": "Pengawas Sekolah", "effective_from": AT.isoformat()}, s)
        penilai = self.envelope("employee.assigned", self.penilai, {
            "nip": self.penilai, "name": "Kepala Sekolah Uji", "unit_id": self.unit, "position_id": f"{self.unit}.k",
            "jabatan": "Kepala Sekolah", "pejabat_penilai_nip": self.atasan, "effective_from": AT.isoformat()}, s)
        return [*signed, *sign_batch([atasan, penilai], self.key(s))]

    def person(self, nip: str, type_: str, payload: dict[str, Any], at: datetime) -> dict[str, Any]:
        src = f"nip:{nip}"
        return sign_envelope(self.envelope(type_, self.employee, payload, src, at), self.key(src))

    def system_event(self, type_: str, payload: dict[str, Any], at: datetime) -> dict[str, Any]:
        return sign_envelope(self.envelope(type_, self.employee, payload, self.system, at), self.key(self.system))


async def keberatan(tmp: Path, world: World, nip: str, command: str, *args: str) -> tuple[int, str]:
    """`objektif keberatan COMMAND …` as the person `nip` runs it (in a thread: the command has its own loop)."""
    key = tmp / f"{nip}.key"
    if not key.exists():
        write_private_key(key, world.key(f"nip:{nip}"))
    argv = ["keberatan", command, "--key", str(key), "--nip", nip, "--period", PERIOD,
            "--bootstrap", world.stack.kafka_bootstrap, "--wait", "90",
            "--evidence-url", f"http://127.0.0.1:{world.stack.http_ports['evidence']}", *args]
    done = await asyncio.to_thread(CliRunner().invoke, app, argv)
    return done.exit_code, done.output


def event_id_of(output: str) -> str:
    found = re.search(r"objection\.[a-z.]+ ([0-9a-f-]{36}): accepted", output)
    assert found, output
    return found.group(1)


def read_api(url: str, token: str) -> dict[str, Any]:
    """GET a read API document with a bearer token."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return orjson.loads(answer.read())  # type: ignore[no-any-return]


async def appraisal(stack: Stack, nip: str) -> dict[str, Any] | None:
    value = await query_value(stack, "SELECT result::text FROM scoring.appraisals WHERE nip = $1 AND period = $2",
                              nip, PERIOD)
    return None if value is None else orjson.loads(value)


async def test_an_objection_is_filed_examined_decided_rescored_and_proven(stack: Stack, tmp_path: Path) -> None:
    world = ObjectionWorld(stack)
    await world.setup()
    pp, employee, atasan = world.penilai, world.employee, world.atasan
    ratings = [world.person(pp, "behaviour.rated", {"rater_nip": pp, "relation": "atasan", "value": v, "score": 1},
                            AT + timedelta(days=80))
               for v in ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif",
                         "kolaboratif")]
    closing = [world.system_event("period.closed", {"closed_by": world.system}, DELIVERED - timedelta(days=2)),
               world.system_event("result.delivered", {}, DELIVERED)]
    await publish(stack.kafka_bootstrap, [world.realisation("98.00"), *ratings])
    await wait_for(lambda: appraisal(stack, employee), lambda a: a is not None and a["predikat"] is not None)
    await publish(stack.kafka_bootstrap, closing)
    await wait_for(lambda: world.accepted([e["event_id"] for e in closing]), lambda n: n == 2)
    before = await wait_for(lambda: appraisal(stack, employee), lambda a: a is not None and a["status"] == "final")
    assert (before["rating_perilaku"]["used"], before["predikat"]) == ("Di Bawah Ekspektasi", "Kurang/Misconduct")

    # day 13: accepted, and the employee keeps the ledger receipt of the filing
    audit_url = f"http://127.0.0.1:{stack.http_ports['audit']}"
    filed_receipt = tmp_path / "filed.json"
    code, output = await keberatan(tmp_path, world, employee, "file", "--reasons", "Tidak ada teguran tercatat",
                                   "--at", (DELIVERED + timedelta(days=13)).isoformat(),
                                   "--receipt", str(filed_receipt), "--audit-url", audit_url)
    assert code == 0, output
    objection = event_id_of(output)
    receipt = orjson.loads(filed_receipt.read_bytes())
    assert receipt["event_id"] == objection
    verify_inclusion(receipt["leaf_index"], receipt["tree_size"], bytes.fromhex(receipt["leaf_hash"]),
                     [bytes.fromhex(h) for h in receipt["proof"]], bytes.fromhex(receipt["root"]))
    check_receipt(receipt, stack_vkey(stack))  # its partition's tree under the checkpoint over every partition

    # day 15: refused as late
    code, output = await keberatan(tmp_path, world, employee, "file", "--reasons", "Sekali lagi",
                                   "--at", (DELIVERED + timedelta(days=15)).isoformat())
    assert (code, "objection.late" in output) == (1, True), output

    # open for the superiors and the BKPSDM, with its deadline
    listed = await asyncio.to_thread(CliRunner().invoke, app, [
        "keberatan", "list", "--json", "--database-url", stack.admin_dsn, "--today", "2025-10-17"])
    mine = [r for r in orjson.loads(listed.stdout)["objections"] if r["nip"] == employee]
    assert [(r["status"], r["decision_due"], r["days_left"]) for r in mine] == [("filed", "2025-10-30", 13)]

    # the Atasan examines: asks both, the Pejabat Penilai answers
    code, output = await keberatan(tmp_path, world, atasan, "ask", "--subject", employee, "--objection", objection,
                                   "--from", pp, "--from", employee, "--question", "Atas dasar apa perilaku 1?",
                                   "--at", (DELIVERED + timedelta(days=15)).isoformat())
    assert code == 0, output
    request = event_id_of(output)
    code, output = await keberatan(tmp_path, world, pp, "explain", "--subject", employee, "--request", request,
                                   "--text", "Penilaian tanpa catatan teguran",
                                   "--at", (DELIVERED + timedelta(days=16)).isoformat())
    assert code == 0, output

    # the decision raises the behaviour rating; the employee keeps its receipt too
    decided_receipt = tmp_path / "decided.json"
    code, output = await keberatan(tmp_path, world, atasan, "decide", "--subject", employee, "--objection",
                                   objection, "--outcome", "diterima", "--reasons", "Tidak ada bukti pelanggaran",
                                   "--rating-perilaku", "Sesuai Ekspektasi",
                                   "--at", (DELIVERED + timedelta(days=20)).isoformat(),
                                   "--receipt", str(decided_receipt), "--audit-url", audit_url)
    assert code == 0, output
    decision = event_id_of(output)
    decided_proof = orjson.loads(decided_receipt.read_bytes())
    assert decided_proof["event_id"] == decision
    check_receipt(decided_proof, stack_vkey(stack))

    after = await wait_for(lambda: appraisal(stack, employee),
                           lambda a: a is not None and (a.get("objection") or {}).get("decision_event_id") == decision)
    assert (after["predikat"], after["status"]) == ("Baik", "final (keberatan)")
    assert after["rating_perilaku"]["used"] == "Sesuai Ekspektasi"
    assert after["objection"]["original"]["predikat"] == "Kurang/Misconduct"
    assert after["objection"]["explanations"] == {"requested": 1, "given": 1}
    assert not after["objection"]["decided_late"]

    # the web page's API shows the result before the decision beside the final one, and what the decision set
    url = f"http://127.0.0.1:{stack.http_ports['scoring']}/api/appraisals/{employee}/{PERIOD}"
    token = mint_token(employee, "employee", datetime.now(UTC) + timedelta(hours=1), stack.token_secret())
    shown = await wait_for(lambda: asyncio.to_thread(read_api, url, token),
                           lambda d: (d["objection"].get("final") or {}).get("predikat") == "Baik")
    assert shown["objection"]["original"]["predikat"] == "Kurang/Misconduct"
    assert shown["objection"]["final"]["from_decision"] is True
    assert shown["objection"]["modified"]["rating_perilaku"] == "Sesuai Ekspektasi"

    # the dossier holds the thread: delivery, filing, the late refusal, request, explanation, decision
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        dossier = await wait_for(lambda: gather(conn, employee, PERIOD),
                                 lambda d: len(d.thread) == 6 and d.latest is not None
                                 and d.latest.get("predikat") == "Baik")
    finally:
        await conn.close()
    assert [e.submitted_type for e in dossier.thread] == [
        "result.delivered", "objection.filed", "objection.filed", "objection.explanation.requested",
        "objection.explanation.given", "objection.decided"]
    page = render_html(dossier)
    assert "objection.late" in page and "Keputusan Atasan Pejabat Penilai (final)" in page

    # replay reproduces the last result published before the decision, and the one after it (the ledger
    # interleaves topics, so a result is told by what it rests on, not by its place beside the decision's leaf)
    earlier = [r for r in dossier.results if (r.result.get("objection") or {}).get("decision_event_id") is None]
    assert earlier[-1].result["predikat"] == "Kurang/Misconduct"
    # --until is a ledger index (idx: the order across partitions), not a position in a partition's tree
    untils = [await query_value(stack, "SELECT idx FROM audit.leaves WHERE event_id = $1", r.event_id)
              for r in (earlier[-1], dossier.results[-1])]
    replays = {}
    for until in untils:
        done = await asyncio.to_thread(CliRunner().invoke, app, [
            "audit", "replay", "--nip", employee, "--period", PERIOD, "--until", str(until), "--json",
            "--data-dir", str(stack.data_dir), "--database-url", stack.admin_dsn])
        assert done.exit_code == 0, done.output
        replays[until] = orjson.loads(done.stdout)["outcomes"][0]
    assert all(o["match"] for o in replays.values()), replays
    assert len({o["published_basis_hash"] for o in replays.values()}) == 2  # two different results, both reproduced
    assert [o["score_index"] for o in replays.values()] == untils
