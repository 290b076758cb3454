"""The transparency-dev/merkle RFC 6962 probes: our verifier accepts exactly those marked `wantErr: false`,
and our proof builder reproduces every accepted proof over the classic eight leaves."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from services.audit.domain.merkle import (
    MemoryTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from tests.rfc6962 import CLASSIC_LEAVES, PROBES, VECTORS


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _proof(probe: dict[str, Any]) -> list[bytes]:
    return [_b64(p) for p in probe["proof"] or []]


def _check(probe: dict[str, Any]) -> None:
    if "leafIdx" in probe:
        verify_inclusion(
            probe["leafIdx"], probe["treeSize"], _b64(probe["leafHash"]), _proof(probe), _b64(probe["root"])
        )
    else:
        verify_consistency(
            probe["size1"], probe["size2"], _b64(probe["root1"]), _b64(probe["root2"]), _proof(probe)
        )


def test_all_196_probes_are_present() -> None:
    assert len(PROBES) == 196
    assert {p.relative_to(VECTORS).parts[0] for p in PROBES} == {"inclusion", "consistency"}
    assert any("additional" in p.parts for p in PROBES)
    assert any("single-entry" in p.parts for p in PROBES)


@pytest.mark.parametrize("path", PROBES, ids=lambda p: str(p.relative_to(VECTORS)))
def test_the_verifier_accepts_exactly_the_probes_without_want_err(path: Path) -> None:
    probe = _load(path)
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            _check(probe)
    else:
        _check(probe)


def test_the_eight_classic_leaves_have_the_published_root() -> None:
    root = root_from_leaf_hashes([leaf_hash(leaf) for leaf in CLASSIC_LEAVES])
    assert root.hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


HAPPY_PATHS = [p for p in PROBES if p.name == "happy-path.json" and p.parent.name.isdigit()]


@pytest.mark.parametrize("path", HAPPY_PATHS, ids=lambda p: str(p.relative_to(VECTORS)))
def test_our_proof_builder_reproduces_every_published_happy_path_proof(path: Path) -> None:
    probe = _load(path)
    tree = MemoryTree(leaf_hash(leaf) for leaf in CLASSIC_LEAVES)
    if "leafIdx" in probe:
        index, size = probe["leafIdx"], probe["treeSize"]
        assert tree.root(size) == _b64(probe["root"])
        assert leaf_hash(CLASSIC_LEAVES[index]) == _b64(probe["leafHash"])
        assert inclusion_proof(index, size, tree.get_node) == _proof(probe)
    else:
        size1, size2 = probe["size1"], probe["size2"]
        assert (tree.root(size1), tree.root(size2)) == (_b64(probe["root1"]), _b64(probe["root2"]))
        assert consistency_proof(size1, size2, tree.get_node) == _proof(probe)


def test_there_are_ten_published_happy_paths_to_reproduce() -> None:
    assert len(HAPPY_PATHS) == 10
