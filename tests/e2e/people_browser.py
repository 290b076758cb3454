"""The people's browser test's harness: one browser context per person (Debian's Chromium through Playwright),
axe-core on every page visited, screenshots at 360 and 1280 px, and a small organisation whose people enrol
themselves (no person key is registered by the administrator here: each registers his or her own, made in the
browser, with a code).

axe-core comes from the npm registry (`make axe`, pinned in the Makefile) into tests/e2e/node/.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, Request, expect

from contracts.signing import b64, public_key_bytes, sign_batch, sign_envelope
from tests.e2e.world import AT, World, _nip, wait_for

CHROMIUM = "/usr/bin/chromium"
#: The seven BerAKHLAK values as the rating form names them (REGULATION.md §1.4).
VALUES = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
WAIT = 30_000  # ms: how long a page may take to show what the test waits for (Playwright polls meanwhile)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
AXE_JS = Path(__file__).parent / "node" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = "OBJEKTIF_SCREENSHOT_DIR"
WIDTHS = (360, 1280)
PHONE = {"width": 360, "height": 780}

#: axe-core's run, reduced to what a report needs; only serious and critical violations are kept
AXE_RUN = """async () => {
  const result = await window.axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + " — " + (n.failureSummary || "").split("\\n")[1])}));
}"""


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (axe injected once per document)."""
    if not AXE_JS.exists():
        raise AssertionError(f"{AXE_JS} is missing: run `make axe` (axe-core from npm)")
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE_JS))
    return list(await page.evaluate(AXE_RUN))


@dataclass
class PeopleWorld(World):
    """`World`'s organisation with a chain of three: the Atasan (the Pejabat Penilai's Pejabat Penilai), the
    Pejabat Penilai, the employee and a peer under him or her; an outsider under the Atasan (no relation to the
    employee); and a BKPSDM administrator. Only the departmental system's key is registered by the administrator."""

    def __post_init__(self) -> None:
        super().__post_init__()
        base = int(hashlib.sha256(self.tag.encode()).hexdigest()[:8], 16)  # as World's, so no NIP repeats
        self.atasan = _nip(base + 3)
        self.outsider = _nip(base + 4)
        self.admin = _nip(base + 5)
        self.names = {self.atasan: "Kepala Dinas Uji", self.penilai: "Kepala Sekolah Uji",
                      self.employee: "Guru Uji", self.peer: "Guru Rekan", self.outsider: "Guru Lain",
                      self.admin: "Analis SDM Uji"}

    def registrations(self) -> list[dict[str, Any]]:
        return [sign_envelope(self.envelope("source.registered", self.system, {
            "source_id": self.system, "kind": "system", "public_key": b64(public_key_bytes(self.key(self.system))),
            "units": [self.unit], "indicators": ["aps"]}, "admin", AT - timedelta(days=1)), self.stack.admin_key())]

    def structure(self) -> list[dict[str, Any]]:
        events = [self.envelope("org.unit.registered", self.unit, {
            "unit_id": self.unit, "name": f"SD Negeri Uji {self.tag}", "kind": "uptd"}, self.system)]
        chain = ((self.atasan, "Kepala Dinas", None), (self.penilai, "Kepala Sekolah", self.atasan),
                 (self.employee, "Guru", self.penilai), (self.peer, "Guru", self.penilai),
                 (self.outsider, "Guru", self.atasan), (self.admin, "Analis SDM Aparatur", self.atasan))
        for nip, jabatan, penilai in chain:
            events.append(self.envelope("employee.assigned", nip, {
                "nip": nip, "name": self.names[nip], "unit_id": self.unit,
                "position_id": f"{self.unit}.{jabatan.replace(' ', '-')}",  # the contract refuses spaces
                "jabatan": jabatan, "pejabat_penilai_nip": penilai, "effective_from": AT.isoformat(),
                # a guru is a jabatan fungsional: her result earns angka kredit (REGULATION.md §5)
                **({"jenjang_fungsional": "Ahli Pertama"} if nip == self.employee else {})}, self.system))
        events.append(self.envelope("skp.planned", self.employee, {
            "pejabat_penilai_nip": self.penilai,
            "rhk": [{"rhk_id": "rhk-1", "title": "Meningkatnya partisipasi sekolah", "iki": [{
                "iki_id": "aps", "name": "Angka Partisipasi Sekolah", "target": {"low": "97", "high": "99"},
                "unit": "%", "direction": "higher"}]}]}, self.system, AT + timedelta(days=1)))
        return sign_batch(events, self.key(self.system))


@dataclass
class Person:
    """One person's own browser context (and so his or her own IndexedDB, key and session cookie)."""

    nip: str
    name: str
    context: BrowserContext
    page: Page
    base: str
    #: the request bodies the page posted, by path (what a replay re-sends, byte for byte)
    posted: dict[str, list[bytes]] = field(default_factory=dict)

    async def goto(self, route: str) -> None:
        """Open `#/route`, drawn afresh (the same address again is a reload: no hash change would redraw it)."""
        url = f"{self.base}/#/{route}"
        if self.page.url == url:
            await self.page.reload()
        else:
            await self.page.goto(url)

    async def csrf(self) -> str:
        """The session's CSRF token, as the page gets it (GET /api/me)."""
        me = await self.page.evaluate("fetch('/api/me', {credentials: 'same-origin'}).then(r => r.json())")
        return str(me["csrf"])

    async def post(self, path: str, body: bytes | str, *, csrf: bool = True) -> tuple[int, Any]:
        """POST raw bytes from this person's page with his or her session cookie (and CSRF header)."""
        headers = {"Content-Type": "application/json"}
        if csrf:
            headers["X-Objektif-CSRF"] = await self.csrf()
        text = body.decode() if isinstance(body, bytes) else body
        answer = await self.page.evaluate("""async ([path, text, headers]) => {
            const r = await fetch(path, {method: "POST", body: text, headers, credentials: "same-origin"});
            let body = null; try { body = await r.json(); } catch (e) { body = null; }
            return [r.status, body]; }""", [path, text, headers])
        return int(answer[0]), answer[1]


class Browsers:
    """Opens each person's context and keeps what every visited page's axe-core run found."""

    def __init__(self, browser: Browser, base: str, shots: Path) -> None:
        self.browser = browser
        self.base = base
        self.shots = shots
        self.violations: dict[str, list[dict[str, Any]]] = {}
        self.visited: list[str] = []

    async def person(self, nip: str, name: str) -> Person:
        # bypass_csp: axe-core is injected as a script the page's CSP ('self') would refuse; the page's own
        # behaviour is unchanged
        context = await self.browser.new_context(viewport=PHONE, bypass_csp=True, locale="id-ID")
        page = await context.new_page()
        person = Person(nip, name, context, page, self.base)

        def record(request: Request) -> None:
            if request.method == "POST" and request.url.startswith(self.base):
                path = request.url[len(self.base):]
                person.posted.setdefault(path, []).append(request.post_data_buffer or b"")

        page.on("request", record)
        return person

    async def check(self, person: Person, label: str) -> None:
        """axe-core on the page as it is, and screenshots at 360 and 1280 px (restoring the phone's size)."""
        name = f"{label}-{re.sub(r'[^a-z0-9]+', '-', person.name.lower()).strip('-')}"
        self.visited.append(name)
        found = await serious_violations(person.page)
        if found:
            self.violations[name] = found
        for width in WIDTHS:
            await person.page.set_viewport_size({"width": width, "height": 900 if width > 600 else 780})
            await person.page.screenshot(path=str(self.shots / f"people-{name}-{width}.png"), full_page=True)
        await person.page.set_viewport_size(PHONE)


async def scoring_ready(base: str) -> None:
    """Wait until the scoring service's HTTP side answers /readyz."""

    def probe() -> int:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=5) as answer:
                return int(answer.status)
        except OSError:
            return 0

    await wait_for(lambda: asyncio.to_thread(probe), lambda status: status == 200, timeout=90)


def screenshot_dir(default: Path) -> Path:
    path = Path(os.environ.get(SCREENSHOTS) or default)
    path.mkdir(parents=True, exist_ok=True)
    return path


async def fetch_json(page: Page, path: str) -> Any:
    """GET `path` from the page with its session cookie: the JSON body."""
    return await page.evaluate("p => fetch(p, {credentials: 'same-origin'}).then(r => r.json())", path)


async def gate_answer(page: Page, scope: str) -> str:
    """The gate's answer shown under `scope` (a CSS selector), once it is there: its `data-status`."""
    box = page.locator(f"{scope} [data-testid=answer]").last
    await box.wait_for(timeout=WAIT)
    status = await box.get_attribute("data-status")
    assert status, await box.inner_text()
    return status


async def enrol(browsers: Browsers, nip: str, name: str, code: str) -> Person:
    """A new browser context opens #/daftar/CODE: it makes its key, enrols and signs in by itself."""
    person = await browsers.person(nip, name)
    await person.goto(f"daftar/{code}")
    done = person.page.get_by_test_id("enrol-done")
    await done.wait_for(timeout=WAIT)
    assert name in await done.inner_text()
    return person


async def issue(admin: Person, nip: str) -> str:
    """The admin issues a code on the Administrasi page (open there); the code as the page shows it."""
    page = admin.page
    await page.get_by_test_id("admin-nip").fill(nip)
    await page.get_by_test_id("admin-issue").click()
    await expect(page.locator(".issued")).to_contain_text(f"NIP {nip}", timeout=WAIT)
    link = await page.get_by_test_id("admin-link").inner_text()
    code = (await page.get_by_test_id("admin-code").inner_text()).strip()
    assert link.endswith(f"/#/daftar/{code}"), link
    return code


async def browsers_with_admin(stack: Any, browser: Browser, world: PeopleWorld, *evidence: dict[str, Any]
                              ) -> tuple[Browsers, Person]:
    """The world's structure and `evidence` accepted, the scoring service's pages up, and the world's BKPSDM
    administrator enrolled in a browser of his own with a code issued straight in the store (the first admin)."""
    import asyncpg

    from objektif.pipeline import publish
    from services.scoring.adapters.people_store import issue_code
    from tests.e2e.world import query_value

    await world.setup()
    if evidence:
        await publish(stack.kafka_bootstrap, list(evidence))
        await wait_for(lambda: world.accepted([e["event_id"] for e in evidence]), lambda n: n == len(evidence))
    base = f"http://127.0.0.1:{stack.http_ports['scoring']}"
    await scoring_ready(base)
    browsers = Browsers(browser, base, screenshot_dir(Path(stack.data_dir)))
    await wait_for(lambda: query_value(stack, "SELECT count(*) FROM scoring.events WHERE type = 'employee.assigned' "
                                              "AND subject = $1", world.admin), lambda n: n >= 1)
    conn = await asyncpg.connect(stack.admin_dsn)
    try:
        first = await issue_code(conn, world.admin, grants=["admin"], issued_by="test", now=datetime.now(UTC))
    finally:
        await conn.close()
    return browsers, await enrol(browsers, world.admin, world.names[world.admin], first.code)
