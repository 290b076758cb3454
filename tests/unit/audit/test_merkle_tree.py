"""The tree's roots, ranges and frontier: appends in O(log n) agree with hashing the whole sequence."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.audit.domain.errors import FrontierError
from services.audit.domain.merkle import (
    EMPTY_ROOT,
    Frontier,
    MemoryTree,
    leaf_hash,
    node_hash,
    range_nodes,
    root_at,
    root_from_leaf_hashes,
)


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def _mth(hashes: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 written literally (recursive split at the largest power of two below n)."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return node_hash(_mth(hashes[:k]), _mth(hashes[k:]))


def test_hashes_carry_the_rfc_6962_domain_separation_prefixes() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_the_fast_root_equals_the_literal_recursive_definition_for_every_size_up_to_300() -> None:
    hashes = _leaves(300)
    for size in range(301):
        assert root_from_leaf_hashes(hashes[:size]) == _mth(hashes[:size]), size


def test_frontier_appends_give_the_same_root_as_hashing_everything_for_sizes_0_to_200() -> None:
    hashes = _leaves(200)
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    for size in range(1, 201):
        frontier, _ = frontier.append(hashes[size - 1])
        assert frontier.size == size
        assert len(frontier.hashes) == size.bit_count()
        assert frontier.root() == root_from_leaf_hashes(hashes[:size]), size


def test_each_append_reports_the_leaf_and_exactly_the_perfect_subtrees_it_completed() -> None:
    hashes = _leaves(64)
    frontier, seen = Frontier(), {}
    for i, h in enumerate(hashes):
        frontier, completed = frontier.append(h)
        assert completed[0] == (0, i, h)
        # besides the leaf, one node per trailing one-bit of i: each is a carry of a binary counter
        assert len(completed) == 1 + ((i + 1) & -(i + 1)).bit_length() - 1
        for level, index, value in completed:
            assert (index + 1) << level == i + 1, "a completed node must end at the new leaf"
            assert value == root_from_leaf_hashes(hashes[index << level : (index + 1) << level])
            assert (level, index) not in seen, "a node is completed once and never changes"
            seen[(level, index)] = value
    assert len(seen) == 2 * 64 - 1


def test_extend_equals_repeated_append() -> None:
    hashes = _leaves(37)
    one_by_one, nodes = Frontier(), list[tuple[int, int, bytes]]()
    for h in hashes:
        one_by_one, completed = one_by_one.append(h)
        nodes.extend(completed)
    assert Frontier().extend(hashes) == (one_by_one, tuple(nodes))


@given(st.lists(st.binary(max_size=40), max_size=80), st.integers(min_value=0, max_value=80))
def test_appending_a_prefix_then_the_rest_equals_appending_everything(data: list[bytes], cut: int) -> None:
    hashes = [leaf_hash(d) for d in data]
    cut = min(cut, len(hashes))
    prefix, _ = Frontier().extend(hashes[:cut])
    whole, _ = Frontier().extend(hashes)
    assert prefix.extend(hashes[cut:])[0] == whole
    assert whole.root() == root_from_leaf_hashes(hashes)


def test_a_frontier_round_trips_through_json_and_can_be_rebuilt_from_stored_nodes() -> None:
    tree = MemoryTree(_leaves(45))
    text = tree.frontier.to_json()
    assert json.loads(text) == {"size": 45, "hashes": [h.hex() for h in tree.frontier.hashes]}
    assert Frontier.from_json(text) == tree.frontier
    assert Frontier.from_json(text.encode()) == tree.frontier
    for size in range(46):
        assert Frontier.from_nodes(size, tree.get_node) == Frontier().extend(_leaves(size))[0]


def test_a_frontier_as_the_driver_parsed_its_jsonb_reads_as_its_json_does() -> None:
    tree = MemoryTree(_leaves(45))
    assert Frontier.from_parsed(json.loads(tree.frontier.to_json())) == tree.frontier


def test_the_empty_frontier_reads_the_json_the_ledger_schema_seeds() -> None:
    assert Frontier.from_json('{"size": 0, "hashes": []}') == Frontier()


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"size": 1}',
        '{"size": 1, "hashes": []}',
        '{"size": 2, "hashes": ["00"]}',
        '{"size": 1, "hashes": ["zz"]}',
        '{"size": "1", "hashes": ["' + "00" * 32 + '"]}',
        '{"size": -1, "hashes": []}',
        '{"size": 3, "hashes": ["' + "00" * 32 + '"]}',
    ],
)
def test_a_malformed_frontier_is_refused(text: str) -> None:
    with pytest.raises(FrontierError):
        Frontier.from_json(text)
    if text != "not json":  # and refused alike when the driver has parsed it
        with pytest.raises(FrontierError):
            Frontier.from_parsed(json.loads(text))


def test_a_leaf_hash_of_the_wrong_length_cannot_be_appended() -> None:
    with pytest.raises(FrontierError):
        Frontier().append(b"short")


def test_range_nodes_cover_a_range_with_maximal_aligned_perfect_subtrees() -> None:
    assert range_nodes(0, 0) == ()
    assert range_nodes(0, 13) == ((3, 0), (2, 2), (0, 12))
    assert range_nodes(3, 13) == ((0, 3), (2, 1), (2, 2), (0, 12))
    for begin in range(40):
        for end in range(begin, 40):
            nodes = range_nodes(begin, end)
            covered = [i for level, index in nodes for i in range(index << level, (index + 1) << level)]
            assert covered == list(range(begin, end))
    with pytest.raises(ValueError, match="invalid range"):
        range_nodes(5, 4)


def test_the_root_of_any_past_size_is_read_back_from_stored_nodes() -> None:
    hashes = _leaves(70)
    tree = MemoryTree(hashes)
    for size in range(71):
        assert root_at(size, tree.get_node) == tree.root(size) == root_from_leaf_hashes(hashes[:size])
