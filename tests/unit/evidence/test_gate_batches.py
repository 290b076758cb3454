"""The gate's own reading of batch signatures and its per-batch tree (services/evidence/domain/batches.py) agree
with the reference in contracts: the same strings parse to the same parts, the same paths prove the same roots."""

from __future__ import annotations

import base64
import random

from evidence_world import key
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import signing
from contracts.merkle import inclusion_paths, leaf_hash, merkle_root
from contracts.signing import BatchSignature
from services.evidence.domain.batches import BatchMemo, Malformed, parse_batch_member

SIGNATURE = base64.b64encode(bytes(range(64))).decode()
PATH = base64.b64encode(bytes(range(96))).decode()
FRAGMENTS = ["batch", "batch:", ":", "0", "1", "01", "3", "7", "²", "999999999", "1000000000", SIGNATURE,
             SIGNATURE[:-2] + "==", SIGNATURE[:-3] + "B==", PATH, PATH + "=", "AAAA", "AB==", "é", "", " ", "\n"]


def parse_batch_signature(text: str) -> BatchSignature | None:
    """The gate's reading of a whole `batch:` signature: screened (`parse_batch_member`), then its path decoded."""
    member = parse_batch_member(text)
    return None if member is None else member.decoded()


def _same(text: str) -> None:
    assert parse_batch_signature(text) == signing.parse_batch_signature(text)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=9))
def test_strings_made_of_batch_signature_fragments_parse_as_the_reference_parses_them(parts: list[str]) -> None:
    _same("".join(parts))
    _same("batch:" + ":".join(parts))


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_any_text_parses_as_the_reference_parses_it(text: str) -> None:
    _same(text)
    _same("batch:3:1:" + text)


def test_real_batch_signatures_parse_to_the_reference_parts() -> None:
    members = signing.sign_batch([{"n": i} for i in range(13)], key(7))
    for member in members:
        _same(str(member["signature"]))
        assert parse_batch_signature(str(member["signature"])) is not None


def test_the_tree_built_from_a_whole_batch_gives_each_member_its_reference_path_and_root() -> None:
    rng = random.Random(5)
    for size in (1, 2, 3, 5, 8, 13, 100, 129):
        leaves = [leaf_hash(rng.randbytes(20)) for _ in range(size)]
        members = [(BatchSignature(size, i, b"s" * 64, path), leaves[i])
                   for i, path in enumerate(inclusion_paths(leaves))]
        memo = BatchMemo.over(members)
        assert [memo.root_of(leaf, batch) for batch, leaf in members] == [merkle_root(leaves)] * size
        assert memo.node_hashes == size - 1
        alone = BatchMemo()  # no tree: each member proves itself through its own path
        assert [alone.root_of(leaf, batch) for batch, leaf in members] == [merkle_root(leaves)] * size


def _members(size: int, seed: int) -> tuple[list[bytes], list[str]]:
    rng = random.Random(seed)
    leaves = [leaf_hash(rng.randbytes(20)) for _ in range(size)]
    texts = [f"batch:{size}:{i}:{SIGNATURE}:" + base64.b64encode(b"".join(path)).decode()
             for i, path in enumerate(inclusion_paths(leaves))]
    return leaves, texts


def test_proving_a_member_by_its_path_text_gives_the_root_its_decoded_path_proves() -> None:
    for size in (1, 2, 3, 8, 13, 100):
        leaves, texts = _members(size, size)
        members = [parse_batch_member(t) for t in texts]
        assert all(m is not None for m in members)
        with_tree = BatchMemo.over([(m, leaf) for m, leaf in zip(members, leaves, strict=True) if m])
        alone = BatchMemo()
        for member, leaf, text in zip(members, leaves, texts, strict=True):
            assert member is not None
            reference = signing.parse_batch_signature(text)
            assert reference is not None
            assert with_tree.prove(leaf, member) == alone.prove(leaf, member) == merkle_root(leaves)
            assert alone.root_of(leaf, reference) == merkle_root(leaves)


def test_a_path_that_is_not_the_trees_is_proven_through_itself_or_refused_as_malformed() -> None:
    leaves, texts = _members(8, 1)
    members = [parse_batch_member(t) for t in texts]
    memo = BatchMemo.over([(m, leaf) for m, leaf in zip(members, leaves, strict=True) if m])
    root = merkle_root(leaves)
    head, _, path = texts[3].rpartition(":")
    raw = bytearray(base64.b64decode(path))
    raw[0] ^= 1
    tampered = parse_batch_member(f"{head}:{base64.b64encode(bytes(raw)).decode()}")
    assert tampered is not None
    assert memo.prove(leaves[3], tampered) not in (root, Malformed.PATH)  # a real path, to another root
    for bad in (path[:-4], path + "AAA", path[:-1] + "=", "é"):  # not whole hashes / not canonical base64
        assert signing.parse_batch_signature(f"{head}:{bad}") is None
        member = parse_batch_member(f"{head}:{bad}")
        assert member is not None and memo.prove(leaves[3], member) is Malformed.PATH
    short = parse_batch_member(f"{head}:" + base64.b64encode(bytes(raw[:32])).decode())
    assert short is not None and memo.prove(leaves[3], short) is None  # whole hashes, wrong length for index 3
    assert memo.prove(leaves[2], members[3]) != root  # another member's leaf under this path
