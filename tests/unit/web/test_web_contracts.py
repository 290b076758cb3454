"""The compose file wires the services' HTTP side into their health checks (the AsyncAPI document's tests are
in tests/contract/test_asyncapi.py)."""

from __future__ import annotations

from typing import Any

import yaml

from objektif.asyncapi import DOCUMENT
from objektif.stack import SERVICES


def _compose() -> dict[str, Any]:
    return yaml.safe_load(
        (DOCUMENT.parent.parent / "deploy" / "docker-compose.yml").read_text(encoding="utf-8")
    )


def test_every_service_in_compose_serves_http_so_its_health_check_reaches_healthz() -> None:
    services = _compose()["services"]
    for name in SERVICES:
        env = services[name]["environment"]
        assert env[f"OBJEKTIF_{name.upper()}_HTTP_PORT"] == "8080", name
        # objektif.health asks /healthz whenever http_port is set (objektif/health.py)
        assert services[name]["healthcheck"]["test"] == ["CMD", "python", "-m", "objektif.health", name]


def test_the_web_page_is_published_for_every_scaled_scoring_instance() -> None:
    scoring = _compose()["services"]["scoring"]
    assert scoring["ports"] == ["8080-8082:8080"]
    assert scoring["environment"]["OBJEKTIF_SCORING_TOKEN_SECRET"].startswith("${OBJEKTIF_TOKEN_SECRET:?")
