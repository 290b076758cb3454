"""Every free-text field of the contracts is either sealed personal data (contracts.pdp.PERSONAL_FIELDS) or listed
as not personal with a reason (contracts.pdp.NOT_PERSONAL): a new text field cannot slip in without a decision
(UU PDP, ADR 0010). And the pdp1 format: sealed, opened, refused when changed or opened with another key."""

from __future__ import annotations

import typing

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from contracts import pdp
from contracts.registry import PAYLOADS

#: Text fields that are identifiers, codes or labels, not prose (checked by name: anything else must be decided).
NOT_PROSE = {"predikat", "pangkat_golongan", "ekspektasi_label", "data_source", "original_b64", "received_from",
             "policy_version", "content_hash", "message_id", "message_en", "unit_id", "position_id", "nip",
             "parent_id", "source_id", "iki_id", "rater_nip", "from_nip", "decided_by_nip", "requested_by_nip",
             "given_by_nip", "retention_policy_hash", "public_key", "key_id", "jenjang_fungsional", "parent_unit_id",
             "pejabat_penilai_nip", "set_by_nip", "closed_by", "basis_hash", "policy", "units", "indicators",
             "activity_id", "output_unit", "from_nips"}


def _text_fields(model: type, prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        annotation = str(field.annotation)
        if "str" in annotation and name not in NOT_PROSE and "Literal" not in annotation:
            out.append(prefix + name)
    return out


def test_every_text_field_is_decided() -> None:
    undecided = []
    for event_type, cls in PAYLOADS.items():
        for name in _text_fields(cls):
            personal = name in pdp.PERSONAL_FIELDS.get(event_type, ())
            if not personal and f"{event_type}.{name}" not in pdp.NOT_PERSONAL:
                undecided.append(f"{event_type}.{name}")
    assert not undecided, f"decide in contracts/pdp.py whether these are personal: {undecided}"


def test_every_listed_personal_field_exists_and_accepts_a_sealed_value() -> None:
    for event_type, fields in pdp.PERSONAL_FIELDS.items():
        cls = PAYLOADS[event_type]
        for name in fields:
            assert name in cls.model_fields, f"{event_type}.{name}"
            metadata = typing.get_args(cls.model_fields[name].annotation)
            assert cls.model_fields[name].annotation is not None and metadata is not None


def test_sealed_opens_only_with_its_key_and_unchanged() -> None:
    key, other = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    text = "Ibu Sari teliti — imunisasi lengkap ✓"
    sealed = pdp.seal(text, pdp.raw_public(key))
    assert pdp.is_sealed(sealed) and text not in sealed
    assert pdp.open_sealed(sealed, key) == text
    with pytest.raises(pdp.SealError):
        pdp.open_sealed(sealed, other)
    body = sealed.split(":")[2]
    flipped = sealed[: -len(body)] + ("A" if body[0] != "A" else "B") + body[1:]
    with pytest.raises(pdp.SealError):
        pdp.open_sealed(flipped, key)
    assert pdp.seal(text, pdp.raw_public(key)) != sealed  # a fresh ephemeral key and nonce each time


def test_seal_payload_seals_only_personal_fields_and_keeps_sealed_ones() -> None:
    key = X25519PrivateKey.generate()
    envelope = {"type": "behaviour.rated", "subject": "1" * 18,
                "payload": {"rater_nip": "2" * 18, "relation": "atasan", "value": "loyal", "score": 2,
                            "feedback": "bagus"}}
    out = pdp.seal_payload(envelope, pdp.raw_public(key))
    assert out["payload"]["relation"] == "atasan" and pdp.is_sealed(out["payload"]["feedback"])
    assert envelope["payload"]["feedback"] == "bagus"  # a copy: the input is unchanged
    again = pdp.seal_payload(out, pdp.raw_public(key))
    assert again["payload"]["feedback"] == out["payload"]["feedback"]
