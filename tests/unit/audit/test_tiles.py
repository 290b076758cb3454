"""The ledger as C2SP tlog-tiles: paths as the spec spells them, tiles whose hashes are the RFC 6962 Merkle Tree
Hashes of the leaves they span (checked against the transparency-dev/merkle vectors and an independent recursive
MTH), entry bundles as uint16-prefixed entries, and receipts as c2sp.org/tlog-proof@v1 files."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import pytest

from services.audit.domain.checkpoint import Checkpoint, NoteSigner
from services.audit.domain.errors import TileError
from services.audit.domain.merkle import MemoryTree, leaf_hash
from services.audit.domain.tiles import (
    TILE_WIDTH,
    TileRef,
    encode_index,
    entry_bundle,
    parse_path,
    tile_bytes,
    tiles_of,
)
from services.audit.domain.tlog_proof import parse_tlog_proof, tlog_proof
from tests.rfc6962 import CLASSIC_LEAVES, VECTORS

SIGNER = NoteSigner.from_private_bytes(hashlib.sha256(b"tiles test key, not a secret").digest(), "example/log")


def mth(leaf_hashes: Sequence[bytes]) -> bytes:
    """RFC 6962 §2.1 Merkle Tree Hash from its recursive definition, over leaf hashes (nothing of ours)."""
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = 1 << ((len(leaf_hashes) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaf_hashes[:k]) + mth(leaf_hashes[k:])).digest()


def path_of(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(m, D[n]) from its recursive definition."""
    if len(leaf_hashes) == 1:
        return []
    k = 1 << ((len(leaf_hashes) - 1).bit_length() - 1)
    if index < k:
        return [*path_of(leaf_hashes[:k], index), mth(leaf_hashes[k:])]
    return [*path_of(leaf_hashes[k:], index - k), mth(leaf_hashes[:k])]


def served(tree: MemoryTree, ref: TileRef) -> bytes:
    level, begin, end = ref.node_range()
    return tile_bytes(ref, [tree.get_node(level, i) for i in range(begin, end)])


def hashes_in(body: bytes) -> list[bytes]:
    return [body[i : i + 32] for i in range(0, len(body), 32)]


def test_paths_are_spelled_as_the_spec_spells_them() -> None:
    assert encode_index(1234067) == "x001/x234/067"
    assert TileRef(0, 5).path() == "tile/0/005"
    assert TileRef(1, 1234067, 7).path() == "tile/1/x001/x234/067.p/7"
    assert TileRef(0, 1000, entries=True).path() == "tile/entries/x001/000"
    for ref in (TileRef(3, 1234067, 255), TileRef(0, 0, 1, entries=True), TileRef(63, 999)):
        assert parse_path(ref.path()) == ref


@pytest.mark.parametrize("path", ["tile/00/000", "tile/0/5", "tile/0/x000/005", "tile/0/000.p/0", "tile/0/000.p/256",
                                  "tile/0/000.p/07", "tile/64/000", "tile/entries/1/000", "tile/0/000/", "checkpoint"])
def test_a_path_the_spec_does_not_allow_names_no_tile(path: str) -> None:
    with pytest.raises(TileError):
        parse_path(path)


def test_a_tree_of_70000_leaves_has_the_tiles_the_spec_lists() -> None:
    paths = [ref.path() for ref in tiles_of(70_000)]
    level0 = [p for p in paths if p.startswith("tile/0/")]
    assert len(level0) == 274 and level0[-1] == "tile/0/273.p/112"
    assert [p for p in paths if not p.startswith("tile/0/")] == ["tile/1/000", "tile/1/001.p/17", "tile/2/000.p/1"]
    assert [ref.path() for ref in tiles_of(256)] == ["tile/0/000", "tile/1/000.p/1"]
    assert list(tiles_of(0)) == []
    assert [r.path() for r in tiles_of(257, entries=True)] == ["tile/entries/000", "tile/entries/001.p/1"]


#: The probes of a right proof over the classic leaves (the others probe wrong proofs: a tile has one answer).
PROBES = [json.loads(p.read_text()) for p in sorted((VECTORS / "inclusion").glob("[0-4]/*.json"))]
HAPPY = [v for v in PROBES if not v["wantErr"]]


@pytest.mark.parametrize("vector", HAPPY, ids=lambda v: f"{v['leafIdx']}-of-{v['treeSize']}")
def test_the_level_0_tile_of_the_classic_leaves_gives_the_vectors_roots_and_proofs(vector: dict[str, Any]) -> None:
    size, index = vector["treeSize"], vector["leafIdx"]
    tree = MemoryTree(leaf_hash(leaf) for leaf in CLASSIC_LEAVES[:size])
    tile = hashes_in(served(tree, next(tiles_of(size))))
    assert tile[index] == base64.b64decode(vector["leafHash"])
    assert mth(tile) == base64.b64decode(vector["root"])
    assert path_of(tile, index) == [base64.b64decode(h) for h in vector["proof"] or []]


def test_happy_probes_are_there_to_check() -> None:
    assert len(HAPPY) == 5


def test_the_tiles_above_level_0_hold_the_hashes_of_the_full_tiles_below() -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(TILE_WIDTH * TILE_WIDTH + 300)]
    tree = MemoryTree(leaves)
    tiles = {ref.path(): hashes_in(served(tree, ref)) for ref in tiles_of(tree.size)}
    assert tiles["tile/0/003"] == leaves[768:1024]
    assert tiles["tile/0/256"] == leaves[65536:65792]
    assert tiles["tile/0/257.p/44"] == leaves[65792:]
    assert tiles["tile/1/000"][5] == mth(leaves[1280:1536]) == mth(tiles["tile/0/005"])
    assert tiles["tile/1/001.p/1"] == [mth(leaves[65536:65792])]
    assert tiles["tile/2/000.p/1"] == [mth(leaves[:65536])]
    # The right edge of every level folds, right to left, into the root a checkpoint signs.
    edge = node(tiles["tile/2/000.p/1"][0], node(tiles["tile/1/001.p/1"][0], mth(tiles["tile/0/257.p/44"])))
    assert edge == mth(leaves) == tree.root()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def test_a_tile_needs_exactly_its_count_of_hashes() -> None:
    with pytest.raises(TileError):
        tile_bytes(TileRef(0, 0, 3), [bytes(32)] * 2)
    with pytest.raises(TileError):
        tile_bytes(TileRef(0, 0), [bytes(32)] * 255)


def test_an_entry_bundle_is_uint16_length_prefixed_entries_and_refuses_a_longer_one() -> None:
    ref = TileRef(0, 0, 3, entries=True)
    assert entry_bundle(ref, [b"", b"ab", b"x" * 300]) == b"\x00\x00" + b"\x00\x02ab" + b"\x01\x2c" + b"x" * 300
    with pytest.raises(TileError):
        entry_bundle(TileRef(0, 0, 1, entries=True), [b"x" * 0x10000])


def test_a_receipt_file_is_a_tlog_proof_as_the_spec_lays_it_out() -> None:
    leaves = [leaf_hash(leaf) for leaf in CLASSIC_LEAVES]
    note = SIGNER.sign(Checkpoint("example/log", 8, mth(leaves)))
    proof = path_of(leaves, 5)
    text = tlog_proof(5, proof, note)
    head, checkpoint = text.split("\n\n", 1)
    assert head.split("\n") == ["c2sp.org/tlog-proof@v1", "index 5", *(base64.b64encode(h).decode() for h in proof)]
    assert checkpoint == note
    parsed = parse_tlog_proof(text)
    assert (parsed.index, list(parsed.proof), parsed.checkpoint, parsed.extra) == (5, proof, note, None)
    assert parse_tlog_proof(tlog_proof(0, [], note, extra=b"ctx")).extra == b"ctx"


@pytest.mark.parametrize("broken", ["c2sp.org/tlog-proof@v2\nindex 1\n\n", "c2sp.org/tlog-proof@v1\nindex 01\n\n",
                                    "c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n", "c2sp.org/tlog-proof@v1\nindex 1\n"])
def test_a_file_that_is_not_a_tlog_proof_is_refused(broken: str) -> None:
    note = SIGNER.sign(Checkpoint("example/log", 1, bytes(32)))
    with pytest.raises(TileError):
        parse_tlog_proof(broken + note)
