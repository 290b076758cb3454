"""docs/signing.md's worked examples are recomputed from the page itself, so the page cannot drift."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.merkle import leaf_hash, merkle_root
from contracts.signing import (
    b64,
    batch_message,
    key_id,
    public_key_bytes,
    sign_batch,
    sign_envelope,
    signing_bytes,
    verify_envelope,
)

DOC = Path(__file__).parents[3] / "docs" / "signing.md"
_BLOCK = re.compile(r"<!-- check: (?P<name>[a-z0-9-]+) -->\s*```[a-z]*\n(?P<body>.*?)```", re.DOTALL)


@pytest.fixture(scope="module")
def blocks() -> dict[str, str]:
    return {m["name"]: m["body"].strip() for m in _BLOCK.finditer(DOC.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def private_key(blocks: dict[str, str]) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(blocks["private-key-hex"]))


def test_the_documented_public_key_and_key_id_belong_to_the_documented_private_key(
    blocks: dict[str, str], private_key: Ed25519PrivateKey
) -> None:
    assert b64(public_key_bytes(private_key)) == blocks["public-key-b64"]
    assert key_id(public_key_bytes(private_key)) == blocks["key-id"]


def test_the_documented_signing_bytes_hash_and_signature_are_what_the_code_computes(
    blocks: dict[str, str], private_key: Ed25519PrivateKey
) -> None:
    envelope = json.loads(blocks["envelope"])
    assert signing_bytes(envelope) == blocks["signing-bytes"].encode("utf-8")
    assert hashlib.sha256(signing_bytes(envelope)).hexdigest() == blocks["signing-bytes-sha256"]
    signed = sign_envelope(envelope, private_key)
    assert signed["signature"] == blocks["signature"]
    assert verify_envelope(signed, private_key.public_key())


def test_the_documented_batch_leaves_root_and_signatures_are_what_the_code_computes(
    blocks: dict[str, str], private_key: Ed25519PrivateKey
) -> None:
    envelopes = json.loads(blocks["batch-envelopes"])
    leaves = [leaf_hash(signing_bytes(e)) for e in envelopes]
    assert [leaf.hex() for leaf in leaves] == blocks["batch-leaves"].split()
    assert batch_message(len(leaves), merkle_root(leaves)).decode() == blocks["batch-message"]
    assert [m["signature"] for m in sign_batch(envelopes, private_key)] == blocks["batch-signatures"].split()


def test_the_documented_batch_root_is_the_rfc6962_tree_of_three_leaves(blocks: dict[str, str]) -> None:
    leaf0, leaf1, leaf2 = (bytes.fromhex(h) for h in blocks["batch-leaves"].split())
    left = hashlib.sha256(b"\x01" + leaf0 + leaf1).digest()
    root = hashlib.sha256(b"\x01" + left + leaf2).digest()
    assert blocks["batch-message"].endswith(root.hex())
    last_path = blocks["batch-signatures"].split()[2].split(":")[4]
    assert base64.b64decode(last_path) == left


def test_the_reference_signer_without_objektif_code_produces_the_documented_signature(
    blocks: dict[str, str],
) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(blocks["reference-python"], "docs/signing.md", "exec"), namespace)
    signed = namespace["sign"](json.loads(blocks["envelope"]), blocks["private-key-hex"])
    assert signed["signature"] == blocks["signature"]
    assert namespace["signing_bytes"](signed) == blocks["signing-bytes"].encode("utf-8")
