"""The catalogue of rejection reasons: stable codes, each with a message in Bahasa Indonesia and in English.

A code never changes meaning once published: departmental systems branch on it. A message may carry a detail
(the failing field, the key id) after the fixed text.
"""

from __future__ import annotations

from enum import StrEnum

from contracts.events import RejectionReason


class Code(StrEnum):
    """Every reason the gate can give. The value is the code on `objektif.rejections.v1`."""

    OVERSIZE = "oversize"
    INVALID_UTF8 = "invalid_utf8"
    NOT_JSON = "not_json"
    TOO_DEEP = "too_deep"
    NOT_OBJECT = "not_object"
    NUMBER_NOT_CANONICAL = "canonical.number"
    SCHEMA_INVALID = "schema.invalid"
    SERVER_FIELD = "schema.server_field"
    UNKNOWN_TYPE = "unknown_type"
    UNSUPPORTED_VERSION = "unsupported_version"
    SUBJECT_MISMATCH = "subject.mismatch"
    SUBJECT_UNKNOWN = "subject.unknown"
    SIGNATURE_MISSING = "signature.missing"
    SIGNATURE_INVALID = "signature.invalid"
    BATCH_NOT_ALLOWED = "signature.batch_not_allowed"
    KEY_UNKNOWN = "key.unknown"
    KEY_REVOKED = "key.revoked"
    KEY_RETIRED = "key.retired"
    SCOPE_KIND = "scope.kind"
    SCOPE_UNIT = "scope.unit"
    SCOPE_INDICATOR = "scope.indicator"
    SCOPE_PERSON = "scope.person"
    INDICATOR_NOT_IN_PLAN = "indicator.not_in_plan"
    RATER_NOT_IN_RELATION = "rater.not_in_relation"
    RATER_SELF_AS_ATASAN = "rater.self_as_atasan"
    OBJECTION_NOT_SUBJECT = "objection.not_subject"
    OBJECTION_NO_RESULT = "objection.no_result"
    OBJECTION_LATE = "objection.late"
    OBJECTION_UNKNOWN = "objection.unknown"
    DECISION_NOT_ATASAN = "decision.not_atasan"
    # people in the loop (issue 16, ADR 0007)
    DELIVERY_NOT_PEJABAT_PENILAI = "delivery.not_pejabat_penilai"
    # keberatan (issue 4, §2.4)
    OBJECTION_DUPLICATE = "objection.duplicate"
    OBJECTION_DECIDED_FINAL = "objection.decided_final"
    EXPLANATION_NOT_ATASAN = "explanation.not_atasan"
    EXPLANATION_NOT_PARTY = "explanation.not_party"
    EXPLANATION_UNKNOWN = "explanation.unknown"
    EXPLANATION_NOT_ASKED = "explanation.not_asked"
    SUPERSEDES_UNKNOWN = "supersedes.unknown"
    SUPERSEDES_OTHER_SOURCE = "supersedes.other_source"
    SUPERSEDES_OTHER_TYPE = "supersedes.other_type"
    # CloudEvents framing (issue 19, contracts/cloudevents.py): `path` names the header
    CLOUDEVENT_MISSING = "cloudevent.missing"
    CLOUDEVENT_INVALID = "cloudevent.invalid"
    # personal data (issue 18, ADR 0010, contracts/pdp.py): `path` names the field
    PDP_NOT_SEALED = "pdp.not_sealed"
    PDP_UNKNOWN_KEY = "pdp.unknown_key"


#: (Bahasa Indonesia, English) for each code.
MESSAGES: dict[Code, tuple[str, str]] = {
    Code.OVERSIZE: ("Kiriman melebihi batas ukuran", "Submission exceeds the size limit"),
    Code.INVALID_UTF8: ("Kiriman bukan teks UTF-8 yang sah", "Submission is not valid UTF-8"),
    Code.NOT_JSON: ("Kiriman bukan JSON yang sah", "Submission is not valid JSON"),
    Code.TOO_DEEP: ("Struktur JSON terlalu dalam", "JSON nesting is too deep"),
    Code.NOT_OBJECT: ("Kiriman harus berupa objek JSON", "Submission must be a JSON object"),
    Code.NUMBER_NOT_CANONICAL: (
        "Bilangan harus bulat dalam ±(2^53 − 1); tulis desimal sebagai teks",
        "Numbers must be integers within ±(2^53 − 1); write decimals as strings",
    ),
    Code.SCHEMA_INVALID: ("Isian tidak sesuai skema", "Field does not match the schema"),
    Code.SERVER_FIELD: (
        "Isian ini ditetapkan oleh layanan bukti, bukan oleh pengirim",
        "This field is set by the evidence service, not by the submitter",
    ),
    Code.UNKNOWN_TYPE: (
        "Jenis peristiwa tidak dikenal atau tidak boleh dikirim",
        "Unknown or non-submittable type",
    ),
    Code.UNSUPPORTED_VERSION: ("Versi skema tidak didukung", "Unsupported schema version"),
    Code.SUBJECT_MISMATCH: ("Subjek tidak sesuai dengan isi peristiwa", "Subject does not match the payload"),
    Code.SUBJECT_UNKNOWN: (
        "Pegawai atau unit tidak dikenal dalam struktur organisasi pada waktu itu",
        "Employee or unit not in the organisation structure at that time",
    ),
    Code.SIGNATURE_MISSING: ("Tanda tangan tidak ada", "Signature is missing"),
    Code.SIGNATURE_INVALID: ("Tanda tangan tidak sah", "Signature is invalid"),
    Code.BATCH_NOT_ALLOWED: (
        "Kiriman perorangan harus ditandatangani satu per satu",
        "A person's submissions must be signed one by one",
    ),
    Code.KEY_UNKNOWN: ("Sumber atau kuncinya tidak terdaftar", "Source or its key is not registered"),
    Code.KEY_REVOKED: ("Kunci penandatangan telah dicabut", "Signing key has been revoked"),
    Code.KEY_RETIRED: ("Kunci penandatangan telah diganti", "Signing key has been rotated out"),
    Code.SCOPE_KIND: (
        "Jenis sumber ini tidak boleh mengirim jenis peristiwa ini",
        "This kind of source may not submit this type",
    ),
    Code.SCOPE_UNIT: ("Unit di luar cakupan sumber", "Unit outside the source's scope"),
    Code.SCOPE_INDICATOR: ("Indikator di luar cakupan sumber", "Indicator outside the source's scope"),
    Code.SCOPE_PERSON: (
        "Seseorang hanya boleh mengirim atas namanya sendiri",
        "A person may submit only in his or her own name",
    ),
    Code.INDICATOR_NOT_IN_PLAN: ("IKI tidak ada dalam SKP pegawai", "IKI is not in the employee's SKP"),
    Code.RATER_NOT_IN_RELATION: (
        "Penilai tidak memiliki hubungan itu dengan pegawai dalam struktur organisasi",
        "Rater does not hold that relation to the employee in the organisation structure",
    ),
    Code.RATER_SELF_AS_ATASAN: (
        "Pegawai tidak boleh menilai dirinya sebagai atasan",
        "An employee may not rate himself or herself as atasan",
    ),
    Code.OBJECTION_NOT_SUBJECT: (
        "Keberatan hanya dapat diajukan oleh pegawai yang dinilai",
        "Only the appraised employee may file an objection",
    ),
    Code.OBJECTION_NO_RESULT: (
        "Belum ada hasil penilaian yang diterima untuk periode ini",
        "No appraisal result has been delivered for this period",
    ),
    Code.OBJECTION_LATE: (
        "Keberatan melewati batas 14 hari sejak hasil diterima",
        "Objection filed more than 14 days after the result was received",
    ),
    Code.OBJECTION_UNKNOWN: ("Keberatan yang diputus tidak dikenal", "The decided objection is unknown"),
    Code.DECISION_NOT_ATASAN: (
        "Keputusan keberatan hanya oleh Atasan Pejabat Penilai Kinerja",
        "Only the Atasan Pejabat Penilai may decide an objection",
    ),
    Code.DELIVERY_NOT_PEJABAT_PENILAI: (
        "Hasil penilaian hanya dapat disampaikan oleh Pejabat Penilai Kinerja pegawai",
        "Only the employee's Pejabat Penilai may deliver the appraisal result",
    ),
    Code.OBJECTION_DUPLICATE: (
        "Hasil yang diterima ini sudah diajukan keberatan; satu keberatan untuk satu hasil",
        "An objection was already filed against this delivered result; one objection per result",
    ),
    Code.OBJECTION_DECIDED_FINAL: (
        "Keberatan telah diputus Atasan Pejabat Penilai Kinerja dan keputusannya bersifat final",
        "The objection was decided by the Atasan Pejabat Penilai, and the decision is final",
    ),
    Code.EXPLANATION_NOT_ATASAN: (
        "Permintaan penjelasan hanya oleh Atasan Pejabat Penilai Kinerja",
        "Only the Atasan Pejabat Penilai may ask for explanations",
    ),
    Code.EXPLANATION_NOT_PARTY: (
        "Penjelasan hanya dapat diminta dari Pejabat Penilai Kinerja dan pegawai yang dinilai",
        "Explanations may be asked only of the Pejabat Penilai and the appraised employee",
    ),
    Code.EXPLANATION_UNKNOWN: (
        "Permintaan penjelasan yang dijawab tidak dikenal",
        "The explanation request answered is unknown",
    ),
    Code.EXPLANATION_NOT_ASKED: (
        "Penjelasan hanya dari orang yang dimintai penjelasan",
        "Only a person who was asked may give the explanation",
    ),
    Code.SUPERSEDES_UNKNOWN: ("Peristiwa yang dikoreksi tidak dikenal", "The superseded event is unknown"),
    Code.SUPERSEDES_OTHER_SOURCE: (
        "Koreksi hanya oleh sumber yang mengirim peristiwa asal",
        "Only the source of an event may supersede it",
    ),
    Code.SUPERSEDES_OTHER_TYPE: (
        "Koreksi harus berjenis dan bersubjek sama dengan peristiwa asal",
        "A correction must have the type and subject of the event it replaces",
    ),
    Code.CLOUDEVENT_MISSING: (
        "Atribut CloudEvents yang wajib tidak ada",
        "A required CloudEvents attribute is missing",
    ),
    Code.CLOUDEVENT_INVALID: (
        "Atribut CloudEvents tidak dapat dibaca sebagai amplop Objektif",
        "A CloudEvents attribute cannot be read as an Objektif envelope",
    ),
    Code.PDP_NOT_SEALED: (
        "Data pribadi harus disegel (dienkripsi) dengan kunci data pegawai yang dinilai sebelum ditandatangani",
        "Personal data must be sealed (encrypted) to the appraised employee's data key before signing",
    ),
    Code.PDP_UNKNOWN_KEY: (
        "Data pribadi disegel dengan kunci yang bukan kunci data pegawai ini yang berlaku",
        "Personal data is sealed to a key that is not this employee's current data key",
    ),
}


def reason(code: Code, detail: str | None = None, *, path: str | None = None) -> RejectionReason:
    """A rejection reason for `code`, its fixed messages followed by `detail` when given."""
    message_id, message_en = MESSAGES[code]
    if detail:
        message_id, message_en = f"{message_id}: {detail}", f"{message_en}: {detail}"
    return RejectionReason(code=code.value, message_id=message_id, message_en=message_en, path=path)
