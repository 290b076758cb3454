"""§0 and the policy files: the regime follows the period; a policy is data with a content hash."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal

import pytest

from services.scoring.adapters.policy_files import POLICY_DIR
from services.scoring.domain.policy import (
    NoRegimeForPeriod,
    Policy,
    PolicyError,
    PolicyNotAvailable,
    load_policy,
    regime_for_period,
    select_policy,
)


@pytest.mark.parametrize(
    ("period", "regime"),
    [
        ("2014", "pp46-2011"),
        ("2019", "pp46-2011"),
        ("2021-Q1", "pp46-2011"),
        ("2021-Q2", "pp46-2011"),
        ("2021-S1", "pp46-2011"),
        ("2021-Q3", "pp30-2019"),
        ("2021-Q4", "pp30-2019"),
        ("2021-S2", "pp30-2019"),
        ("2021", "pp30-2019"),
        ("2022-Q1", "permenpanrb-6-2022"),
        ("2022", "permenpanrb-6-2022"),
        ("2025-Q3", "permenpanrb-6-2022"),
    ],
)
def test_the_regime_follows_the_period(period: str, regime: str) -> None:
    assert regime_for_period(period) == regime


def test_a_period_before_2014_has_no_regime() -> None:
    with pytest.raises(NoRegimeForPeriod):
        regime_for_period("2013")


def test_the_content_hash_is_the_sha256_of_the_file_bytes() -> None:
    data = (POLICY_DIR / "pp46-2011.yaml").read_bytes()
    assert load_policy(data).content_hash == hashlib.sha256(data).hexdigest()


def test_a_changed_byte_changes_the_content_hash() -> None:
    data = (POLICY_DIR / "pp46-2011.yaml").read_bytes()
    assert load_policy(data).content_hash != load_policy(data + b"\n").content_hash


def test_yaml_decimals_are_read_exactly_not_through_binary_floats() -> None:
    policy = load_policy((POLICY_DIR / "pp46-2011.yaml").read_bytes())
    assert policy.pp46 is not None
    assert policy.pp46.factor == Decimal("1.76")
    assert str(policy.pp46.weight_skp) == "0.60"


def test_a_policy_without_its_settings_section_is_refused() -> None:
    with pytest.raises(ValueError, match="lacks its settings"):
        load_policy(b'id: pp30-2019\nversion: "1"\nrounding: {places: 2}\n')


def test_a_policy_file_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(PolicyError):
        load_policy(b"- just\n- a list\n")


def test_an_adopted_policy_must_be_supplied_with_the_same_hash(policies: Mapping[str, Policy]) -> None:
    with pytest.raises(PolicyNotAvailable):
        select_policy("2025", ("permenpanrb-6-2022", "0" * 64), policies)


def test_an_adopted_policy_overrides_the_period(policies: Mapping[str, Policy]) -> None:
    pp30 = policies["pp30-2019"]
    assert select_policy("2025", (pp30.id, pp30.content_hash), policies) is pp30
