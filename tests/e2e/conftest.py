"""Fixtures of the end-to-end tests that drive pages: Debian's Chromium through Playwright (never a downloaded
browser), one per test unless a module keeps its own longer-lived one (test_people_cycle)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from playwright.async_api import Browser, async_playwright

from tests.e2e.people_browser import CHROMIUM, CHROMIUM_ARGS


@pytest_asyncio.fixture(loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()
