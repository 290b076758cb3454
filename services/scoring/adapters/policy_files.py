"""Reading the policy files shipped with the scoring service (REGULATION.md §0). The only I/O of policies:
the domain parses bytes (`services.scoring.domain.policy.load_policy`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from services.scoring.domain.policy import Policy, load_policy

#: The directory holding `permenpanrb-6-2022.yaml`, `pp30-2019.yaml`, `pp46-2011.yaml`.
POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"

DEFAULT_POLICY_IDS = ("permenpanrb-6-2022", "pp30-2019", "pp46-2011")


def load_policy_file(path: Path) -> Policy:
    """Read and parse one policy file; its content hash is over the file's exact bytes."""
    return load_policy(path.read_bytes())


def load_policies(directory: Path = POLICY_DIR) -> Mapping[str, Policy]:
    """Every `*.yaml` policy in `directory`, keyed by policy id (one file per id)."""
    policies: dict[str, Policy] = {}
    for path in sorted(directory.glob("*.yaml")):
        policy = load_policy_file(path)
        if policy.id in policies:
            raise ValueError(f"two files define policy {policy.id} in {directory}")
        policies[policy.id] = policy
    return MappingProxyType(policies)


def load_default_policies() -> Mapping[str, Policy]:
    """The three policies shipped in the package, keyed by id."""
    policies = load_policies(POLICY_DIR)
    missing = set(DEFAULT_POLICY_IDS) - set(policies)
    if missing:
        raise FileNotFoundError(f"policy files missing from {POLICY_DIR}: {sorted(missing)}")
    return policies
