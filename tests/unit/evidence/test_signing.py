"""The canonical signing form (contracts/signing.py): bytes, single and batch signatures, the Merkle tree."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from evidence_world import key

from contracts.merkle import (
    audit_path_length,
    audit_steps,
    inclusion_path,
    leaf_hash,
    merkle_root,
    node_hash,
    root_from_inclusion,
)
from contracts.signing import (
    UnsignableEnvelope,
    key_id,
    parse_batch_signature,
    public_key_bytes,
    sign_batch,
    sign_envelope,
    signing_bytes,
    verify_envelope,
)
from tests.rfc6962 import CLASSIC_LEAVES as CLASSIC_LEAF_BYTES
from tests.rfc6962 import VECTORS as ALL_VECTORS

VECTORS = sorted((ALL_VECTORS / "inclusion").rglob("*.json"))
CLASSIC_LEAVES = [b.hex() for b in CLASSIC_LEAF_BYTES]


def test_signing_bytes_leave_out_the_signature_and_the_fields_the_service_assigns() -> None:
    envelope = {"b": 1, "a": "x", "signature": "s", "sequence": 9, "recorded_at": "2025-01-01T00:00:00Z"}
    assert signing_bytes(envelope) == b'{"a":"x","b":1}'


def test_signing_bytes_keep_non_ascii_as_utf8_and_escape_control_characters() -> None:
    assert (
        signing_bytes({"t": 'Dinas Kesehatan — "baik"\n'})
        == '{"t":"Dinas Kesehatan — \\"baik\\"\\n"}'.encode()
    )


def test_a_signed_envelope_verifies_and_an_accepted_copy_with_sequence_still_verifies() -> None:
    signed = sign_envelope({"event_id": UUID(int=1), "payload": {"value": Decimal("87.50")}}, key(7))
    assert signed["event_id"] == "00000000-0000-0000-0000-000000000001"
    assert signed["payload"]["value"] == "87.50"
    public = key(7).public_key()
    assert verify_envelope(signed, public)
    assert verify_envelope({**signed, "sequence": 41, "recorded_at": "2025-07-01T08:00:00+07:00"}, public)
    assert not verify_envelope({**signed, "period": "2026"}, public)
    assert not verify_envelope(signed, key(8).public_key())


@pytest.mark.parametrize("value", [1.5, 2**53, -(2**53)])
def test_values_without_a_canonical_form_cannot_be_signed(value: object) -> None:
    with pytest.raises(UnsignableEnvelope):
        sign_envelope({"payload": {"value": value}}, key(7))


def test_every_member_of_a_signed_batch_verifies_on_its_own() -> None:
    members = sign_batch([{"n": i} for i in range(11)], key(7))
    assert all(verify_envelope(m, key(7).public_key()) for m in members)
    assert not verify_envelope({**members[4], "n": 5}, key(7).public_key())


def test_the_key_id_is_the_first_sixteen_hex_digits_of_the_public_key_hash() -> None:
    assert key_id(public_key_bytes(key(1))) == key_id(key(1).public_key().public_bytes_raw())
    assert len(key_id(b"\x00" * 32)) == 16
    assert key_id(b"\x00" * 32) == "66687aadf862bd77"


def test_the_merkle_root_of_the_classic_eight_leaves_matches_rfc6962() -> None:
    leaves = [leaf_hash(bytes.fromhex(h)) for h in CLASSIC_LEAVES]
    assert merkle_root(leaves).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


@pytest.mark.parametrize("size", range(1, 34))
def test_every_audit_path_leads_back_to_the_root(size: int) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    root = merkle_root(leaves)
    for index in range(size):
        path = inclusion_path(leaves, index)
        assert root_from_inclusion(leaves[index], index, size, path) == root
        if path:
            assert root_from_inclusion(leaves[index], index, size, path[:-1]) != root


@pytest.mark.parametrize("size", range(1, 34))
def test_walking_the_audit_steps_reaches_the_same_root_as_rfc9162_verification(size: int) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    for index in range(size):
        path = inclusion_path(leaves, index)
        steps = list(audit_steps(index, size))
        assert len(steps) == len(path) == audit_path_length(index, size)
        node = leaves[index]
        for step, sibling in zip(steps, path, strict=True):
            assert (
                merkle_root(leaves[step.mid : step.hi] if step.left else leaves[step.lo : step.mid])
                == sibling
            )
            node = node_hash(node, sibling) if step.left else node_hash(sibling, node)
            assert node == merkle_root(leaves[step.lo : step.hi])
        assert node == root_from_inclusion(leaves[index], index, size, path) == merkle_root(leaves)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_inclusion_verification_agrees_with_the_transparency_dev_vectors(vector: Path) -> None:
    probe = json.loads(vector.read_text())
    proof = tuple(base64.b64decode(p) for p in probe["proof"] or ())
    leaf = base64.b64decode(probe["leafHash"] or "")
    root = root_from_inclusion(leaf, probe["leafIdx"], probe["treeSize"], proof)
    verified = root is not None and root == base64.b64decode(probe["root"] or "")
    assert verified is not probe["wantErr"]


@pytest.mark.parametrize(
    "text",
    [
        "batch:1:0:" + "A" * 86 + "==:",  # fine, for contrast
        "batch:01:0:" + "A" * 86 + "==:",
        "batch:1:1:" + "A" * 86 + "==:",
        "batch:1:0:AAAA:",
        "batch:2:0:" + "A" * 86 + "==:AAAA",
        "batch:1:0:" + "A" * 86 + "==",
        "batch:²:0:" + "A" * 86 + "==:",
    ],
)
def test_only_a_well_formed_batch_signature_parses(text: str) -> None:
    parsed = parse_batch_signature(text)
    assert (parsed is not None) is (text == "batch:1:0:" + "A" * 86 + "==:")
