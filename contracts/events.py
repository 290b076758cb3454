"""Typed payloads of Objektif's events, one class per `type` and `schema_version`.

Contracts are schemas, not behaviour (STYLE.md). Producers must match them exactly (`extra="forbid"` on intake);
changes are additive, and a breaking change is a new class plus an upcaster in `contracts.registry`.
Amounts that become scores are `Decimal`, serialised as JSON strings or numbers; never binary floats.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from contracts import pdp
from contracts.envelope import NIP_PATTERN

Nip = Annotated[str, Field(pattern=NIP_PATTERN, description="18-digit NIP")]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:/-]+$")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


def _plain_within(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        if not value.startswith(pdp.PREFIX) and len(value) > limit:
            raise ValueError(f"at most {limit} characters (a sealed value, pdp1:…, up to {pdp.SEALED_MAX})")
        return value

    return AfterValidator(check)


#: A personal field (contracts/pdp.py, ADR 0010): sealed to the subject's data key as `pdp1:<kid>:<…>`, or, in
#: history before sealing, plain text of at most 2,000 characters (the gate refuses plaintext now).
PersonalText = Annotated[
    str, Field(min_length=1, max_length=pdp.SEALED_MAX, description="sealed (pdp1:…), ADR 0010"), _plain_within(2000)
]
LongPersonalText = Annotated[
    str, Field(min_length=1, max_length=pdp.SEALED_MAX, description="sealed (pdp1:…), ADR 0010"), _plain_within(4000)
]


class Payload(BaseModel):
    """Base of every payload: immutable, and strict about unknown fields at the gate."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --- organisation structure (REGULATION.md §1.2, §2.3) ---------------------------------------------------------


class UnitKind(StrEnum):
    PEMERINTAH_KOTA = "pemerintah_kota"
    DINAS = "dinas"
    KECAMATAN = "kecamatan"
    KELURAHAN = "kelurahan"
    UPTD = "uptd"  # schools, puskesmas and other technical units
    BIDANG = "bidang"


class UnitRegistered(Payload):
    """An organisation unit exists (subject: the unit id)."""

    TYPE: ClassVar[str] = "org.unit.registered"
    unit_id: Id
    name: Text
    kind: UnitKind
    parent_unit_id: Id | None = None


class PositionRegistered(Payload):
    """A position (jabatan) in a unit (subject: the unit id)."""

    TYPE: ClassVar[str] = "org.position.registered"
    position_id: Id
    unit_id: Id
    title: Text
    jenis: Literal["struktural", "fungsional", "pelaksana"]
    is_unit_leader: bool = False


class JenjangFungsional(StrEnum):
    """The jenjang (grade) of a jabatan fungsional, whose annual koefisien angka kredit the policy names
    (REGULATION.md §5; PermenPANRB 1/2023): keahlian (Ahli …) and keterampilan (Pemula … Penyelia)."""

    AHLI_PERTAMA = "Ahli Pertama"
    AHLI_MUDA = "Ahli Muda"
    AHLI_MADYA = "Ahli Madya"
    AHLI_UTAMA = "Ahli Utama"
    PEMULA = "Pemula"
    TERAMPIL = "Terampil"
    MAHIR = "Mahir"
    PENYELIA = "Penyelia"

    @classmethod
    def _missing_(cls, value: object) -> JenjangFungsional | None:
        """Case and spacing as systems write them ("AHLI PERTAMA", "ahli_muda"); the schema lists the names."""
        if not isinstance(value, str):
            return None
        key = " ".join(value.replace("_", " ").replace("-", " ").split()).casefold()
        return next((j for j in cls if j.value.casefold() == key), None)


class EmployeeAssigned(Payload):
    """An employee holds a position, with the Pejabat Penilai Kinerja assigned by the structure (§2.3).

    Subject: the employee's NIP. The Atasan Pejabat Penilai is the Pejabat Penilai's own Pejabat Penilai, found
    from that person's assignment. The head of the region has no Pejabat Penilai in Objektif's data.
    `jenjang_fungsional` is set for a jabatan fungsional only: its angka kredit follows from the predikat (§5).
    """

    TYPE: ClassVar[str] = "employee.assigned"
    nip: Nip
    name: PersonalText
    unit_id: Id
    position_id: Id
    jabatan: Text
    pangkat_golongan: str | None = Field(default=None, max_length=60)
    pejabat_penilai_nip: Nip | None = None
    effective_from: datetime
    jenjang_fungsional: JenjangFungsional | None = Field(
        default=None, description="jabatan fungsional only (REGULATION.md §5): the jenjang its koefisien follows"
    )


# --- policy (REGULATION.md §0) -----------------------------------------------------------------------------------


class PolicyAdopted(Payload):
    """A policy (regime, thresholds, weights) is in force for a period (subject: a unit id or "*")."""

    TYPE: ClassVar[str] = "policy.adopted"
    policy_id: Literal["permenpanrb-6-2022", "pp30-2019", "pp46-2011"]
    policy_version: str = Field(min_length=1, max_length=20)
    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the policy file's bytes")


# --- the SKP plan (REGULATION.md §1.2) ----------------------------------------------------------------------------


class Direction(StrEnum):
    """Whether a larger realisation is better (§1.3)."""

    HIGHER_IS_BETTER = "higher"
    LOWER_IS_BETTER = "lower"


class Target(BaseModel):
    """A single value (`low == high`) or a range target (§1.3: "target 80–90%")."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    low: Decimal = Field(gt=0)
    high: Decimal = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Target:
        if self.low > self.high:
            raise ValueError("target.low must not exceed target.high")
        return self


class Iki(BaseModel):
    """Indikator Kinerja Individu: a measurable indicator with its target (§1.2, §1.3)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    iki_id: Id
    name: Text
    target: Target
    unit: str = Field(min_length=1, max_length=40, description="unit of measure: %, orang, dokumen, bulan …")
    direction: Direction = Direction.HIGHER_IS_BETTER
    aspect: Literal["kuantitas", "kualitas", "waktu", "biaya"] | None = None
    data_source: str | None = Field(
        default=None, max_length=200, description="which departmental system measures it (§1.2, 8/2021)"
    )


class Rhk(BaseModel):
    """Rencana Hasil Kerja: a planned result with its indicators (§1.2)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    rhk_id: Id
    title: Text
    kind: Literal["utama", "tambahan"] = "utama"
    weight: Decimal | None = Field(default=None, gt=0, description="weight in the mean; equal when absent")
    supports_rhk_id: Id | None = Field(default=None, description="the leader's RHK this one supports")
    iki: tuple[Iki, ...] = Field(min_length=1)


class SkpPlanned(Payload):
    """The employee's SKP for the period, agreed with the Pejabat Penilai (subject: the employee's NIP)."""

    TYPE: ClassVar[str] = "skp.planned"
    pejabat_penilai_nip: Nip
    rhk: tuple[Rhk, ...] = Field(min_length=1)
    ekspektasi: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _unique_ids(self) -> SkpPlanned:
        ids = [iki.iki_id for rhk in self.rhk for iki in rhk.iki]
        if len(ids) != len(set(ids)):
            raise ValueError("iki_id must be unique within a plan")
        if len({r.rhk_id for r in self.rhk}) != len(self.rhk):
            raise ValueError("rhk_id must be unique within a plan")
        return self


class EvidenceReference(BaseModel):
    """Where a realisation can be checked: the system, the document, and the hash of its content (§1.2)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    source_system: str = Field(min_length=1, max_length=120)
    document: str = Field(min_length=1, max_length=500, description="document id or URL")
    content_hash: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")


class RealisationRecorded(Payload):
    """A measured realisation of one IKI, with its evidence (subject: the employee's NIP).

    `value` is the realisation as of `occurred_at` (not an increment): a later realisation of the same IKI in the
    same period replaces an earlier one in scoring; a correction of a wrong value is a supersession instead.
    """

    TYPE: ClassVar[str] = "realisation.recorded"
    iki_id: Id
    value: Decimal = Field(ge=0)
    evidence: EvidenceReference
    note: PersonalText | None = None


# --- behaviour (REGULATION.md §1.4) ------------------------------------------------------------------------------


class BerakhlakValue(StrEnum):
    BERORIENTASI_PELAYANAN = "berorientasi_pelayanan"
    AKUNTABEL = "akuntabel"
    KOMPETEN = "kompeten"
    HARMONIS = "harmonis"
    LOYAL = "loyal"
    ADAPTIF = "adaptif"
    KOLABORATIF = "kolaboratif"


class RaterRelation(StrEnum):
    ATASAN = "atasan"
    REKAN = "rekan"
    BAWAHAN = "bawahan"
    DIRI = "diri"


class BehaviourRated(Payload):
    """One rater's score of one BerAKHLAK value: 1 Di Bawah, 2 Sesuai, 3 Di Atas Ekspektasi (§1.4)."""

    TYPE: ClassVar[str] = "behaviour.rated"
    rater_nip: Nip
    relation: RaterRelation
    value: BerakhlakValue
    score: int = Field(ge=1, le=3)
    feedback: PersonalText | None = None


class Rating(StrEnum):
    """The three levels of §1.3 and §1.4."""

    DI_ATAS = "Di Atas Ekspektasi"
    SESUAI = "Sesuai Ekspektasi"
    DI_BAWAH = "Di Bawah Ekspektasi"

    @classmethod
    def _missing_(cls, value: object) -> Rating | None:
        """§1.5: labels arrive as "Diatas", "DI ATAS EKSPEKTASI", "Dibawah": ignore case, spaces, "_", "-" and
        the word "Ekspektasi". The JSON Schema still lists only the three canonical labels."""
        if not isinstance(value, str):
            return None
        key = "".join(ch for ch in value if ch not in " \t_-").upper().removesuffix("EKSPEKTASI")
        return {"DIATAS": cls.DI_ATAS, "SESUAI": cls.SESUAI, "DIBAWAH": cls.DI_BAWAH}.get(key)


class PejabatPenilaiRated(Payload):
    """The Pejabat Penilai's own ratings (§1.3, §1.4); a divergence from the evidence needs a justification."""

    TYPE: ClassVar[str] = "rating.pejabat_penilai"
    rater_nip: Nip
    rating_hasil_kerja: Rating | None = None
    rating_perilaku: Rating | None = None
    justification: LongPersonalText | None = None

    @model_validator(mode="after")
    def _something_rated(self) -> PejabatPenilaiRated:
        if self.rating_hasil_kerja is None and self.rating_perilaku is None:
            raise ValueError("at least one of rating_hasil_kerja, rating_perilaku is required")
        return self


class FeedbackGiven(Payload):
    """Umpan balik berkelanjutan: feedback that refers to evidence (§1.1, §4)."""

    TYPE: ClassVar[str] = "feedback.given"
    from_nip: Nip
    text: PersonalText
    refers_to: tuple[UUID, ...] = ()


# --- the unit and the period (REGULATION.md §1.6, §1.7) -----------------------------------------------------------


class OrgPredicate(StrEnum):
    ISTIMEWA = "Istimewa"
    BAIK = "Baik"
    BUTUH_PERBAIKAN = "Butuh Perbaikan"
    KURANG = "Kurang"
    SANGAT_KURANG = "Sangat Kurang"


class OrgPredicateSet(Payload):
    """The unit's performance predicate for the period, set by the leader one level up (subject: unit id)."""

    TYPE: ClassVar[str] = "org.predicate.set"
    unit_id: Id
    predicate: OrgPredicate
    set_by_nip: Nip
    curve_mode: Literal["warn", "block"] | None = None


class PeriodClosed(Payload):
    """The period is closed for an employee (subject: NIP) or a whole unit (subject: unit id)."""

    TYPE: ClassVar[str] = "period.closed"
    closed_by: str = Field(min_length=1, max_length=120)
    evaluation: Literal["periodik", "tahunan"] = "periodik"


# --- derived events: scores and rejections -------------------------------------------------------------------


class ScoreComputed(Payload):
    """The scoring service's result for one employee and period (subject: NIP); carries its basis."""

    TYPE: ClassVar[str] = "score.computed"
    result: dict[str, object]
    basis_event_ids: tuple[UUID, ...]
    basis_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    policy: str


class RejectionReason(BaseModel):
    """One machine-readable reason, with a message in Bahasa Indonesia and in English."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str = Field(pattern=r"^[a-z][a-z0-9_.]*$")
    message_id: str
    message_en: str
    path: str | None = None


class SubmissionRejected(Payload):
    """A submission refused at the gate: why, and the exact bytes that were sent (base64)."""

    TYPE: ClassVar[str] = "submission.rejected"
    submission_event_id: UUID | None
    reasons: tuple[RejectionReason, ...] = Field(min_length=1)
    original_b64: str
    received_from: str
    received_at: datetime



# --- sources and keys (issue 6) ---------------------------------------------------------------------------------
# Registering a submitter, rotating and revoking its key are events signed by an administrator key
# (docs/signing.md). The subject of each is the source id.

#: Standard base64 of a raw 32-byte Ed25519 public key.
PublicKeyB64 = Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]{43}=$", description="base64 of 32 raw bytes")]
KeyId = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$", description="contracts.signing.key_id of a public key")]


class SourceKind(StrEnum):
    """A departmental system, one person (a rater, an appraised employee), or an administrator."""

    SYSTEM = "system"
    PERSON = "person"
    ADMIN = "admin"


class SourceRegistered(Payload):
    """A source may submit, with this key and within this scope (REGULATION.md §1.2, §1.4, §2.3).

    A system's scope is units (each covers its whole subtree) and the IKI ids it measures; a person's scope is his
    or her NIP. Registering an already registered source replaces its scope and makes this key its only one.
    """

    TYPE: ClassVar[str] = "source.registered"
    source_id: Id
    kind: SourceKind
    public_key: PublicKeyB64
    name: str | None = Field(default=None, max_length=200)
    units: tuple[Id, ...] = ()
    indicators: tuple[Id, ...] = ()
    nip: Nip | None = None

    @model_validator(mode="after")
    def _scope_fits_kind(self) -> SourceRegistered:
        if self.kind is SourceKind.PERSON and self.nip is None:
            raise ValueError("a person source needs its nip")
        if self.kind is not SourceKind.PERSON and self.nip is not None:
            raise ValueError("only a person source has a nip")
        if self.kind is not SourceKind.SYSTEM and (self.units or self.indicators):
            raise ValueError("only a system source has units and indicators")
        return self


class SourceKeyRotated(Payload):
    """The source signs with this new key from now on; its previous keys are retired at the same moment."""

    TYPE: ClassVar[str] = "source.key.rotated"
    source_id: Id
    public_key: PublicKeyB64


class SourceKeyRevoked(Payload):
    """A key is withdrawn (lost, compromised): nothing signed with it is accepted any more."""

    TYPE: ClassVar[str] = "source.key.revoked"
    source_id: Id
    key_id: KeyId
    reason: str | None = Field(default=None, max_length=2000)


class ResultDelivered(Payload):
    """An appraisal result reached the employee (subject: NIP); the objection deadline counts from here (§2.4)."""

    TYPE: ClassVar[str] = "result.delivered"
    result_event_id: UUID | None = None
    evaluation: Literal["periodik", "tahunan"] = "periodik"


class ObjectionFiled(Payload):
    """Keberatan: the appraised employee objects to a delivered result, with reasons (§2.4; subject: NIP)."""

    TYPE: ClassVar[str] = "objection.filed"
    reasons: PersonalText
    result_event_id: UUID | None = None


class ObjectionDecided(Payload):
    """The Atasan Pejabat Penilai's final decision on an objection (§2.4; subject: the objecting employee)."""

    TYPE: ClassVar[str] = "objection.decided"
    objection_event_id: UUID
    decided_by_nip: Nip
    outcome: Literal["ditolak", "diterima"]
    predikat: str | None = Field(default=None, max_length=40, description="the result as set, when changed")
    reasons: PersonalText


class FeedbackReference(BaseModel):
    """What a piece of feedback refers to: an event, and optionally the IKI or BerAKHLAK value it is about."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    event_id: UUID
    iki_id: Id | None = None
    value: BerakhlakValue | None = None


class FeedbackGivenV2(Payload):
    """`feedback.given` v2: each reference names the event and what it is about (§1.2 per-IKI umpan balik, §1.4).

    v1 (`FeedbackGiven`) referred to bare event ids; `contracts.registry` upcasts each to `{"event_id": id}`.
    """

    TYPE: ClassVar[str] = "feedback.given"
    SCHEMA_VERSION: ClassVar[int] = 2
    from_nip: Nip
    text: PersonalText
    refers_to: tuple[FeedbackReference, ...] = ()


# --- older regimes (REGULATION.md §2.2, §3) ---
# Appraisals under PP 46/2011 with Perka BKN 1/2013 (2014 to June 2021) and PP 30/2019 (July to December
# 2021), recorded or imported as facts of one employee and period (subject: the NIP).


class Pp46ActivityRecorded(Payload):
    """One SKP activity under PP 46/2011 (§3): output TO/RO, quality TK/RK, time TW/RW (in `time_unit`) and,
    when the activity has a budget, cost TB/RB. A later event for the same `activity_id` replaces the
    earlier."""

    TYPE: ClassVar[str] = "pp46.activity.recorded"
    activity_id: Id
    name: Text
    to: Decimal = Field(gt=0, description="target output (kuantitas)")
    ro: Decimal = Field(ge=0, description="realised output; 0 when the activity was not carried out")
    output_unit: str = Field(default="dokumen", min_length=1, max_length=40)
    tk: Decimal = Field(default=Decimal(100), gt=0, description="target quality, usually 100")
    rk: Decimal = Field(ge=0, description="realised quality")
    tw: Decimal = Field(gt=0, description="target time")
    rw: Decimal = Field(ge=0, description="realised time")
    time_unit: Literal["hari", "minggu", "bulan"] = "bulan"
    tb: Decimal | None = Field(default=None, ge=0, description="target cost; absent or 0 when no budget")
    rb: Decimal | None = Field(default=None, ge=0, description="realised cost")

    @model_validator(mode="after")
    def _cost_needs_budget(self) -> Pp46ActivityRecorded:
        if self.rb is not None and not self.tb:
            raise ValueError("rb (realised cost) needs tb (a budget)")
        return self


class Pp46TugasTambahanRecorded(Payload):
    """An additional task (tugas tambahan) carried out in the period (§3 step 6: 1-3 +1, 4-6 +2, 7+ +3)."""

    TYPE: ClassVar[str] = "pp46.tugas_tambahan.recorded"
    description: Text
    evidence: EvidenceReference | None = None


class Pp46KreativitasRecorded(Payload):
    """A creative contribution (kreativitas) and the level it benefits (§3 step 6; values from the policy)."""

    TYPE: ClassVar[str] = "pp46.kreativitas.recorded"
    description: Text
    level: Literal["unit_kerja", "organisasi", "negara"]
    evidence: EvidenceReference | None = None


class Pp46BehaviourScored(Payload):
    """One behaviour aspect under PP 46/2011, scored 0-100 (§3; kepemimpinan only for structural positions).
    A later score of the same aspect replaces the earlier."""

    TYPE: ClassVar[str] = "pp46.behaviour.scored"
    rater_nip: Nip
    aspect: Literal["orientasi_pelayanan", "integritas", "komitmen", "disiplin", "kerja_sama", "kepemimpinan"]
    nilai: Decimal = Field(ge=0, le=100)


class Pp30SkpValued(Payload):
    """The numeric SKP value under PP 30/2019 (§2.2, scale 0-120). Without one, the value is computed from the
    plan and realisations with the PermenPANRB 8/2021 formulas (§1.3)."""

    TYPE: ClassVar[str] = "pp30.skp.valued"
    rater_nip: Nip
    nilai_skp: Decimal = Field(ge=0, le=120)


class Pp30BehaviourValued(Payload):
    """The numeric behaviour value under PP 30/2019 (§2.2); `peer_input` when peers and direct subordinates
    contributed, which makes the weighting 60/40 instead of 70/30."""

    TYPE: ClassVar[str] = "pp30.behaviour.valued"
    rater_nip: Nip
    nilai_perilaku: Decimal = Field(ge=0, le=120)
    peer_input: bool = False


class Pp30InnovationRecorded(Payload):
    """An innovation recorded for the period: the condition for Sangat Baik under PP 30/2019 (§2.2)."""

    TYPE: ClassVar[str] = "pp30.innovation.recorded"
    title: Text
    evidence: EvidenceReference | None = None


# --- keberatan (issue 4) ---
# The objection lifecycle of REGULATION.md §2.4 (PP 30/2019 Pasal 59): the result is delivered (`result.delivered`),
# the appraised employee files (`objection.filed`), the Atasan Pejabat Penilai asks the Pejabat Penilai and the
# employee for explanations and they answer, then the Atasan decides. The decision is final by itself (§2.4 [P]:
# "keputusan … bersifat final"): there is no separate finality event. Subject of each: the objecting employee.


class ObjectionExplanationRequested(Payload):
    """The Atasan Pejabat Penilai asks the Pejabat Penilai and/or the employee to explain (§2.4 examination)."""

    TYPE: ClassVar[str] = "objection.explanation.requested"
    objection_event_id: UUID
    requested_by_nip: Nip
    from_nips: tuple[Nip, ...] = Field(min_length=1, max_length=2, description="the Pejabat Penilai, the employee")
    question: PersonalText

    @model_validator(mode="after")
    def _distinct(self) -> ObjectionExplanationRequested:
        if len(set(self.from_nips)) != len(self.from_nips):
            raise ValueError("from_nips must not repeat a person")
        return self


class ObjectionExplanationGiven(Payload):
    """A person asked for an explanation gives it (§2.4), optionally pointing at the events it is about."""

    TYPE: ClassVar[str] = "objection.explanation.given"
    request_event_id: UUID
    given_by_nip: Nip
    explanation: PersonalText
    refers_to: tuple[UUID, ...] = ()


class ModifiedRealisation(BaseModel):
    """A realisation as the Atasan sets it in a decision: it replaces the IKI's realisation in force."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    iki_id: Id
    value: Decimal = Field(ge=0)


class ObjectionDecidedV2(Payload):
    """`objection.decided` v2: the Atasan Pejabat Penilai's decision, final (§2.4: he or she "may change and
    set" the result). `ditolak`: the result stands. `diterima`: the result is re-scored with the modified
    ratings and realisations; under PermenPANRB 6/2022 the predikat then follows from the §1.5 matrix.
    `predikat` sets a predikat directly: what v1 did, and what the numeric regimes (§2.2, §3) need, where no
    matrix applies; it cannot be combined with modified ratings (the matrix would contradict it).

    v1 (`ObjectionDecided`) carried only `predikat`; `contracts.registry` upcasts it unchanged for `diterima`
    and drops it for `ditolak` (v1 scoring never applied a rejected decision's predikat)."""

    TYPE: ClassVar[str] = "objection.decided"
    SCHEMA_VERSION: ClassVar[int] = 2
    objection_event_id: UUID
    decided_by_nip: Nip
    outcome: Literal["ditolak", "diterima"]
    modified_rating_hasil_kerja: Rating | None = None
    modified_rating_perilaku: Rating | None = None
    modified_realisations: tuple[ModifiedRealisation, ...] = ()
    predikat: str | None = Field(default=None, max_length=40, description="a predikat set directly")
    reasons: PersonalText

    @property
    def modifies(self) -> bool:
        """Whether the decision changes anything in the result."""
        return bool(
            self.modified_rating_hasil_kerja
            or self.modified_rating_perilaku
            or self.modified_realisations
            or self.predikat
        )

    @model_validator(mode="after")
    def _consistent(self) -> ObjectionDecidedV2:
        if self.outcome == "ditolak" and self.modifies:
            raise ValueError("a rejected objection (ditolak) changes nothing: no modified_* and no predikat")
        if self.predikat and (self.modified_rating_hasil_kerja or self.modified_rating_perilaku):
            raise ValueError("predikat follows from the modified ratings (§1.5); do not set both")
        ids = [m.iki_id for m in self.modified_realisations]
        if len(ids) != len(set(ids)):
            raise ValueError("modified_realisations must name each iki_id once")
        return self


# --- personal data (UU 27/2022 PDP; ADR 0010, docs/pdp.md) -------------------------------------------------------


class PersonalDataErased(Payload):
    """An administrator erases a person's personal data (subject: the NIP): the evidence service destroys the
    person's data keys on acceptance, so every value sealed to them (contracts/pdp.py) becomes unreadable, while
    the events, their signatures and the ledger stay as they were. `retention` says whether every retention period
    of `services/evidence/policies/pdp-retention.toml` had ended (`ended`) or the erasure was ordered before
    (`override`, with the order named in `reason`)."""

    TYPE: ClassVar[str] = "personal_data.erased"
    nip: Nip
    reason: Text
    retention: Literal["ended", "override"]
    retention_policy_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the retention file")
