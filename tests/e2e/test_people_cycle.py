"""One period's whole cycle in Debian's Chromium against the running stack (issue 16, "Done when"): six people,
each enrolled by a code the admin issues on the Administrasi page and signed in with a key made in his or her own
browser. Raters rate in #/tugas; the Pejabat Penilai diverges from the evidence (the form refuses to send it without
a justification, the gate accepts it with one), gives feedback the employee answers (the thread both see), and
delivers the result; the employee objects; the Atasan asks both sides, they explain, the Atasan decides (diterima,
with modified ratings) and the employee's predikat changes on her page. Then the refusals, each with its reason:
a forged submission, a replayed one, a rater outside the structure, another person's session for her NIP.

The tests run in order on one module-scoped world; each asserts what its step must show. axe-core runs on every
page state visited (serious and critical violations fail), with screenshots at 360 and 1280 px."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Route, async_playwright, expect

from objektif.pipeline import publish
from objektif.stack import Stack
from services.scoring.adapters.people_store import issue_code
from tests.e2e.people_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VALUES,
    WAIT,
    Browsers,
    PeopleWorld,
    Person,
    enrol,
    fetch_json,
    gate_answer,
    issue,
    scoring_ready,
    screenshot_dir,
)
from tests.e2e.world import PERIOD, query_value, wait_for

pytestmark = pytest.mark.e2e
SUBMISSIONS = "**/api/submissions"


@dataclass
class Cycle:
    stack: Stack
    world: PeopleWorld
    browsers: Browsers
    admin: Person
    atasan: Person
    penilai: Person
    employee: Person
    peer: Person
    outsider: Person

    async def appraisal(self, until: Callable[[dict[str, Any]], bool], timeout: float = 90) -> dict[str, Any]:
        """The employee's appraisal document (as she reads it), once `until` holds for it."""
        path = f"/api/appraisals/{self.world.employee}/{PERIOD}"
        return await wait_for(lambda: fetch_json(self.employee.page, path), lambda d: bool(d.get("result"))
                              and until(d), timeout=timeout)

    async def check(self, person: Person, label: str) -> None:
        """axe-core on the page as it is now (and screenshots); a serious violation fails the step at once."""
        await self.browsers.check(person, label)
        assert self.browsers.violations == {}, self.browsers.violations


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cycle(stack: Stack, browser: Browser) -> AsyncIterator[Cycle]:
    world = PeopleWorld(stack)
    await world.setup()
    real = world.realisation("98")  # APS 98% against 97–99%: the evidence rating is Sesuai Ekspektasi
    await publish(stack.kafka_bootstrap, [real])
    await wait_for(lambda: world.accepted([real["event_id"]]), lambda n: n == 1)
    base = f"http://127.0.0.1:{stack.http_ports['scoring']}"
    await scoring_ready(base)
    await wait_for(lambda: query_value(stack, "SELECT count(*) FROM scoring.events WHERE type = 'employee.assigned' "
                                              "AND subject = ANY($1::text[])", list(world.names)),
                   lambda n: n >= len(world.names))
    conn = await asyncpg.connect(stack.admin_dsn)
    try:  # the first administrator's code, as `objektif enrol --grant admin` issues it
        first = await issue_code(conn, world.admin, grants=["admin"], issued_by="test", now=datetime.now(UTC))
    finally:
        await conn.close()
    browsers = Browsers(browser, base, screenshot_dir(Path(stack.data_dir)))
    names = world.names
    admin = await enrol(browsers, world.admin, names[world.admin], first.code)
    await admin.goto("admin")
    await admin.page.get_by_test_id("roster").wait_for(timeout=WAIT)
    order = (world.atasan, world.penilai, world.employee, world.peer, world.outsider)
    codes = [await issue(admin, nip) for nip in order]
    people = [await enrol(browsers, nip, names[nip], code) for nip, code in zip(order, codes, strict=True)]
    c = Cycle(stack, world, browsers, admin, *people)
    await c.check(admin, "cycle-admin")
    await c.check(c.employee, "cycle-daftar")
    yield c
    for p in (admin, *people):
        await p.context.close()


async def _rate(c: Cycle, rater: Person, ratee: str, relation: str) -> None:
    """`rater` opens #/tugas, finds `ratee` in `relation`, scores every value 2 and sends: seven signed acts."""
    page = rater.page
    await rater.goto(f"tugas/{PERIOD}")
    task = page.locator(f"[data-testid=task][data-nip='{ratee}'][data-relation='{relation}']")
    await expect(task).to_have_attribute("data-done", "false", timeout=WAIT)
    await task.get_by_test_id("task-open").click()
    form = page.locator(f"[data-testid=rate-form][data-nip='{ratee}']")
    for value in VALUES:
        await form.get_by_test_id(f"rate-{value}-2").check()
    await c.check(rater, f"cycle-tugas-{relation}")
    await form.get_by_test_id("rate-submit").click()
    answers = page.locator(f"[data-testid=rate-form][data-nip='{ratee}'] [data-testid=answer]")
    await expect(answers).to_have_count(7, timeout=WAIT)
    assert {await a.get_attribute("data-status") for a in await answers.all()} == {"accepted"}
    await expect(task).to_have_attribute("data-done", "true", timeout=WAIT)


async def _predikat_on_her_page(c: Cycle, expected: str) -> None:
    """She opens her page (again, as a person would, until the new result shows: the page draws what the read
    API answers when it opens; once, in a full-suite run, a page opened after the API already answered the new
    predikat still showed the old one, so each try is a fresh load)."""
    shown = c.employee.page.get_by_test_id("appraisal").get_by_test_id("predikat").first
    for _ in range(5):
        await c.employee.goto(f"saya/{PERIOD}")
        await c.employee.page.reload()
        try:
            await expect(shown).to_have_text(expected, timeout=WAIT // 5)
            return
        except AssertionError:
            continue
    await expect(shown).to_have_text(expected, timeout=WAIT)


async def test_raters_rate_berakhlak_in_tugas_and_the_employee_sees_only_the_aggregate(cycle: Cycle) -> None:
    c, w = cycle, cycle.world
    await _rate(c, c.employee, w.employee, "diri")
    await _rate(c, c.peer, w.employee, "rekan")
    await _rate(c, c.penilai, w.employee, "atasan")
    doc = await c.appraisal(lambda d: d["result"]["rating_perilaku"].get("multi_rater") == "Sesuai Ekspektasi")
    assert doc["result"]["rating_hasil_kerja"]["evidence"] == "Sesuai Ekspektasi"
    await _predikat_on_her_page(c, "Baik")  # Sesuai × Sesuai, §1.5
    # §5: a guru Ahli Pertama's quarter at Baik earns 3/12 × 100% × 12.5 = 3.125 → 3.13, and the page says how
    credit = c.employee.page.get_by_test_id("angka-kredit")
    await expect(credit.get_by_test_id("angka-kredit-value")).to_have_text("3.13")
    await expect(credit.get_by_test_id("angka-kredit-formula")).to_have_text("3/12 × 100% × 12.5 = 3.13")
    assert w.names[w.peer] not in await c.employee.page.locator("main").inner_text()  # §1.4: only the aggregate
    await c.check(c.employee, "cycle-saya-rated")


async def test_the_pejabat_penilai_diverges_refused_without_a_justification_and_accepted_with_one(
        cycle: Cycle) -> None:
    c, w, page = cycle, cycle.world, cycle.penilai.page
    await c.penilai.goto(f"tim/{PERIOD}")
    member = page.locator(f"[data-testid=member][data-nip='{w.employee}']")
    await member.get_by_test_id("member-open").click()
    form = member.get_by_test_id("pp-form")
    await expect(form.get_by_test_id("pp-hasil")).to_have_value("sesuai_ekspektasi", timeout=WAIT)  # the evidence's
    await form.get_by_test_id("pp-hasil").select_option("di_bawah_ekspektasi")
    await expect(form.get_by_test_id("pp-justification-required")).to_contain_text("Justifikasi wajib")
    sent = len(c.penilai.posted.get("/api/submissions", []))
    await form.get_by_test_id("pp-submit").click()
    await expect(member.locator(".problem")).to_contain_text("Tulis justifikasi")
    assert len(c.penilai.posted.get("/api/submissions", [])) == sent  # nothing was signed or sent
    await c.check(c.penilai, "cycle-tim-justification-required")
    await form.get_by_test_id("pp-justification").fill("Laporan APS semester ini terlambat dua bulan.")
    await form.get_by_test_id("pp-submit").click()
    assert await gate_answer(page, f"[data-testid=member][data-nip='{w.employee}'] [data-testid=pp-form] + div") \
        == "accepted"
    signed = json.loads(c.penilai.posted["/api/submissions"][-1])
    assert signed["type"] == "rating.pejabat_penilai"  # sealed in her browser before signing (UU PDP, ADR 0010)
    assert signed["payload"]["justification"].startswith("pdp1:") and "Laporan" not in json.dumps(signed)
    doc = await c.appraisal(lambda d: d["result"]["predikat"] == "Butuh Perbaikan")  # Di Bawah × Sesuai
    assert doc["result"]["rating_hasil_kerja"]["pejabat_penilai"] == "Di Bawah Ekspektasi"
    await _predikat_on_her_page(c, "Butuh Perbaikan")
    await expect(c.employee.page.locator(".divergence")).to_contain_text("terlambat dua bulan")  # how it counted


async def test_feedback_the_employee_answers_is_one_thread_both_see(cycle: Cycle) -> None:
    c, w = cycle, cycle.world
    member = c.penilai.page.locator(f"[data-testid=member][data-nip='{w.employee}']")
    fb = member.get_by_test_id("feedback-form")
    await expect(fb.get_by_test_id("feedback-refers")).to_have_value("iki:aps")
    await fb.get_by_test_id("feedback-text").fill("Unggah bukti APS tiap bulan, jangan menunggu akhir semester.")
    await fb.get_by_test_id("feedback-submit").click()
    assert await gate_answer(c.penilai.page, f"[data-testid=member][data-nip='{w.employee}'] "
                                             "[data-testid=feedback-form] + div") == "accepted"
    await expect(member.get_by_test_id("feedback-item")).to_have_count(1, timeout=WAIT)
    await c.employee.goto(f"saya/{PERIOD}")
    item = c.employee.page.get_by_test_id("feedback-item")
    await expect(item).to_contain_text("tiap bulan", timeout=WAIT)
    await expect(item).to_contain_text(w.names[w.penilai])
    assert await c.employee.page.get_by_test_id("objection-form").count() == 0  # not delivered yet: nothing to object
    await item.get_by_test_id("reply-text").fill("Baik, Bu. Operator sekolah akan mengunggah tiap tanggal 5.")
    await item.get_by_test_id("reply-submit").click()
    await expect(c.employee.page.get_by_test_id("feedback-item").locator(".replies")).to_contain_text(
        "tiap tanggal 5", timeout=WAIT)
    await c.check(c.employee, "cycle-saya-thread")
    await c.penilai.page.reload()
    member = c.penilai.page.locator(f"[data-testid=member][data-nip='{w.employee}']")
    await member.get_by_test_id("member-open").click()
    await expect(member.get_by_test_id("feedback-reply")).to_contain_text("tiap tanggal 5", timeout=WAIT)
    await c.check(c.penilai, "cycle-tim-thread")


async def test_the_result_is_delivered_and_the_employee_objects(cycle: Cycle) -> None:
    c, w = cycle, cycle.world
    member = c.penilai.page.locator(f"[data-testid=member][data-nip='{w.employee}']")
    await member.get_by_test_id("deliver-submit").click()
    assert await gate_answer(c.penilai.page, f"[data-testid=member][data-nip='{w.employee}'] "
                                             "[data-testid=deliver-submit] + div") == "accepted"
    await c.appraisal(lambda d: bool(d["objection"].get("delivered_at")))
    await c.employee.goto(f"saya/{PERIOD}")
    form = c.employee.page.get_by_test_id("objection-form")
    await form.get_by_test_id("objection-reasons").fill("Bukti APS Juli dan Agustus sudah diunggah tepat waktu.")
    await c.check(c.employee, "cycle-saya-objection-form")
    await form.get_by_test_id("objection-submit").click()
    await expect(c.employee.page.get_by_test_id("objection-status")).to_have_attribute("data-status", "filed",
                                                                                      timeout=WAIT)


async def _explain(person: Person, route: str, text: str) -> None:
    await person.goto(route)
    form = person.page.get_by_test_id("explain-form")
    await form.get_by_test_id("explain-text").fill(text)
    await form.get_by_test_id("explain-submit").click()
    answer = person.page.locator("[data-testid=answer][data-status=accepted]")
    await expect(answer.first).to_be_visible(timeout=WAIT)


async def test_the_atasan_asks_both_sides_they_explain_and_the_atasan_decides(cycle: Cycle) -> None:
    c, w, page = cycle, cycle.world, cycle.atasan.page
    await wait_for(lambda: fetch_json(page, "/api/objections?open=false"),
                   lambda b: any(o["nip"] == w.employee for o in b.get("objections", [])), timeout=90)
    await c.atasan.goto("keberatan")
    item = page.locator(f"[data-testid=objection-item][data-nip='{w.employee}'][data-period='{PERIOD}']")
    await expect(item).to_contain_text("Batas keputusan", timeout=WAIT)
    await c.check(c.atasan, "cycle-keberatan-queue")
    await item.click()
    ask = page.get_by_test_id("ask-form")
    await ask.get_by_test_id("ask-of").select_option("both")
    await ask.get_by_test_id("ask-question").fill("Kapan tepatnya bukti APS Juli dan Agustus diunggah?")
    await ask.get_by_test_id("ask-submit").click()
    assert await gate_answer(page, ".objection") == "accepted"
    await c.appraisal(lambda d: len(d["objection"].get("examination", [])) >= 1)
    await _explain(c.employee, f"saya/{PERIOD}", "Diunggah 3 Agustus dan 4 September; tanda terima terlampir.")
    await _explain(c.penilai, f"keberatan/{w.employee}/{PERIOD}", "Bukti masuk setelah rapat evaluasi semester.")
    await c.check(c.penilai, "cycle-keberatan-explained")
    await c.appraisal(lambda d: len(d["objection"].get("examination", [])) >= 3)
    await page.reload()
    explanations = page.get_by_test_id("explanations")
    await expect(explanations).to_contain_text("4 September", timeout=WAIT)
    await expect(explanations).to_contain_text("rapat evaluasi")
    decide = page.get_by_test_id("decide-form")
    await decide.get_by_test_id("decide-outcome").select_option("diterima")
    await decide.get_by_test_id("decide-hasil").select_option("di_atas_ekspektasi")
    await decide.get_by_test_id("decide-perilaku").select_option("di_atas_ekspektasi")
    await decide.get_by_test_id("decide-reason").fill("Bukti diunggah tepat waktu; hasil kerja melampaui target.")
    await decide.get_by_test_id("decide-submit").click()
    assert await gate_answer(page, ".objection") == "accepted"
    await expect(page.get_by_test_id("decision")).to_have_attribute("data-outcome", "diterima", timeout=WAIT)
    assert await page.get_by_test_id("decide-form").count() == 0  # final: no second decision
    await expect(item).to_have_attribute("data-status", "decided", timeout=WAIT)
    await c.check(c.atasan, "cycle-keberatan-decided")


async def test_the_employee_sees_the_final_result_change_and_her_team_leader_sees_it_too(cycle: Cycle) -> None:
    c, w = cycle, cycle.world
    await c.appraisal(lambda d: d["objection"].get("status") == "decided" and d["result"]["predikat"] == "Sangat Baik")
    await _predikat_on_her_page(c, "Sangat Baik")  # Di Atas × Di Atas: no earlier state gave it
    page = c.employee.page
    await expect(page.get_by_test_id("objection-status")).to_have_attribute("data-status", "decided")
    await expect(page.get_by_test_id("objection-original-predikat")).to_have_text("Butuh Perbaikan")
    await expect(page.get_by_test_id("objection-final-predikat")).to_have_text("Sangat Baik")
    await c.check(c.employee, "cycle-saya-decided")
    await c.penilai.goto(f"tim/{PERIOD}")
    member = c.penilai.page.locator(f"[data-testid=member][data-nip='{w.employee}']")
    await expect(member).to_contain_text("Sangat Baik", timeout=WAIT)
    await expect(member).to_contain_text("sudah diputuskan")
    await c.check(c.penilai, "cycle-tim-decided")


async def test_a_forged_submission_is_refused_as_signature_invalid_and_what_she_typed_stays(cycle: Cycle) -> None:
    c, page = cycle, cycle.employee.page
    await c.employee.goto(f"saya/{PERIOD}")
    item = page.get_by_test_id("feedback-item").first
    forged: list[dict[str, Any]] = []

    async def tamper(route: Route) -> None:  # one character of the signed (sealed) payload changed in flight
        body = json.loads(route.request.post_data or "{}")
        scheme, kid, data = body["payload"]["text"].split(":", 2)  # pdp1:<kid>:<base64url>, ADR 0010
        flipped = data[:8] + ("B" if data[8] == "A" else "A") + data[9:]
        body["payload"]["text"] = f"{scheme}:{kid}:{flipped}"
        forged.append(body)
        await route.continue_(post_data=json.dumps(body))

    await page.route(SUBMISSIONS, tamper, times=1)
    await item.get_by_test_id("reply-text").fill("Unggahan bulan depan tanggal 5.")
    await item.get_by_test_id("reply-submit").click()
    reason = item.locator("[data-testid=answer][data-status=rejected] [data-testid=answer-reason]")
    await expect(reason).to_have_attribute("data-code", "signature.invalid", timeout=WAIT)
    assert len(await reason.inner_text()) > len("signature.invalid")  # a sentence, not only the code
    await expect(item.get_by_test_id("reply-text")).to_have_value("Unggahan bulan depan tanggal 5.")
    await c.check(c.employee, "cycle-saya-forged")
    assert await query_value(c.stack, "SELECT count(*) FROM evidence.events WHERE event_id = $1::uuid",
                             forged[0]["event_id"]) == 0
    codes = await wait_for(lambda: query_value(c.stack, "SELECT codes FROM evidence.rejections WHERE "
                                               "submission_event_id = $1::uuid", forged[0]["event_id"]), bool)
    assert "signature.invalid" in codes


async def test_a_replayed_submission_is_answered_as_already_recorded_and_counts_once(cycle: Cycle) -> None:
    c, w = cycle, cycle.world
    filed = next(b for b in c.employee.posted["/api/submissions"] if json.loads(b)["type"] == "objection.filed")
    status, answer = await c.employee.post("/api/submissions", filed)  # the same signed bytes, again
    assert (status, answer["status"]) == (202, "duplicate"), answer
    assert await query_value(c.stack, "SELECT count(*) FROM evidence.events WHERE type = 'objection.filed' AND "
                                      "subject = $1", w.employee) == 1
    doc = await c.appraisal(lambda d: True)
    assert len(doc["objection"]["filed"]) == 1 and doc["result"]["predikat"] == "Sangat Baik"


async def test_a_rater_outside_the_structure_is_refused_with_rater_not_in_relation(cycle: Cycle) -> None:
    c, w, page = cycle, cycle.world, cycle.outsider.page

    async def offer_her(route: Route) -> None:  # his own browser offers him the employee as a peer
        real = await route.fetch()
        body = await real.json()
        body["tasks"].append({"nip": w.employee, "name": w.names[w.employee], "jabatan": "Guru", "relation": "rekan",
                              "values_done": [], "values_left": list(VALUES), "done": False})
        await route.fulfill(response=real, json=body)

    await page.route("**/api/tasks*", offer_her)
    await c.outsider.goto(f"tugas/{PERIOD}")
    await page.locator(f"[data-testid=task][data-nip='{w.employee}'] [data-testid=task-open]").click()
    form = page.locator(f"[data-testid=rate-form][data-nip='{w.employee}']")
    await form.get_by_test_id("rate-kompeten-3").check()
    await form.get_by_test_id("rate-comment-kompeten").fill("Rajin")
    await form.get_by_test_id("rate-submit").click()
    reason = page.locator(f"[data-testid=rate-form][data-nip='{w.employee}'] [data-testid=answer-reason]")
    await expect(reason).to_have_attribute("data-code", "rater.not_in_relation", timeout=WAIT)
    await expect(form.get_by_test_id("rate-comment-kompeten")).to_have_value("Rajin")
    await c.check(c.outsider, "cycle-tugas-outsider")
    assert await query_value(c.stack, "SELECT count(*) FROM evidence.events WHERE type = 'behaviour.rated' AND "
                                      "source = $1", f"nip:{w.outsider}") == 0
    await page.unroute("**/api/tasks*")


async def test_another_persons_session_cannot_act_or_read_for_her_nip(cycle: Cycle) -> None:
    c, w, page = cycle, cycle.world, cycle.employee.page
    held: list[str] = []

    async def hold(route: Route) -> None:  # her browser signs a reply; it is kept, not sent
        held.append(route.request.post_data or "")
        await route.abort()

    await page.route(SUBMISSIONS, hold, times=1)
    item = page.get_by_test_id("feedback-item").first
    await item.get_by_test_id("reply-text").fill("Terima kasih atas keputusannya.")
    await item.get_by_test_id("reply-submit").click()
    await expect(item.locator("[data-testid=answer][data-status=error]")).to_be_visible(timeout=WAIT)
    status, answer = await c.peer.post("/api/submissions", held[0])  # the peer's session, her signed act
    assert (status, answer["error"]) == (403, "not_your_nip"), answer
    status, _ = await c.peer.post("/api/submissions", held[0], csrf=False)
    assert status == 403  # without the CSRF header too
    for path in (f"/api/feedback/{w.employee}/{PERIOD}", f"/api/appraisals/{w.employee}/{PERIOD}"):
        got = await c.peer.page.evaluate("p => fetch(p, {credentials: 'same-origin'}).then(r => r.status)", path)
        assert got == 403, path
    status, answer = await c.employee.post("/api/submissions", held[0])  # the same act in her own session
    assert (status, answer["status"]) == (202, "accepted"), answer
    assert c.browsers.violations == {}
    assert {v.split("-")[1] for v in c.browsers.visited} >= {"admin", "daftar", "tugas", "saya", "tim", "keberatan"}
