"""People in the loop (issue 16, ADR 0007), end to end in Debian's Chromium: enrolment by code, sign-in with the
browser-held key, every act signed in the browser and decided by the evidence gate."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser

from objektif.stack import Stack
from tests.e2e.people_browser import (
    Browsers,
    scoring_ready,
    screenshot_dir,
    serious_violations,
)

pytestmark = pytest.mark.e2e


async def test_axe_core_finds_what_a_screen_reader_user_would_miss_and_nothing_on_the_sign_in_page(
        stack: Stack, browser: Browser) -> None:
    base = f"http://127.0.0.1:{stack.http_ports['scoring']}"
    await scoring_ready(base)
    browsers = Browsers(browser, base, screenshot_dir(Path(stack.data_dir)))
    guest = await browsers.person("-", "tamu")
    await guest.goto("masuk")
    await guest.page.wait_for_load_state("networkidle")
    await browsers.check(guest, "masuk")
    assert browsers.violations == {}
    # the helper does see: a button without a name and an image without alt, added to the same page
    await guest.page.evaluate("""() => {
        const b = document.createElement("button"); document.body.append(b);
        const i = document.createElement("img"); i.src = "/favicon.ico"; document.body.append(i); }""")
    found = {v["id"] for v in await serious_violations(guest.page)}
    assert {"button-name", "image-alt"} <= found, found
    await guest.context.close()
