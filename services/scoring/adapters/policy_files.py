"""Reading the policy files shipped with the scoring service (REGULATION.md §0, §5). The only I/O of policies:
the domain parses bytes (`services.scoring.domain.policy.load_policy`, `load_angka_kredit`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from services.scoring.domain.policy import Policy, load_angka_kredit, load_policy

#: The directory holding `permenpanrb-6-2022.yaml`, `pp30-2019.yaml`, `pp46-2011.yaml` and `angka-kredit.yaml`.
POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"

DEFAULT_POLICY_IDS = ("permenpanrb-6-2022", "pp30-2019", "pp46-2011")
#: §5: the angka kredit policy, attached to the regime whose predikat it converts (PermenPANRB 6/2022).
ANGKA_KREDIT_FILE = "angka-kredit.yaml"


def load_policy_file(path: Path) -> Policy:
    """Read and parse one policy file; its content hash is over the file's exact bytes."""
    return load_policy(path.read_bytes())


def load_policies(directory: Path = POLICY_DIR) -> Mapping[str, Policy]:
    """Every `*.yaml` regime policy in `directory`, keyed by policy id (one file per id); when the directory
    holds `angka-kredit.yaml`, the PermenPANRB 6/2022 policy carries it (§5), else no result earns credit."""
    path = directory / ANGKA_KREDIT_FILE
    angka_kredit = load_angka_kredit(path.read_bytes()) if path.exists() else None
    policies: dict[str, Policy] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name == ANGKA_KREDIT_FILE:
            continue
        policy = load_policy_file(path)
        if policy.id in policies:
            raise ValueError(f"two files define policy {policy.id} in {directory}")
        if angka_kredit is not None and policy.permenpanrb is not None:
            policy = policy.model_copy(update={"angka_kredit": angka_kredit})
        policies[policy.id] = policy
    return MappingProxyType(policies)


def load_default_policies() -> Mapping[str, Policy]:
    """The three policies shipped in the package, keyed by id (PermenPANRB 6/2022 with the angka kredit policy)."""
    policies = load_policies(POLICY_DIR)
    missing = set(DEFAULT_POLICY_IDS) - set(policies)
    if missing:
        raise FileNotFoundError(f"policy files missing from {POLICY_DIR}: {sorted(missing)}")
    return policies
