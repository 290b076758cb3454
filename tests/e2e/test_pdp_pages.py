"""UU PDP on the pages (issue 18), in Debian's Chromium against the running stack: the employee downloads his or
her own copy from Penilaian saya, which the page checks against the signed checkpoint (and so does an independent
RFC 6962 computation here); the administrator then erases the data from Administrasi — refused without grounds
while retention runs and without the confirmation, accepted with both — and the employee's note reads
"dihapus (UU PDP)". axe-core runs on each page state, with screenshots at 360 and 1280 px."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from playwright.async_api import Browser, expect

from contracts import pdp
from contracts.signing import sign_envelope
from objektif.pdp import verify_export
from objektif.stack import Stack
from tests.e2e.people_browser import browsers_with_admin, enrol, fetch_json, issue
from tests.e2e.test_people_work_pages import WorkWorld
from tests.e2e.world import AT, check_export_proofs, query_value, stack_vkey, wait_for

pytestmark = pytest.mark.e2e
WAIT = 30_000


def _noted_realisation(world: WorkWorld, note: str) -> dict[str, Any]:
    """The departmental system's realisation of the employee's indicator, with a note about him (sealed)."""
    doc = f"https://dapodik.example/{world.tag}/aps/98"
    return sign_envelope(world.envelope("realisation.recorded", world.employee, {
        "iki_id": "aps", "value": "98", "note": note,
        "evidence": {"source_system": world.system, "document": doc,
                     "content_hash": "sha256:" + hashlib.sha256(doc.encode()).hexdigest()}},
        world.system, AT + timedelta(days=30)), world.key(world.system))


async def test_the_employee_downloads_a_checked_copy_and_the_admin_erases_it_from_the_page(
        stack: Stack, browser: Browser, tmp_path: Path) -> None:
    world = WorkWorld(stack)
    note = f"catatan-pribadi-{world.tag}"
    real = _noted_realisation(world, note)
    browsers, admin = await browsers_with_admin(stack, browser, world, real)
    await admin.goto("admin")
    code = await issue(admin, world.employee)
    employee = await enrol(browsers, world.employee, world.names[world.employee], code)

    # --- Penilaian saya: her own copy, once the ledger's checkpoint covers the realisation ----------------------
    async def exported() -> dict[str, Any]:
        return dict(await fetch_json(employee.page, "/api/pdp/export"))

    await wait_for(exported, lambda d: real["event_id"] in {
        e["event_id"] for e in d.get("events", []) if e["inclusion_proof"] is not None}, timeout=90)
    await employee.goto("saya")
    card = employee.page.get_by_test_id("pdp-card")
    await card.wait_for(timeout=WAIT)
    async with employee.page.expect_download() as downloading:
        await card.get_by_test_id("pdp-download").click()
    download = await downloading.value
    assert download.suggested_filename == f"data-saya-{world.employee}.json"
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    await expect(card.get_by_test_id("pdp-proofs")).to_have_attribute("data-failed", "0", timeout=WAIT)
    await browsers.check(employee, "pdp-saya-downloaded")
    doc = orjson.loads(saved.read_bytes())
    covered = {p["part"]: p["size"] for p in doc["checkpoint"]["partitions"]}
    mine = {str(r) for r in await _ledgered_about(stack, world.employee, covered)}
    assert {e["event_id"] for e in doc["events"]} >= mine and real["event_id"] in mine
    opened = {v for e in doc["events"] for v in e["personal_fields"].values()}
    assert note in opened  # opened for her, in her own copy
    assert verify_export(doc) == []
    # independently: each proof up to its partition's root, then to the root over every partition, both signed
    check_export_proofs(doc, stack_vkey(stack))

    # another person's copy is not hers to download
    other = await employee.page.evaluate(
        "n => fetch('/api/pdp/export?nip=' + n, {credentials: 'same-origin'}).then(r => r.status)", world.penilai)
    assert other == 403

    # --- Administrasi: the erasure, refused until it has grounds and a confirmation ---------------------------
    await admin.goto("admin")
    page = admin.page
    await page.get_by_test_id("erase-nip").fill(world.employee)
    await page.get_by_test_id("erase-check").click()
    state = page.get_by_test_id("erase-state")
    await expect(state).to_contain_text("Belum berakhir", timeout=WAIT)  # the 2025 period's retention runs
    await page.get_by_test_id("erase-reason").fill("Permintaan pegawai (uji)")
    await page.get_by_test_id("erase-submit").click()
    await expect(page.locator(".problem")).to_contain_text("dasar penghapusan")
    await page.get_by_test_id("erase-order").fill("Putusan uji 1/2026")
    await page.get_by_test_id("erase-submit").click()
    await expect(page.locator(".problem")).to_contain_text("Centang")
    assert await query_value(stack, "SELECT count(*) FROM evidence.events WHERE type = 'personal_data.erased' "
                                    "AND subject = $1", world.employee) == 0
    await browsers.check(admin, "pdp-admin-erase-form")
    await page.get_by_test_id("erase-confirm").check()
    await page.get_by_test_id("erase-submit").click()
    await expect(page.get_by_test_id("erase-done")).to_be_visible(timeout=WAIT)
    await expect(page.locator("[data-testid=answer]").last).to_have_attribute("data-status", "accepted")
    await browsers.check(admin, "pdp-admin-erased")
    reason = await query_value(stack, "SELECT convert_from(value, 'UTF8')::jsonb->'payload'->>'reason' FROM "
                                      "evidence.events WHERE type = 'personal_data.erased' AND subject = $1",
                               world.employee)
    assert reason == "Permintaan pegawai (uji) (perintah: Putusan uji 1/2026)"

    # afterwards her copy reads "dihapus (UU PDP)" where the note was, and the note is nowhere in it
    after = await wait_for(exported, lambda d: pdp.ERASED in {
        v for e in d.get("events", []) for v in e["personal_fields"].values()})
    assert note not in orjson.dumps(after).decode()
    assert not browsers.violations, browsers.violations


async def _ledgered_about(stack: Stack, nip: str, covered: dict[int, int]) -> list[Any]:
    """The events about ``nip`` in the ledger under a checkpoint covering ``covered[part]`` leaves of each
    partition."""
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        rows = await conn.fetch("SELECT event_id, part, pos FROM audit.leaves WHERE subject = $1", nip)
    finally:
        await conn.close()
    return [r["event_id"] for r in rows if r["pos"] < covered.get(r["part"], 0)]
