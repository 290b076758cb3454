"""The appeal dossier over HTTP (services/audit/adapters/dossier_web.py): the auditors' bearer token opens it,
nothing else does; an employee and period with nothing ledgered is a 404; the page is the one `gather` and
`render_html` make."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from audit_app_data import NIP, NOW, PERIOD, SIGNER, evidence, ledger, realisation, score
from starlette.applications import Starlette

from contracts import topics
from services.audit.adapters.dossier_web import dossier_routes
from services.audit.app.checkpoints import issue_checkpoint
from services.audit.app.dossier import gather, render_html

TOKEN = "auditors-token-for-the-test"


@pytest.fixture
async def client(pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=dossier_routes(lambda: pool, TOKEN, SIGNER.verifier_key()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://audit") as c:
        yield c


async def test_the_auditors_token_opens_the_dossier_page(pool: asyncpg.Pool, conn: asyncpg.Connection,
                                                          client: httpx.AsyncClient) -> None:
    e1 = realisation("d1", 1, "5")
    await ledger(pool, *evidence(e1), (topics.SCORES, score([e1])))
    issued = await issue_checkpoint(conn, SIGNER, NOW)
    page = await client.get(f"/dossiers/{NIP}/{PERIOD}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert str(e1.event_id) in page.text and SIGNER.verifier_key() in page.text
    assert issued.partitions.note.splitlines()[0] in page.text  # proofs under the checkpoint over every partition
    assert page.text == render_html(await gather(conn, NIP, PERIOD, vkey=SIGNER.verifier_key()))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        refused = await client.get(f"/dossiers/{NIP}/{PERIOD}", headers=headers)
        assert refused.status_code == 401 and str(e1.event_id) not in refused.text


async def test_nothing_ledgered_is_a_404_and_a_malformed_key_a_400(client: httpx.AsyncClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert (await client.get(f"/dossiers/{NIP}/{PERIOD}", headers=auth)).status_code == 404
    assert (await client.get(f"/dossiers/123/{PERIOD}", headers=auth)).status_code == 400
    assert (await client.get(f"/dossiers/{NIP}/2025-Q7", headers=auth)).status_code == 400


async def test_without_a_token_configured_the_dossier_is_closed_to_everyone(pool: asyncpg.Pool) -> None:
    app = Starlette(routes=dossier_routes(lambda: pool, None))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://audit") as c:
        assert (await c.get(f"/dossiers/{NIP}/{PERIOD}", headers={"Authorization": "Bearer "})).status_code == 401
