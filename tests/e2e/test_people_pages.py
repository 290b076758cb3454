"""The employee's pages of issue 16 in Debian's Chromium against the running stack: #/daftar/CODE enrols by
itself, #/tugas rates BerAKHLAK with one signed behaviour.rated per value, #/saya shows the appraisal, #/masuk signs
in again with the key kept in this browser's IndexedDB (and says in words that a browser without it has no key).
axe-core runs on each page, with screenshots at 360 and 1280 px."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Browser, expect

from contracts.signing import sign_batch
from objektif.stack import Stack
from services.scoring.adapters.people_store import issue_code
from tests.e2e.people_browser import Browsers, PeopleWorld, scoring_ready, screenshot_dir
from tests.e2e.world import query_value, wait_for

pytestmark = pytest.mark.e2e

WAIT = 30_000
VALUES = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")


class PagesWorld(PeopleWorld):
    """PeopleWorld with position ids without spaces (the contract refuses them)."""

    def structure(self) -> list[dict[str, Any]]:
        events = super().structure()
        for e in events:
            if e["type"] == "employee.assigned":
                e["payload"]["position_id"] = e["payload"]["position_id"].replace(" ", "-")
        return sign_batch([{k: v for k, v in e.items() if k != "signature"} for e in events], self.key(self.system))


async def test_an_employee_enrols_by_link_rates_herself_and_signs_in_again_with_the_key_of_her_browser(
        stack: Stack, browser: Browser) -> None:
    world = PagesWorld(stack)
    await world.setup()
    base = f"http://127.0.0.1:{stack.http_ports['scoring']}"
    await scoring_ready(base)
    await wait_for(lambda: query_value(stack, "SELECT count(*) FROM scoring.events WHERE type = 'employee.assigned' "
                                              "AND subject = $1", world.employee), lambda n: n >= 1)
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        issued = await issue_code(conn, world.employee, issued_by="test", now=datetime.now(UTC))
    finally:
        await conn.close()
    browsers = Browsers(browser, base, screenshot_dir(Path(stack.data_dir)))
    name = world.names[world.employee]
    guru = await browsers.person(world.employee, name)

    # the link enrols by itself: no code, token or seed is typed
    await guru.goto(f"daftar/{issued.code}")
    done = guru.page.get_by_test_id("enrol-done")
    await done.wait_for(timeout=WAIT)
    assert name in await done.inner_text()
    await browsers.check(guru, "daftar")
    await guru.page.get_by_role("link", name="Mulai tugas penilaian").click()

    # her tasks: the peer (rekan), herself (diri), her Pejabat Penilai (bawahan), with the relation in words
    tasks = guru.page.get_by_test_id("tasks")
    await tasks.wait_for(timeout=WAIT)
    relations = {await x.get_attribute("data-nip"): await x.get_attribute("data-relation")
                 for x in await guru.page.get_by_test_id("task").all()}
    assert relations == {world.peer: "rekan", world.employee: "diri", world.penilai: "bawahan"}
    assert "Rekan kerja" in await tasks.inner_text() and "Diri sendiri" in await tasks.inner_text()
    await browsers.check(guru, "tugas")
    self_task = guru.page.locator(f"[data-testid=task][data-nip='{world.employee}']")
    await self_task.get_by_test_id("task-open").click()
    form = guru.page.locator(f"[data-testid=rate-form][data-nip='{world.employee}']")
    await form.wait_for(timeout=WAIT)
    # nothing chosen: said in words, nothing sent
    await form.get_by_test_id("rate-submit").click()
    await expect(form.locator("[data-testid=answer][data-status=error]")).to_be_visible()
    for value in VALUES:
        await form.get_by_test_id(f"rate-{value}-2").check()
    await form.get_by_test_id("rate-comment-kompeten").fill("Saya masih belajar aplikasi Dapodik")
    await browsers.check(guru, "tugas-form")
    await form.get_by_test_id("rate-submit").click()
    statuses = guru.page.locator(f"[data-testid=rate-form][data-nip='{world.employee}'] [data-testid=answer]")
    await expect(statuses).to_have_count(7, timeout=WAIT)
    assert {await s.get_attribute("data-status") for s in await statuses.all()} == {"accepted"}
    await expect(guru.page.locator(f"[data-testid=task][data-nip='{world.employee}']")).to_have_attribute(
        "data-done", "true", timeout=WAIT)
    await browsers.check(guru, "tugas-sent")
    rated = await wait_for(lambda: query_value(
        stack, "SELECT count(*) FROM scoring.events WHERE type = 'behaviour.rated' AND subject = $1 "
               "AND body->>'source' = $2", world.employee, f"nip:{world.employee}"), lambda n: n == 7)
    assert rated == 7

    await guru.goto("saya")
    await guru.page.locator("h1").wait_for(timeout=WAIT)
    await expect(guru.page.get_by_test_id("nav-tugas")).to_be_visible()
    await browsers.check(guru, "saya")

    # the session ends; a new tab of the same browser (same IndexedDB) signs in with the key, nothing typed but NIP
    await guru.context.clear_cookies()
    tab = await guru.context.new_page()
    await tab.goto(f"{base}/#/masuk")
    await tab.get_by_test_id("signin-nip").fill(world.employee)
    await tab.get_by_test_id("signin-submit").click()
    await expect(tab.get_by_test_id("signin-done")).to_contain_text(name, timeout=WAIT)
    await expect(tab.get_by_test_id("nav-saya")).to_be_visible()

    # another browser has no key for her NIP: said in words, with what to do; the lost-phone help is there
    other = await browsers.person(world.employee, "Peramban lain")
    await other.goto("masuk")
    await other.page.get_by_test_id("signin-nip").fill(world.employee)
    await other.page.get_by_test_id("signin-submit").click()
    error = other.page.get_by_test_id("signin-error")
    await expect(error).to_have_attribute("data-code", "no_key", timeout=WAIT)
    assert "BKPSDM" in await error.inner_text()
    assert "kode pendaftaran baru" in await other.page.get_by_test_id("lost-phone").inner_text()
    await other.page.get_by_test_id("signin-nip").fill("123")
    await other.page.get_by_test_id("signin-submit").click()
    await expect(other.page.get_by_test_id("signin-error")).to_have_attribute("data-code", "bad_nip")
    await browsers.check(other, "masuk")
    assert browsers.violations == {}, browsers.violations
