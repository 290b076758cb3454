"""Policies as data (REGULATION.md §0, and every **Policy** choice in §1-§3).

A policy file is YAML; `load_policy(bytes)` parses it into a frozen `Policy` whose `content_hash` is the
SHA-256 of the exact bytes, so every result can name the rules it used. Parsing bytes is not I/O: reading the
files is the adapter's job (`services.scoring.adapters.policy_files`). Decimal literals in YAML are read as
`Decimal` from their text, never through a binary float.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import yaml  # type: ignore[import-untyped]  # no stubs in the environment (types-PyYAML)
from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.envelope import period_year
from contracts.events import Rating
from services.scoring.domain.angka_kredit import AngkaKreditPolicy

PolicyId = Literal["permenpanrb-6-2022", "pp30-2019", "pp46-2011"]


class PolicyError(ValueError):
    """Base of the policy errors: a file that is not a valid policy, or no policy for a period."""


class NoRegimeForPeriod(PolicyError):
    """§0 names no appraisal regime for the period (before 2014, the DP3 era, is out of scope)."""


class PolicyNotAvailable(PolicyError):
    """The stream adopts a policy (id and content hash) that the caller did not supply."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Rounding(_Model):
    """How shown numbers are rounded; each stage is computed from the rounded numbers shown before it."""

    places: int = Field(ge=0, le=6)
    mode: Literal["half_up", "half_even"] = "half_up"


class CapaianRules(_Model):
    """§1.3 capaian per IKI (PermenPANRB 8/2021 formulas): scale cap, floor, and the value inside a range."""

    cap: Decimal
    floor: Decimal
    within_range: Decimal


class Bands3(_Model):
    """Thresholds mapping a number onto Di Atas / Sesuai / Di Bawah (§1.3 evidence rating, §1.4 behaviour)."""

    di_atas_min: Decimal
    sesuai_min: Decimal


class CurveCheck(_Model):
    """One §1.7 constraint: `largest` (these labels are the largest group), `at_most`/`at_least` a percentage,
    or `min_count` employees."""

    check: Literal["largest", "at_most", "at_least", "min_count"]
    labels: tuple[str, ...] = Field(min_length=1)
    value: int | None = None

    @property
    def limit(self) -> Fraction:
        """The limit as an exact share (percentages) or count."""
        if self.value is None:
            raise PolicyError(f"curve check {self.check} needs a value")
        return Fraction(self.value, 100) if self.check in ("at_most", "at_least") else Fraction(self.value)


class Kurva(_Model):
    """§1.7: default mode, and the checks per organisation predicate."""

    mode: Literal["warn", "block"]
    rules: dict[str, tuple[CurveCheck, ...]]


class Behaviour(_Model):
    """§1.4 multi-rater policy: relation weights (renormalised over relations present) and bands."""

    weights: dict[Literal["atasan", "rekan", "bawahan", "diri"], Decimal]
    bands: Bands3


class Bias(_Model):
    """§1.4 rater bias: relations left out of bias measures, the places alpha is shown with, and whether the
    unit summary corrects each rater's scores for his or her measured leniency ("A policy may correct
    leniency"): `none` (measured and reported only) or `leniency` (`services.scoring.domain.correction`)."""

    exclude_relations: tuple[str, ...] = ("diri",)
    alpha_places: int = 3
    correction: Literal["none", "leniency"] = "none"


class PermenSettings(_Model):
    """Settings of the PermenPANRB 6/2022 regime (§1.3-§1.8)."""

    capaian: CapaianRules
    evidence_rating: Bands3
    behaviour: Behaviour
    unjustified_divergence: Literal["use_evidence", "use_pejabat_penilai"]
    kurva: Kurva
    annual: Literal["own", "worst-period", "mean"]
    bias: Bias = Bias()
    leader_rating: dict[str, Rating] = Field(
        default_factory=dict, description="§1.3: a unit leader's rating hasil kerja from the unit's predicate"
    )


class Band(_Model):
    """A predicate band: the predicate applies from `min` upward (the first matching band wins)."""

    predikat: str
    min: Decimal
    requires_innovation: bool = False


class Pp30Settings(_Model):
    """§2.2: weights (70/30, or 60/40 with peer and subordinate input), scale maximum, bands."""

    capaian: CapaianRules
    weights: Decimal = Field(description="share of the SKP value without peer input (0.70)")
    weights_multi_rater: Decimal = Field(description="share of the SKP value with peer input (0.60)")
    scale_max: Decimal
    bands: tuple[Band, ...]


class Pp46Settings(_Model):
    """§3: weights, the time/cost efficiency constants, bands, tugas tambahan steps and kreativitas values."""

    weight_skp: Decimal
    factor: Decimal
    efficiency_threshold: Decimal
    base: Decimal
    floor: Decimal
    bands: tuple[Band, ...]
    tugas_tambahan: tuple[tuple[int, Decimal], ...] = Field(
        description="(minimum count, bonus), largest first"
    )
    kreativitas: dict[str, Decimal]


class Keberatan(_Model):
    """§2.4 Policy: the Atasan Pejabat Penilai's decision deadline, in calendar days from the filing (no rule
    found; a missed deadline is reported, not silently passed)."""

    decision_days: int = Field(default=14, ge=1, le=366)


class Policy(_Model):
    """A versioned policy; `content_hash` is the SHA-256 hex of the file's bytes. `angka_kredit` is the §5 policy
    that goes with it (its own file, version and hash, named on each credit), attached by the adapter that reads
    the files to the regime whose predikat it converts (PermenPANRB 6/2022)."""

    id: PolicyId
    version: str
    content_hash: str
    rounding: Rounding
    permenpanrb: PermenSettings | None = None
    pp30: Pp30Settings | None = None
    pp46: Pp46Settings | None = None
    keberatan: Keberatan = Keberatan()
    angka_kredit: AngkaKreditPolicy | None = None

    @model_validator(mode="after")
    def _section_matches_id(self) -> Policy:
        section = {"permenpanrb-6-2022": self.permenpanrb, "pp30-2019": self.pp30, "pp46-2011": self.pp46}
        if section[self.id] is None:
            raise ValueError(f"policy {self.id} lacks its settings section")
        return self

    def ref(self) -> dict[str, str]:
        """The policy's identity as results name it."""
        return {"id": self.id, "version": self.version, "content_hash": self.content_hash}


class _DecimalLoader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader that reads YAML floats as `Decimal` from their literal text."""


def _decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    return Decimal(str(loader.construct_scalar(node)).replace("_", ""))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal)


def _mapping(data: bytes) -> dict[str, Any]:
    try:
        raw: Any = yaml.load(data, Loader=_DecimalLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy file is not YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise PolicyError("policy file must be a mapping")
    return {**raw, "content_hash": hashlib.sha256(data).hexdigest()}


def load_policy(data: bytes) -> Policy:
    """Parse a policy file's bytes into a frozen `Policy` carrying the bytes' SHA-256 as `content_hash`."""
    return Policy.model_validate(_mapping(data))


def load_angka_kredit(data: bytes) -> AngkaKreditPolicy:
    """Parse the angka kredit policy file (§5) into a frozen `AngkaKreditPolicy` carrying its bytes' SHA-256."""
    return AngkaKreditPolicy.model_validate(_mapping(data))


#: §0: the last month of each period kind, to find the regime in force at the period's end.
_LAST_MONTH = {"": 12, "Q1": 3, "Q2": 6, "Q3": 9, "Q4": 12, "S1": 6, "S2": 12}


def regime_for_period(period: str) -> PolicyId:
    """The regime in force at the end of `period` (§0): PP 46/2011 from 2014 to June 2021, PP 30/2019 with
    PermenPANRB 8/2021 from July to December 2021, PermenPANRB 6/2022 from 2022. The annual period 2021 ends
    under PP 30/2019, so it is scored by it; its first half is the period 2021-S1 under PP 46/2011."""
    year = period_year(period)
    month = _LAST_MONTH[period[5:]]
    if year < 2014:
        raise NoRegimeForPeriod(f"no appraisal regime in REGULATION.md §0 for {period}")
    if year < 2021 or (year == 2021 and month <= 6):
        return "pp46-2011"
    if year == 2021:
        return "pp30-2019"
    return "permenpanrb-6-2022"


def select_policy(period: str, adopted: tuple[str, str] | None, policies: Mapping[str, Policy]) -> Policy:
    """The policy for a stream: the adopted one (`(policy_id, content_hash)`) when a `policy.adopted` event is
    in force, else the regime of the period (§0). An adopted policy must be supplied with the same content
    hash."""
    if adopted is not None:
        policy_id, content_hash = adopted
        for policy in policies.values():
            if policy.id == policy_id and policy.content_hash == content_hash:
                return policy
        raise PolicyNotAvailable(
            f"policy {policy_id} with content hash {content_hash} was adopted but not supplied"
        )
    regime = regime_for_period(period)
    if regime in policies:
        return policies[regime]
    for policy in policies.values():
        if policy.id == regime:
            return policy
    raise PolicyNotAvailable(f"no policy {regime} supplied for period {period}")
