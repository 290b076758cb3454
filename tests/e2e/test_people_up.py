"""`objektif up` as a newcomer runs it (issue 16): the Candisari quarter up to the people's work, and an enrolment
link for a few demo people, one per role, that a browser can use; Ctrl-C leaves nothing running."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import async_playwright

from objektif import candisari
from objektif.demo_people import demo_people
from objektif.stack import ENV_DATABASE
from tests.e2e.people_browser import CHROMIUM, CHROMIUM_ARGS, PHONE, VALUES
from tests.e2e.world import leftover_processes

pytestmark = pytest.mark.e2e

DATABASE = "objektif_up_test"
LINK = re.compile(r"(http://127\.0\.0\.1:\d+)/#/daftar/([0-9A-Z]{5}-[0-9A-Z]{5})")


async def _read_until(proc: asyncio.subprocess.Process, marker: str, timeout: float) -> str:
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + timeout
    while marker not in seen and time.monotonic() < deadline:
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        if not line:
            break
        seen += line.decode()
    return seen


async def _drop(database: str) -> None:
    """Drop the database `up` made on the environment's server (the embedded one goes with the data directory)."""
    server = os.environ.get(ENV_DATABASE)
    if server:
        conn = await asyncpg.connect(server)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await conn.close()


async def test_up_publishes_the_open_quarter_and_prints_a_working_enrolment_link_per_demo_person(
        data_dir: Path) -> None:
    await _drop(DATABASE)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "objektif.cli", "up", "--demo", "--data-dir", str(data_dir), "--database", DATABASE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out = await _read_until(proc, "Objektif is running", 300)
        assert "Objektif is running" in out, out[-4000:]
        assert "ditolak 0" in out and "ditolak 1" not in out, out  # every machine-made submission accepted
        assert "penilaian perilaku" not in out  # the people's work is left to them
        links = LINK.findall(out)
        people = demo_people(candisari.build())
        assert len(links) == len(people) == 5
        for person in people:
            assert person.name in out and person.nip in out
        for role in ("Pegawai", "Rekan kerja", "Pejabat Penilai", "Atasan Pejabat Penilai", "Admin BKPSDM"):
            assert role in out
        teacher = people[0]
        base, code = links[0]
        # the teacher's link enrols her in a browser of her own; her tasks are those the structure gives
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await (await browser.new_context(viewport=PHONE)).new_page()
                await page.goto(f"{base}/#/daftar/{code}")
                await page.wait_for_selector("[data-testid=enrol-done]", timeout=30_000)
                await page.goto(f"{base}/#/tugas")
                await page.wait_for_selector("[data-testid=task]", timeout=30_000)
                tasks = await page.inner_text("[data-testid=tasks]")
                assert people[1].name in tasks  # a fellow teacher, as rekan
                assert teacher.name in tasks  # herself (diri)
                assert people[2].name in tasks  # her Kepala Sekolah, as bawahan
                # README's new-user path: she rates herself (diri), each value 1-3, and reads the gate's answer
                task = page.locator(f"[data-testid=task][data-nip='{teacher.nip}'][data-relation='diri']")
                await task.get_by_test_id("task-open").click()
                form = page.locator(f"[data-testid=rate-form][data-nip='{teacher.nip}']")
                for value in VALUES:
                    await form.get_by_test_id(f"rate-{value}-2").check()
                await form.get_by_test_id("rate-submit").click()
                answers = form.get_by_test_id("answer")
                await answers.nth(len(VALUES) - 1).wait_for(timeout=60_000)
                assert {await a.get_attribute("data-status") for a in await answers.all()} == {"accepted"}
                await page.wait_for_selector(f"[data-testid=task][data-nip='{teacher.nip}'][data-relation='diri']"
                                             "[data-done=true]", timeout=60_000)
            finally:
                await browser.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 60)
        except TimeoutError:
            proc.kill()
    await asyncio.sleep(1)
    assert leftover_processes(data_dir) == []
    await _drop(DATABASE)
