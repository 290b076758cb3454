"""Fixtures for the scoring core's tests: the policies shipped with the service."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from services.scoring.adapters.policy_files import load_default_policies
from services.scoring.domain.policy import Policy


@pytest.fixture(scope="session")
def policies() -> Mapping[str, Policy]:
    return load_default_policies()


@pytest.fixture(scope="session")
def permen(policies: Mapping[str, Policy]) -> Policy:
    return policies["permenpanrb-6-2022"]


@pytest.fixture(scope="session")
def pp30(policies: Mapping[str, Policy]) -> Policy:
    return policies["pp30-2019"]


@pytest.fixture(scope="session")
def pp46(policies: Mapping[str, Policy]) -> Policy:
    return policies["pp46-2011"]
