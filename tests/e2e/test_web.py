"""The web page, the read API and the services' HTTP side, end to end: a headless Debian Chromium driven by
Playwright logs in with tokens from `objektif token`'s scheme and reads what the running stack computed.

Done when (issue 5): an employee sees the breakdown with evidence links; another employee gets 403 for it; an
auditor sees the unit chart; the metrics and health endpoints answer, as the compose health checks ask them.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
import pytest_asyncio
from openpyxl import load_workbook
from playwright.async_api import Browser, Page

from contracts.signing import b64, sign_batch, sign_envelope
from objektif import health
from objektif.pipeline import publish
from objektif.stack import SERVICES, Stack
from services.audit.domain.merkle import verify_inclusion
from services.scoring.adapters.people_store import issue_code
from services.scoring.app.access import mint_token
from tests.e2e.world import AT, PERIOD, World, check_receipt, query_value, stack_vkey, wait_for

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
OBJEKTIF = str(Path(sys.executable).parent / "objektif")
#: Where the screenshots go (to look at them); the session's data directory, removed afterwards, by default.
SCREENSHOTS = "OBJEKTIF_SCREENSHOT_DIR"


class WebWorld(World):
    """The test organisation of `World`, rated and closed: the Pejabat Penilai rates the employee's results above
    the evidence (with a justification) and behaviour; one peer rates behaviour low (an answer the employee must
    never see); the unit gets its organisation predicate and is closed; the result is delivered (yesterday, so
    an objection is in time)."""

    def rated_and_closed(self) -> list[dict[str, Any]]:
        def person(nip: str, type_: str, payload: dict[str, Any], days: int) -> dict[str, Any]:
            src = f"nip:{nip}"
            return sign_envelope(self.envelope(type_, self.employee, payload, src, AT + timedelta(days=days)),
                                 self.key(src))

        out = []
        for value in ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif",
                      "kolaboratif"):
            out.append(person(self.penilai, "behaviour.rated", {"rater_nip": self.penilai, "relation": "atasan",
                                                                "value": value, "score": 3}, 60))
            out.append(person(self.peer, "behaviour.rated", {"rater_nip": self.peer, "relation": "rekan",
                                                             "value": value, "score": 1,
                                                             "feedback": f"rahasia-rekan-{self.tag}"}, 61))
        out.append(person(self.penilai, "rating.pejabat_penilai", {
            "rater_nip": self.penilai, "rating_hasil_kerja": "Di Atas Ekspektasi",
            "justification": f"Memimpin program literasi {self.tag}"}, 80))
        s = self.system
        unit_events = [
            self.envelope("org.predicate.set", self.unit, {"unit_id": self.unit, "predicate": "Baik",
                                                           "set_by_nip": self.penilai}, s, AT + timedelta(days=85)),
            self.envelope("period.closed", self.unit, {"closed_by": s}, s, AT + timedelta(days=90)),
            self.envelope("result.delivered", self.employee, {}, s, datetime.now(UTC) - timedelta(days=1)),
        ]
        return [*out, *sign_batch(unit_events, self.key(s))]


@dataclass
class Scene:
    """One organisation, rated, closed and scored, with the scoring service's base URL and tokens."""

    world: WebWorld
    base: str
    realisations: list[dict[str, Any]]

    def token(self, nip: str | None, role: str) -> str:
        return mint_token(nip, role, datetime.now(UTC) + timedelta(hours=1), self.world.stack.token_secret())


async def _scored(stack: Stack) -> Scene:
    world = WebWorld(stack)
    await world.setup()
    realisations = [world.realisation("96.00", AT + timedelta(days=30)),
                    world.realisation("98.50", AT + timedelta(days=45))]
    await publish(stack.kafka_bootstrap, realisations)
    await wait_for(lambda: world.accepted([r["event_id"] for r in realisations]), lambda n: n == 2)
    closing = world.rated_and_closed()
    await publish(stack.kafka_bootstrap, closing)
    ids = [e["event_id"] for e in closing]
    await wait_for(lambda: query_value(stack, "SELECT count(*) FROM scoring.events WHERE event_id = ANY($1::uuid[])",
                                       ids), lambda n: n == len(ids))
    await wait_for(lambda: query_value(stack, "SELECT result->>'predikat' FROM scoring.appraisals WHERE nip = $1",
                                       world.employee), lambda p: p is not None)
    return Scene(world, f"http://127.0.0.1:{stack.http_ports['scoring']}", realisations)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def scene(stack: Stack) -> Scene:
    return await _scored(stack)


async def logged_in(browser: Browser, scene: Scene, token: str) -> Page:
    """A fresh browser context (phone-sized) whose session cookie holds `token` (a person signs in with the key
    of his or her browser, test_people_pages.py; here the reading is what is tested)."""
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    await context.add_cookies([{"name": "objektif_session", "value": token, "url": scene.base}])
    page = await context.new_page()
    await page.goto(scene.base + "/#/saya")
    await page.wait_for_selector("[data-testid=nav-keluar]")
    return page


#: The variance of a screenshot's grey levels, computed by Chromium itself (canvas): near zero when blank.
GREY_VARIANCE = """async (png) => {
  const img = new Image();
  img.src = "data:image/png;base64," + png;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = img.width; canvas.height = img.height;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  const px = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0, sum = 0, squares = 0;
  for (let i = 0; i < px.length; i += 4) {
    const g = (px[i] + px[i + 1] + px[i + 2]) / 3;
    n++; sum += g; squares += g * g;
  }
  const mean = sum / n;
  return squares / n - mean * mean;
}"""


async def grey_variance(browser: Browser, png: bytes) -> float:
    """The variance of the grey levels of a screenshot (a blank page gives about 0), on a page of its own."""
    page = await browser.new_page()
    try:
        return float(await page.evaluate(GREY_VARIANCE, base64.b64encode(png).decode()))
    finally:
        await page.close()


# --- the browser ----------------------------------------------------------------------------------------------


async def test_an_employee_sees_her_breakdown_with_evidence_links_a_colleague_gets_403_an_auditor_the_chart(
        scene: Scene, browser: Browser) -> None:
    w = scene.world
    page = await logged_in(browser, scene, scene.token(w.employee, "employee"))
    await page.goto(f"{scene.base}/#/appraisal/{w.employee}/{PERIOD}")
    await page.wait_for_selector("[data-testid=evidence-link]")
    links = await page.eval_on_selector_all("[data-testid=evidence-link]", "els => els.map(e => e.href)")
    assert sorted(links) == sorted(r["payload"]["evidence"]["document"] for r in scene.realisations)
    assert await page.inner_text("[data-testid=appraisal] [data-testid=predikat]") == "Baik"
    assert await page.inner_text("[data-testid=capaian]") == "100.00"
    text = await page.inner_text("body")
    assert f"Memimpin program literasi {w.tag}" in text  # the divergence's justification (§1.3)
    assert f"rahasia-rekan-{w.tag}" not in text  # a peer's own words never reach the ratee (§1.4)
    assert "rekan 1.00" not in text
    shot = await page.screenshot(full_page=True)
    shots = Path(os.environ.get(SCREENSHOTS, w.stack.data_dir))
    (shots / "web-employee.png").write_bytes(shot)
    assert await grey_variance(browser, shot) > 200, "the screenshot is blank"

    peer = await logged_in(browser, scene, scene.token(w.peer, "employee"))
    await peer.goto(f"{scene.base}/#/appraisal/{w.employee}/{PERIOD}")
    await peer.wait_for_selector("[data-testid=error]")
    assert await peer.get_attribute("[data-testid=error]", "data-status") == "403"
    assert await peer.query_selector("[data-testid=appraisal]") is None

    auditor = await logged_in(browser, scene, scene.token(None, "auditor"))
    await auditor.goto(f"{scene.base}/#/unit/{w.unit}/{PERIOD}")
    await auditor.wait_for_selector("[data-testid=unit-chart]")
    assert await auditor.get_attribute("[data-testid=unit-chart] rect[data-label=Baik]", "data-count") == "1"
    assert await auditor.get_attribute("[data-testid=curve-verdict]", "data-verdict") == "warn"  # 1/1 Baik > 70%
    chart_text = await auditor.inner_text("[data-testid=unit]")
    assert "maks 70%" in chart_text
    async with auditor.expect_download() as downloading:  # the quarter as SIASN records (docs/siasn.md)
        await auditor.click("[data-testid=export-siasn]")
    download = await downloading.value
    assert download.suggested_filename == f"objektif-{w.unit}-{PERIOD}.siasn.json"
    siasn = orjson.loads(await asyncio.to_thread(Path(await download.path()).read_bytes))
    assert isinstance(siasn, list)  # none final yet: the quarter is not closed, and an open result never leaves
    shot = await auditor.screenshot(full_page=True)
    (shots / "web-unit.png").write_bytes(shot)
    assert await grey_variance(browser, shot) > 200, "the screenshot is blank"


async def test_an_objection_signed_in_the_browser_is_answered_by_the_gate_and_shows_as_filed(
        scene: Scene, browser: Browser) -> None:
    w = scene.world
    conn = await asyncpg.connect(w.stack.admin_dsn)
    try:
        issued = await issue_code(conn, w.employee, issued_by="test", now=datetime.now(UTC))
    finally:
        await conn.close()
    page = await (await browser.new_context(viewport={"width": 390, "height": 844})).new_page()
    await page.goto(f"{scene.base}/#/daftar/{issued.code}")  # the key is made in this browser; nothing is pasted
    await page.wait_for_selector("[data-testid=enrol-done]", timeout=30_000)
    await page.goto(f"{scene.base}/#/saya")
    await page.wait_for_selector("[data-testid=objection-form]")
    assert await page.query_selector("input[type=password]") is None  # no seed field any more
    await page.click("[data-testid=objection-submit]")  # empty: said in words, nothing sent
    await page.wait_for_selector("[data-testid=objection-form] [data-testid=answer][data-status=error]")
    await page.fill("[data-testid=objection-reasons]", f"Bukti bulan September belum dihitung ({w.tag})")
    await page.click("[data-testid=objection-submit]")
    await page.wait_for_selector("[data-testid=answer][data-status=accepted]")  # answered by the HTTP intake's gate
    filed = await wait_for(lambda: query_value(
        w.stack, "SELECT body FROM scoring.events WHERE type = 'objection.filed' AND subject = $1", w.employee),
        lambda b: b is not None)
    body = orjson.loads(filed)
    assert body["source"] == f"nip:{w.employee}"  # the reasons sealed in the browser before signing (ADR 0010)
    assert body["payload"]["reasons"].startswith("pdp1:") and w.tag not in body["payload"]["reasons"]
    await page.reload()
    await page.wait_for_selector("[data-testid=objection-status][data-status=filed]")


# --- the API, exports and receipts ----------------------------------------------------------------------------


def get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


async def test_results_as_of_a_time_are_recomputed_from_the_evidence_recorded_by_then(scene: Scene) -> None:
    w = scene.world
    first, second = scene.realisations
    recorded = [await query_value(w.stack, "SELECT (body->>'recorded_at')::timestamptz FROM scoring.events "
                                           "WHERE event_id = $1::uuid", r["event_id"]) for r in (first, second)]
    auditor = scene.token(None, "auditor")
    between = recorded[0] + (recorded[1] - recorded[0]) / 2 if recorded[1] > recorded[0] else recorded[0]
    status, body = await asyncio.to_thread(
        get, f"{scene.base}/api/appraisals?as_of={between.isoformat().replace('+00:00', 'Z')}&unit={w.unit}", auditor)
    assert status == 200
    (result,) = orjson.loads(body)["appraisals"]
    assert result["iki"][0]["realisasi"] in (("96.00",) if recorded[1] > recorded[0] else ("96.00", "98.50"))
    status, _ = await asyncio.to_thread(get, f"{scene.base}/api/appraisals", scene.token(w.employee, "employee"))
    assert status == 403


async def test_the_unit_export_from_the_api_and_the_cli_has_the_e_kinerja_columns(
        scene: Scene, tmp_path: Path) -> None:
    w = scene.world
    status, csv_bytes = await asyncio.to_thread(
        get, f"{scene.base}/api/units/{w.unit}/{PERIOD}/export.csv", scene.token(w.penilai, "superior"))
    assert status == 200
    lines = csv_bytes.decode("utf-8-sig").splitlines()
    assert lines[0] == "NIP,Nama,Jabatan,Rating Hasil Kerja,Rating Perilaku,Predikat"
    assert lines[1] == f"{w.employee},Guru Uji,Guru,Di Atas Ekspektasi,Sesuai Ekspektasi,Baik"
    out = tmp_path / "unit.xlsx"
    done = await asyncio.to_thread(subprocess.run, [
        OBJEKTIF, "export", "--unit", w.unit, "--period", PERIOD, "--format", "xlsx", "--out", str(out),
        "--database-url", w.stack.admin_dsn, "--data-dir", str(w.stack.data_dir)],  # its KEK opens the names
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = [[c.value for c in r] for r in load_workbook(io.BytesIO(out.read_bytes())).active.iter_rows()]
    assert rows[1][:2] == [w.employee, "Guru Uji"]
    assert rows[1][5] == "Baik"


async def test_an_evidence_receipt_from_the_audit_service_proves_inclusion_under_the_signed_checkpoint(
        scene: Scene) -> None:
    event_id = scene.realisations[1]["event_id"]
    url = f"http://127.0.0.1:{scene.world.stack.http_ports['audit']}/receipts/{event_id}"
    _status, body = await wait_for(lambda: asyncio.to_thread(get, url), lambda answer: answer[0] == 200)
    receipt = orjson.loads(body)
    verify_inclusion(receipt["leaf_index"], receipt["tree_size"], bytes.fromhex(receipt["leaf_hash"]),
                     [bytes.fromhex(h) for h in receipt["proof"]], bytes.fromhex(receipt["root"]))
    assert receipt["checkpoint"].startswith("objektif")
    # and the partition's tree under the checkpoint over every partition, both notes signed by the stack's key
    check_receipt(receipt, stack_vkey(scene.world.stack))


# --- operations -----------------------------------------------------------------------------------------------


async def test_every_service_answers_health_readiness_and_metrics_as_the_compose_health_check_asks(
        scene: Scene) -> None:
    stack = scene.world.stack
    for name in SERVICES:
        port = stack.http_ports[name]
        assert (await asyncio.to_thread(get, f"http://127.0.0.1:{port}/healthz"))[0] == 200, name
        status, ready = await asyncio.to_thread(get, f"http://127.0.0.1:{port}/readyz")
        assert status == 200, ready
        status, metrics = await asyncio.to_thread(get, f"http://127.0.0.1:{port}/metrics")
        assert f'objektif_events_processed_total{{service="{name}",'.encode() in metrics, name
        assert f'objektif_consumer_lag{{service="{name}",'.encode() in metrics, name
        assert b"objektif_batch_seconds_bucket" in metrics
        prefix = f"OBJEKTIF_{name.upper()}_"
        settings = health.settings_class(name)(**{k.removeprefix(prefix).lower(): v
                                                  for k, v in stack.service_env(name).items()})
        assert settings.http_port == port
        assert await health.probe(name, settings) == (), name  # the compose file's health check, /healthz too
    _, evidence_metrics = await asyncio.to_thread(get, f"http://127.0.0.1:{stack.http_ports['evidence']}/metrics")
    assert b'objektif_outbox_relayed_total{service="evidence",outbox="evidence"}' in evidence_metrics


async def test_a_rejected_submission_is_counted_by_its_reason_code(scene: Scene) -> None:
    w = scene.world
    forged = w.realisation("97.00")
    forged["signature"] = b64(bytes(64))
    await publish(w.stack.kafka_bootstrap, [forged])
    port = w.stack.http_ports["evidence"]

    async def rejected() -> bytes:
        return (await asyncio.to_thread(get, f"http://127.0.0.1:{port}/metrics"))[1]

    counted = b'objektif_events_rejected_total{service="evidence",reason="signature'
    metrics = await wait_for(rejected, lambda m: counted in m)
    assert b"objektif_events_rejected_total" in metrics
