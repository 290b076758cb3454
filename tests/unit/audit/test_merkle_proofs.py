"""Proofs built from a node store verify, for every index and size up to 64; altered proofs do not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.audit.domain.merkle import (
    EMPTY_ROOT,
    Frontier,
    GetNode,
    MemoryTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

N = 64
HASHES = [leaf_hash(f"event {i}".encode()) for i in range(N)]
ROOTS = [root_from_leaf_hashes(HASHES[:size]) for size in range(N + 1)]


class StrictStore:
    """A node store filled only from `Frontier.append`'s completed nodes that fails the test if a proof asks
    for a node not wholly inside the tree it is proving about."""

    def __init__(self, hashes: list[bytes]) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        frontier = Frontier()
        for h in hashes:
            frontier, completed = frontier.append(h)
            self.nodes.update({(level, index): value for level, index, value in completed})

    def for_size(self, size: int) -> GetNode:
        def get_node(level: int, index: int) -> bytes:
            assert (index + 1) << level <= size, f"asked for ({level}, {index}) outside a tree of {size}"
            return self.nodes[(level, index)]

        return get_node


STORE = StrictStore(HASHES)


def test_every_inclusion_proof_up_to_64_leaves_verifies_and_has_logarithmic_length() -> None:
    for size in range(1, N + 1):
        for index in range(size):
            proof = inclusion_proof(index, size, STORE.for_size(size))
            assert len(proof) <= (size - 1).bit_length()
            verify_inclusion(index, size, HASHES[index], proof, ROOTS[size])


def test_every_consistency_proof_up_to_64_leaves_verifies() -> None:
    for size2 in range(1, N + 1):
        for size1 in range(1, size2 + 1):
            proof = consistency_proof(size1, size2, STORE.for_size(size2))
            verify_consistency(size1, size2, ROOTS[size1], ROOTS[size2], proof)


def test_an_inclusion_proof_does_not_prove_another_leaf_position_or_root() -> None:
    size = 45
    for index in range(size):
        proof = inclusion_proof(index, size, STORE.for_size(size))
        with pytest.raises(ProofError):
            verify_inclusion(index, size, HASHES[(index + 1) % size], proof, ROOTS[size])
        with pytest.raises(ProofError):
            verify_inclusion(index, size, HASHES[index], proof, ROOTS[size - 1])
        if index + 1 < size:
            with pytest.raises(ProofError):
                verify_inclusion(index + 1, size, HASHES[index], proof, ROOTS[size])


def test_flipping_any_bit_of_any_proof_hash_is_detected() -> None:
    size = 53

    def check_inclusion(proof: list[bytes]) -> None:
        verify_inclusion(17, size, HASHES[17], proof, ROOTS[size])

    def check_consistency(proof: list[bytes]) -> None:
        verify_consistency(21, size, ROOTS[21], ROOTS[size], proof)

    cases = [
        (check_inclusion, inclusion_proof(17, size, STORE.for_size(size))),
        (check_consistency, consistency_proof(21, size, STORE.for_size(size))),
    ]
    for check, proof in cases:
        check(proof)
        for position in range(len(proof)):
            for bit in range(256):
                altered = list(proof)
                damaged = bytearray(altered[position])
                damaged[bit // 8] ^= 1 << (bit % 8)
                altered[position] = bytes(damaged)
                with pytest.raises(ProofError):
                    check(altered)


def test_a_consistency_proof_fails_against_a_rewritten_history() -> None:
    forked = list(HASHES)
    forked[10] = leaf_hash(b"a quietly edited rating")
    forked_tree = MemoryTree(forked)
    for size1 in range(11, 40):
        proof = forked_tree.consistency_proof(size1, 40)
        verify_consistency(size1, 40, forked_tree.root(size1), forked_tree.root(40), proof)
        with pytest.raises(ProofError):
            verify_consistency(size1, 40, ROOTS[size1], forked_tree.root(40), proof)


@given(st.integers(min_value=1, max_value=N), st.data())
def test_proofs_of_the_memory_tree_verify_against_its_own_roots(size: int, data: st.DataObject) -> None:
    tree = MemoryTree(HASHES)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    size1 = data.draw(st.integers(min_value=1, max_value=size))
    verify_inclusion(index, size, HASHES[index], tree.inclusion_proof(index, size), tree.root(size))
    verify_consistency(size1, size, tree.root(size1), tree.root(size), tree.consistency_proof(size1, size))


def test_trivial_consistency_cases() -> None:
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(7, 7, ROOTS[7], ROOTS[7], [])
    assert consistency_proof(0, 9, STORE.for_size(9)) == []
    assert consistency_proof(9, 9, STORE.for_size(9)) == []
    with pytest.raises(ProofError, match="empty tree proves nothing"):
        verify_consistency(0, 9, EMPTY_ROOT, ROOTS[9], [])
    with pytest.raises(ProofError):
        verify_consistency(7, 7, ROOTS[7], ROOTS[8], [])
    with pytest.raises(ProofError):
        verify_consistency(0, 0, ROOTS[1], ROOTS[1], [])


def test_impossible_proof_requests_are_refused() -> None:
    tree = MemoryTree(HASHES[:10])
    with pytest.raises(ProofError):
        inclusion_proof(10, 10, tree.get_node)
    with pytest.raises(ProofError):
        inclusion_proof(-1, 10, tree.get_node)
    with pytest.raises(ProofError):
        consistency_proof(11, 10, tree.get_node)
    with pytest.raises(ProofError):
        tree.inclusion_proof(3, 11)
    with pytest.raises(ProofError):
        verify_inclusion(10, 10, HASHES[0], [], ROOTS[10])
    with pytest.raises(ProofError):
        verify_consistency(5, 4, ROOTS[5], ROOTS[4], [])


def test_a_proof_hash_of_the_wrong_length_is_refused_before_hashing() -> None:
    proof = inclusion_proof(3, 8, STORE.for_size(8))
    with pytest.raises(ProofError, match="33 bytes"):
        verify_inclusion(3, 8, HASHES[3], [*proof[:-1], proof[-1] + b"\x00"], ROOTS[8])


BIG = [leaf_hash(i.to_bytes(4, "big")) for i in range(3000)]
BIG_TREE = MemoryTree(BIG)


@given(st.integers(min_value=1, max_value=len(BIG)), st.data())
def test_proofs_in_a_tree_of_thousands_verify_against_independently_computed_roots(
    size: int, data: st.DataObject
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    size1 = data.draw(st.integers(min_value=1, max_value=size))
    root, root1 = root_from_leaf_hashes(BIG[:size]), root_from_leaf_hashes(BIG[:size1])
    verify_inclusion(index, size, BIG[index], BIG_TREE.inclusion_proof(index, size), root)
    verify_consistency(size1, size, root1, root, BIG_TREE.consistency_proof(size1, size))
