"""RFC 6962 Merkle trees over a signed batch's submissions (docs/signing.md §4), hashes and audit paths.

Hashing per RFC 6962 §2.1: leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖ left ‖ right). Pure functions,
shared by signers, the evidence gate and any third-party verifier.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

# SHA-256 states that have absorbed the one-byte prefix: copying one and feeding it the rest costs less than
# concatenating the prefix onto the data (a copy of the whole leaf) and hashing that.
_LEAF_STATE, _NODE_STATE = hashlib.sha256(b"\x00"), hashlib.sha256(b"\x01")


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 ‖ data); `data` is a submission's signing bytes."""
    h = _LEAF_STATE.copy()
    h.update(data)
    return h.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right)."""
    h = _NODE_STATE.copy()
    h.update(left)
    h.update(right)
    return h.digest()


def leaf_hashes(datas: Iterable[bytes]) -> list[bytes]:
    """`leaf_hash` of each of ``datas``, in order (one loop, for whole ledgers and batches)."""
    copy, out = _LEAF_STATE.copy, []
    append = out.append
    for data in datas:
        h = copy()
        h.update(data)
        append(h.digest())
    return out


def _pair_level(level: Sequence[bytes]) -> list[bytes]:
    """The level above ``level``: adjacent pairs hashed left to right, an odd last node carried up as is."""
    copy, pairs, upper = _NODE_STATE.copy, iter(level), []
    append = upper.append
    for left, right in zip(pairs, pairs, strict=False):
        h = copy()
        h.update(left)
        h.update(right)
        append(h.digest())
    if len(level) & 1:
        append(level[-1])
    return upper


def tree_levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the RFC 6962 tree over hashed leaves, leaves first, root last (at least one leaf).

    Pairing left to right, an odd last node carried up, equals RFC 6962's split at the largest power of two.
    """
    if not leaves:
        raise ValueError("a batch holds at least one submission")
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        levels.append(_pair_level(levels[-1]))
    return levels


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The RFC 6962 root over already hashed leaves (at least one), keeping one level at a time."""
    if not leaves:
        raise ValueError("a batch holds at least one submission")
    level = leaves
    while len(level) > 1:
        level = _pair_level(level)
    return level[0]


def _path(levels: list[list[bytes]], index: int) -> tuple[bytes, ...]:
    path: list[bytes] = []
    for level in levels[:-1]:
        if (sibling := index ^ 1) < len(level):
            path.append(level[sibling])
        index //= 2
    return tuple(path)


def inclusion_path(leaves: Sequence[bytes], index: int) -> tuple[bytes, ...]:
    """The RFC 6962 audit path of leaf `index` in the tree over `leaves`, nearest sibling first."""
    if not 0 <= index < len(leaves):
        raise IndexError(index)
    return _path(tree_levels(leaves), index)


def inclusion_paths(leaves: Sequence[bytes]) -> list[tuple[bytes, ...]]:
    """The audit path of every leaf, building the tree once (N log N, for signing a whole batch)."""
    levels = tree_levels(leaves)
    return [_path(levels, index) for index in range(len(leaves))]


def root_from_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root `path` proves `leaf` at `index` belongs to (RFC 9162 §2.1.3.2); None if malformed."""
    if not 0 <= index < size or len(leaf) != 32 or any(len(p) != 32 for p in path):
        return None
    fn, sn, node = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    return node if sn == 0 else None


class AuditStep(NamedTuple):
    """One level of an audit path: the subtree [lo, hi) splits at `mid`; the proven node lies left of it or
    not.

    The path's sibling at this level is the subtree [mid, hi) when `left`, else [lo, mid); the node computed
    is the subtree [lo, hi). Ranges name nodes, so a verifier can remember which nodes of a signed tree it has
    seen.
    """

    lo: int
    mid: int
    hi: int
    left: bool


def audit_steps(index: int, size: int) -> Iterator[AuditStep]:
    """The levels of leaf `index`'s RFC 6962 audit path in a tree of `size` leaves, bottom-up, lazily.

    RFC 6962 §2.1 splits [lo, hi) after the largest power of two below hi - lo, so every subtree is aligned:
    at each level the node holding `index` starts at a multiple of its width, and a level without a right-hand
    sibling (past the last leaf) is carried up without a path entry. The caller checks 0 <= index < size.
    """
    width = 1
    while width < size:
        lo = index & -(width << 1)
        mid = lo + width
        if mid < size:
            yield AuditStep(lo, mid, min(lo + (width << 1), size), index < mid)
        width <<= 1


def audit_path_length(index: int, size: int) -> int:
    """How many hashes the audit path of leaf `index` in a tree of `size` leaves holds (0 <= index < size)."""
    length, width = 0, 1
    while width < size:
        length += (index & -(width << 1)) + width < size
        width <<= 1
    return length
