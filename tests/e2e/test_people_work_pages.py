"""The work pages of issue 16 in Debian's Chromium against the running stack: Administrasi (codes, roster,
progress, closing, dossier), Tim saya (the Pejabat Penilai's divergent rating refused without a justification and
accepted with one, feedback, delivery) and Keberatan (the Atasan asks, the Pejabat Penilai explains, the Atasan
decides). Every person enrols by code in a browser context of his or her own; every act is signed there. axe-core
runs on each page state, with screenshots at 360 and 1280 px."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from contracts.signing import sign_batch
from objektif.stack import Stack
from tests.e2e.people_browser import (
    PeopleWorld,
    browsers_with_admin,
    enrol,
    fetch_json,
    gate_answer,
    issue,
)
from tests.e2e.world import PERIOD, wait_for

pytestmark = pytest.mark.e2e
WAIT = 30_000


class WorkWorld(PeopleWorld):
    """PeopleWorld's organisation, with position ids the contract accepts: PeopleWorld builds them from the
    jabatan ("unit.Kepala Sekolah"), and the space makes the gate refuse three assignments as schema.invalid."""

    def structure(self) -> list[dict[str, Any]]:
        events = super().structure()
        for e in events:
            if e["type"] == "employee.assigned":
                e["payload"]["position_id"] = e["payload"]["position_id"].replace(" ", "-")
        return sign_batch([{k: v for k, v in e.items() if k != "signature"} for e in events], self.key(self.system))


async def test_admin_tim_and_keberatan_pages_walk_the_acts_signed_in_each_browser(
        stack: Stack, browser: Browser) -> None:
    world = WorkWorld(stack)
    real = world.realisation("98")  # APS 98% against 97–99%: the evidence rating is Sesuai Ekspektasi
    # --- Administrasi: the admin enrols, issues codes from the page, sees who has not enrolled ---------------
    browsers, admin = await browsers_with_admin(stack, browser, world, real)
    await admin.goto("admin")
    roster = admin.page.get_by_test_id("roster")
    await roster.wait_for(timeout=WAIT)
    assert await roster.locator(f"[data-testid=not-enrolled][data-nip='{world.employee}']").count() == 1
    assert await roster.locator(f"[data-testid=not-enrolled][data-nip='{world.admin}']").count() == 0
    await browsers.check(admin, "admin")
    codes = {nip: await issue(admin, nip) for nip in (world.penilai, world.atasan, world.employee)}
    await browsers.check(admin, "admin-code")
    await admin.page.get_by_test_id("admin-nip").fill("12345")
    await admin.page.get_by_test_id("admin-issue").click()
    await expect(admin.page.locator(".problem")).to_contain_text("18 angka")
    penilai = await enrol(browsers, world.penilai, world.names[world.penilai], codes[world.penilai])
    atasan = await enrol(browsers, world.atasan, world.names[world.atasan], codes[world.atasan])
    employee = await enrol(browsers, world.employee, world.names[world.employee], codes[world.employee])

    # --- Tim saya: the evidence rating is there; a divergent rating needs a justification ----------------------
    # the Pejabat Penilai's own BerAKHLAK answers as atasan, signed in the browser (the Tugas page's act)
    rated = await penilai.page.evaluate("""async ([nip, rater, period]) => {
        const c = await import('/static/js/core.js');
        const values = ["berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif",
          "kolaboratif"];
        const out = [];
        for (const value of values) {
          out.push((await c.submit('behaviour.rated', nip, {rater_nip: rater, relation: 'atasan', value, score: 2},
            {period})).status);
        }
        return out; }""", [world.employee, world.penilai, PERIOD])
    assert rated == ["accepted"] * 7, rated
    async def team_row() -> dict[str, Any]:
        body = await fetch_json(penilai.page, f"/api/team?period={PERIOD}")
        return next((m for m in body.get("members", []) if m["nip"] == world.employee), {})
    await wait_for(team_row, lambda m: m.get("rating_hasil_kerja_evidence") == "Sesuai Ekspektasi", timeout=90)
    await penilai.goto(f"tim/{PERIOD}")
    sel = f"[data-testid=member][data-nip='{world.employee}']"
    member = penilai.page.locator(sel)
    await member.get_by_test_id("member-open").focus()  # by keyboard: Enter opens, Tab reaches the form
    await penilai.page.keyboard.press("Enter")
    form = member.get_by_test_id("pp-form")
    await form.wait_for(timeout=WAIT)
    await expect(member.get_by_test_id("member-open")).to_have_attribute("aria-expanded", "true")
    assert await form.get_by_test_id("pp-hasil").input_value() == "sesuai_ekspektasi"  # the evidence, preselected
    await expect(form.get_by_test_id("pp-justification-required")).to_be_hidden()
    await expect(member.locator("table")).to_contain_text("Akuntabel")  # the 360° means per value
    await browsers.check(penilai, "tim")
    await form.get_by_test_id("pp-hasil").select_option("di_atas_ekspektasi")
    await expect(form.get_by_test_id("pp-justification-required")).to_be_visible()
    posted = len(penilai.posted.get("/api/submissions", []))
    await form.get_by_test_id("pp-submit").click()
    await expect(member.locator(".problem")).to_contain_text("justifikasi")
    assert len(penilai.posted.get("/api/submissions", [])) == posted  # nothing was signed or sent
    await browsers.check(penilai, "tim-justification-required")
    # what was typed survives a reload before it is accepted
    await form.get_by_test_id("pp-justification").fill("Memimpin program literasi di luar target IKI")
    await penilai.page.reload()
    member = penilai.page.locator(sel)
    await member.get_by_test_id("member-open").click()
    form = member.get_by_test_id("pp-form")
    await form.wait_for(timeout=WAIT)
    assert await form.get_by_test_id("pp-hasil").input_value() == "di_atas_ekspektasi"
    assert "literasi" in await form.get_by_test_id("pp-justification").input_value()
    await form.get_by_test_id("pp-submit").click()
    assert await gate_answer(penilai.page, f"{sel} [data-testid=pp-form] + div") == "accepted"
    signed = json.loads(penilai.posted["/api/submissions"][-1])
    assert signed["type"] == "rating.pejabat_penilai" and signed["source"] == f"nip:{world.penilai}"
    assert signed["payload"]["rating_hasil_kerja"] == "Di Atas Ekspektasi" and signed["signature"]
    # feedback about the IKI's evidence, then the result delivered
    fb = member.get_by_test_id("feedback-form")
    assert (await fb.get_by_test_id("feedback-refers").input_value()) == "iki:aps"
    await fb.get_by_test_id("feedback-text").fill("Pertahankan APS; unggah bukti semester berikutnya lebih awal.")
    await fb.get_by_test_id("feedback-submit").click()
    assert await gate_answer(penilai.page, f"{sel} [data-testid=feedback-form] + div") == "accepted"
    await expect(member.get_by_test_id("feedback-item")).to_have_count(1, timeout=WAIT)
    sent = json.loads(penilai.posted["/api/submissions"][-1])
    assert sent["schema_version"] == 2
    assert sent["payload"]["refers_to"] == [{"event_id": real["event_id"], "iki_id": "aps"}]
    await member.get_by_test_id("deliver-submit").click()
    assert await gate_answer(penilai.page, f"{sel} [data-testid=deliver-submit] + div") == "accepted"
    await expect(member.locator("dl.kv").first).to_contain_text("sudah", timeout=WAIT)  # delivered, as the team says
    await browsers.check(penilai, "tim-done")

    # --- the employee objects (signed in her browser, through core's submit), the Atasan examines and decides --
    filed = await employee.page.evaluate("""([nip, period]) => import('/static/js/core.js').then(c =>
        c.submit('objection.filed', nip, {reasons: 'Bukti APS semester ini belum dihitung.'}, {period}))""",
                                          [world.employee, PERIOD])
    assert filed["status"] == "accepted", filed

    async def objection_row() -> dict[str, Any]:
        body = await fetch_json(atasan.page, "/api/objections?open=false")
        return next((o for o in body.get("objections", []) if o["nip"] == world.employee), {})
    await wait_for(objection_row, lambda o: bool(o.get("objection_event_id")), timeout=90)
    await atasan.goto("keberatan")
    item = atasan.page.locator(f"[data-testid=objection-item][data-nip='{world.employee}'][data-period='{PERIOD}']")
    await item.wait_for(timeout=WAIT)
    assert "Batas keputusan" in await item.inner_text()
    await browsers.check(atasan, "keberatan")
    await item.click()
    ask = atasan.page.get_by_test_id("ask-form")
    await ask.wait_for(timeout=WAIT)
    assert "belum dihitung" in await atasan.page.locator(".objection").inner_text()
    await ask.get_by_test_id("ask-of").select_option("pejabat_penilai")
    await ask.get_by_test_id("ask-question").fill("Mengapa bukti APS semester ini tidak dihitung?")
    await ask.get_by_test_id("ask-submit").click()
    assert await gate_answer(atasan.page, ".objection") == "accepted"
    await browsers.check(atasan, "keberatan-open")

    async def examined() -> int:
        doc = await fetch_json(penilai.page, f"/api/appraisals/{world.employee}/{PERIOD}")
        return len(doc.get("objection", {}).get("examination", []))
    await wait_for(examined, lambda n: n >= 1, timeout=60)
    await penilai.goto(f"keberatan/{world.employee}/{PERIOD}")
    explain = penilai.page.get_by_test_id("explain-form")
    await explain.wait_for(timeout=WAIT)
    assert await penilai.page.get_by_test_id("decide-form").count() == 0  # only the Atasan decides
    await explain.get_by_test_id("explain-text").fill("Realisasi semester ini dicatat setelah periode ditutup.")
    await explain.get_by_test_id("explain-submit").click()
    assert await gate_answer(penilai.page, ".objection") == "accepted"
    await browsers.check(penilai, "keberatan-explain")

    await wait_for(examined, lambda n: n >= 2, timeout=60)
    await atasan.page.reload()
    await expect(atasan.page.get_by_test_id("explanations")).to_contain_text("dicatat setelah periode", timeout=WAIT)
    decide = atasan.page.get_by_test_id("decide-form")
    await decide.get_by_test_id("decide-outcome").select_option("diterima")
    await decide.get_by_test_id("decide-reason").fill("Tanpa perubahan keputusan tidak dapat diterima.")
    await decide.get_by_test_id("decide-submit").click()
    # diterima changes something, and nothing is chosen yet
    await expect(atasan.page.locator("[data-testid=decide-form] + div .problem")).to_be_visible()
    await decide.get_by_test_id("decide-perilaku").select_option("di_atas_ekspektasi")
    await decide.get_by_test_id("decide-reason").fill("Penjelasan Pejabat Penilai: perilaku di atas ekspektasi.")
    await decide.get_by_test_id("decide-submit").click()
    assert await gate_answer(atasan.page, ".objection") == "accepted"
    decided = json.loads(atasan.posted["/api/submissions"][-1])
    assert decided["type"] == "objection.decided" and decided["schema_version"] == 2
    assert decided["payload"]["outcome"] == "diterima"
    assert decided["payload"]["modified_rating_perilaku"] == "Di Atas Ekspektasi"
    # once the read model has it, the page shows the final decision and no form any more
    await expect(atasan.page.get_by_test_id("decision")).to_have_attribute("data-outcome", "diterima", timeout=WAIT)
    assert await atasan.page.get_by_test_id("decide-form").count() == 0
    await expect(item).to_have_attribute("data-status", "decided", timeout=WAIT)
    await browsers.check(atasan, "keberatan-decided")

    # --- Administrasi again: progress per unit, closing the period, the dossier -------------------------------
    await admin.goto(f"admin/{PERIOD}")
    unit = admin.page.locator(f"[data-testid=progress-unit][data-unit='{world.unit}']")
    await unit.wait_for(timeout=WAIT)
    missing = unit.get_by_test_id("progress-missing")
    assert await missing.count() > 0  # nobody rated BerAKHLAK here
    assert world.names[world.peer] in await unit.inner_text()
    await admin.page.get_by_test_id("close-unit").select_option(world.unit)
    await admin.page.get_by_test_id("close-submit").click()
    shown = "form:has([data-testid=close-submit]) + div"
    closing = await gate_answer(admin.page, shown)
    assert closing in ("accepted", "duplicate"), await admin.page.locator(shown).inner_text()
    await admin.page.get_by_test_id("dossier-nip").fill(world.employee)
    async with admin.page.expect_download(timeout=60_000) as download:
        await admin.page.get_by_test_id("dossier-download").click()
    saved = Path(stack.data_dir) / "dossier.html"
    await (await download.value).save_as(saved)
    assert world.employee in saved.read_text()
    # a lost phone: the employee's key revoked from the page, and her session ends with it
    await admin.page.get_by_test_id("revoke-nip").fill(world.employee)
    await admin.page.get_by_test_id("revoke-submit").click()
    assert await gate_answer(admin.page, "form:has([data-testid=revoke-submit]) + div") == "accepted"

    async def me_status() -> int:
        return int(await employee.page.evaluate("fetch('/api/me', {credentials: 'same-origin'}).then(r => r.status)"))
    await wait_for(me_status, lambda status: status == 401, timeout=30)
    await browsers.check(admin, "admin-done")
    assert browsers.violations == {}, browsers.violations
    for p in (admin, penilai, atasan, employee):
        await p.context.close()
