"""Inclusion and consistency proofs (RFC 9162 §2.1.3, §2.1.4): built from perfect subtrees, and checked.

An inclusion proof lets an employee or an appeal reviewer check that an event is in the ledger under a
signed root; a consistency proof lets an auditor check that a later root only appended to an earlier one
(REGULATION.md §2.1 *akuntabel*; §2.4 keberatan: the reviewer must see the record as it stood). Both are
checked without trusting the database that produced them.

Proof layout (the same as RFC 9162 and transparency-dev/merkle), for the path from a leaf (or from the
subtree that ends the smaller tree) up to the root: first the siblings that are complete perfect subtrees,
lowest first; then, if the tree's right edge is ragged, one ephemeral hash for the leaves to the right;
then the perfect subtrees to the left, lowest first.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from services.audit.domain.errors import ProofError
from services.audit.domain.tree import EMPTY_ROOT, HASH_SIZE, GetNode, fold_right, node_hash, range_nodes


def _trailing_zeros(value: int) -> int:
    return (value & -value).bit_length() - 1


def _path(index: int, level: int, size: int, get_node: GetNode) -> list[bytes]:
    """The audit path from the perfect subtree ``(level, index)`` to the root of a tree of ``size`` leaves."""
    # `inner` is how many levels up the path from our node meets the path to the tree's right edge (the
    # "fork"); below it every sibling is a complete perfect subtree.
    inner = (index ^ (size >> level)).bit_length() - 1
    fork_level, fork_index = level + inner, index >> inner
    begin, end = fork_index << fork_level, (fork_index + 1) << fork_level
    proof = [get_node(level + step, (index >> step) ^ 1) for step in range(inner)]
    right = range_nodes(end, size)
    if right:
        proof.append(fold_right([get_node(lvl, idx) for lvl, idx in right]))
    proof.extend(get_node(lvl, idx) for lvl, idx in reversed(range_nodes(0, begin)))
    return proof


def inclusion_proof(index: int, size: int, get_node: GetNode) -> list[bytes]:
    """The proof that leaf ``index`` is in the tree of the first ``size`` leaves (RFC 9162 §2.1.3.1).

    ``get_node(level, index)`` is only asked for perfect subtrees that lie wholly inside ``[0, size)``.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    return _path(index, 0, size, get_node)


def consistency_proof(size1: int, size2: int, get_node: GetNode) -> list[bytes]:
    """The proof that the tree of ``size1`` leaves is a prefix of the tree of ``size2`` (RFC 9162 §2.1.4.1).

    Empty when the sizes are equal or ``size1`` is 0: there is nothing to prove (and `verify_consistency`
    refuses a proof from the empty tree, as the RFC 6962 vectors require).
    """
    if not 0 <= size1 <= size2:
        raise ProofError(f"cannot prove consistency from size {size1} to size {size2}")
    if size1 in (0, size2):
        return []
    # The largest perfect subtree ending at size1 seeds the proof; when it is the whole old tree (size1 a
    # power of two) the verifier already holds its hash as root1, so it is left out.
    level = _trailing_zeros(size1)
    index = (size1 - 1) >> level
    proof = _path(index, level, size2, get_node)
    return proof if index == 0 else [get_node(level, index), *proof]


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for position, value in enumerate(proof):
        if len(value) != HASH_SIZE:
            raise ProofError(f"proof hash {position} has {len(value)} bytes, want {HASH_SIZE}")


def _require_equal(computed: bytes, expected: bytes, what: str) -> None:
    if not hmac.compare_digest(computed, expected):
        raise ProofError(f"{what} mismatch: computed {computed.hex()}, expected {bytes(expected).hex()}")


def verify_inclusion(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves whose root is ``root``.

    Raises `ProofError` with the reason when it is not; returns nothing when it is (RFC 9162 §2.1.3.2).
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    if len(leaf_hash) != HASH_SIZE:
        raise ProofError(f"leaf hash has {len(leaf_hash)} bytes, want {HASH_SIZE}")
    _check_proof_hashes(proof)
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    if len(proof) != inner + border:
        raise ProofError(f"inclusion proof has {len(proof)} hashes, want {inner + border}")
    computed = leaf_hash
    for step, sibling in enumerate(proof[:inner]):
        computed = node_hash(sibling, computed) if (index >> step) & 1 else node_hash(computed, sibling)
    for sibling in proof[inner:]:
        computed = node_hash(sibling, computed)
    _require_equal(computed, root, "root")


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree (``size1``, ``root1``) is a prefix of the tree (``size2``, ``root2``).

    Raises `ProofError` with the reason when it is not (RFC 9162 §2.1.4.2). Equal sizes need an empty proof
    and equal roots. ``size1 == 0`` is refused whenever ``size2 > 0``: the empty tree is a prefix of every
    tree, so such a proof proves nothing, and a caller meaning "the log started empty" should compare
    ``root1`` with `EMPTY_ROOT` itself.
    """
    if not 0 <= size1 <= size2:
        raise ProofError(f"size1 {size1} is greater than size2 {size2} (or negative)")
    if size1 == size2:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if size1 == 0:
            _require_equal(root1, EMPTY_ROOT, "root1 of the empty tree")
        _require_equal(root2, root1, "root2 of a tree of the same size")
        return
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if not proof:
        raise ProofError("empty consistency proof for different sizes")
    _check_proof_hashes(proof)

    inner = ((size1 - 1) ^ (size2 - 1)).bit_length()
    border = ((size1 - 1) >> inner).bit_count()
    shift = _trailing_zeros(size1)
    inner -= shift
    # The proof starts with the hash of the largest perfect subtree ending at size1, unless that subtree is
    # the whole old tree: then its hash is root1.
    if size1 == 1 << shift:
        seed, rest = root1, proof
    else:
        seed, rest = proof[0], proof[1:]
    if len(rest) != inner + border:
        want = len(proof) - len(rest) + inner + border
        raise ProofError(f"consistency proof has {len(proof)} hashes, want {want}")

    mask = (size1 - 1) >> shift
    old, new = seed, seed
    for step, sibling in enumerate(rest[:inner]):
        if (mask >> step) & 1:
            old, new = node_hash(sibling, old), node_hash(sibling, new)
        else:
            new = node_hash(new, sibling)
    for sibling in rest[inner:]:
        old, new = node_hash(sibling, old), node_hash(sibling, new)
    _require_equal(old, root1, "root1")
    _require_equal(new, root2, "root2")
