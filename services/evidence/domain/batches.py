"""Signed batches at the gate (docs/signing.md §4): the `batch:` signature read once per member, and each batch's
RFC 6962 tree rebuilt once from all its members present.

A batch of N whose members all arrive together costs N leaf hashes and N - 1 node hashes (the tree, once) and
one Ed25519 verification; each member's audit path is then compared with the tree's nodes, not rehashed, so it
still must be exactly the path that proves it (a member stays individually verifiable downstream). The
comparison is of the path's text: screening leaves it undecoded (`BatchMember`), and a member whose text is
the canonical base64 of its tree path needs no decoding; any other is decoded as strictly as before and proven
through its own path. Members of a batch that arrives in part (split over two reads) are proven by their own
paths, about log2(N) hashes each.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Literal

from contracts.merkle import audit_path_length, audit_steps, node_hash
from contracts.signing import BATCH_PREFIX, BatchSignature, unb64, verify_batch_root
from services.evidence.domain.state import SourceKey

#: A batch's identity as its members carry it: (size, Ed25519 signature).
BatchId = tuple[int, bytes]

#: A singly signed submission's Ed25519 check: (raw public key, signature as submitted, signing bytes).
SingleCheck = tuple[bytes, str, bytes]

_MAX_PATH_BYTES = 64 * 32


class Malformed(Enum):
    """What `BatchMemo.prove` answers for a member whose audit path is not canonical base64 of whole hashes."""

    PATH = "path"


@lru_cache(maxsize=4096)
def _signature(text: str) -> bytes | None:
    """The 64 signature bytes of a batch: the same in each of its members, so decoded once."""
    signature = unb64(text)
    return signature if signature is not None and len(signature) == 64 else None


@dataclass(frozen=True, slots=True)
class BatchMember:
    """A member's `batch:` signature as screened: size, index and signature checked and decoded, the audit path
    kept as its text (`decoded` reads it as `contracts.signing.parse_batch_signature` does)."""

    size: int
    index: int
    signature: bytes
    path_text: str

    def decoded(self) -> BatchSignature | None:
        """The full signature parts, or None when the path is not canonical base64 of at most 64 whole hashes."""
        path = unb64(self.path_text)
        if path is None or len(path) % 32 or len(path) > _MAX_PATH_BYTES:
            return None
        return BatchSignature(
            self.size, self.index, self.signature, tuple([path[i : i + 32] for i in range(0, len(path), 32)])
        )


def parse_batch_member(text: str) -> BatchMember | None:
    """A `batch:` signature's size, index and signature (None when any of them is malformed), its path unread:
    `member.decoded()` then parses as `contracts.signing.parse_batch_signature` does (the same strings, to the
    same parts), at a fraction of its cost, since this runs for every member of every batch."""
    parts = text.split(":")
    if len(parts) != 5 or parts[0] + ":" != BATCH_PREFIX:
        return None
    _, size_s, index_s, sig_s, path_s = parts
    if not (size_s.isdigit() and index_s.isdigit() and size_s.isascii() and index_s.isascii()):
        return None
    if len(size_s) > 9 or len(index_s) > 9:
        return None
    size, index = int(size_s), int(index_s)
    if size_s != str(size) or index_s != str(index) or not 0 <= index < size:
        return None
    signature = _signature(sig_s)
    return None if signature is None else BatchMember(size, index, signature, path_s)


@dataclass(frozen=True, slots=True)
class _Tree:
    """A batch's tree over all its members' leaves: every level, leaves first, and the root."""

    levels: tuple[list[bytes], ...]
    root: bytes

    def path(self, index: int) -> tuple[bytes, ...]:
        """The RFC 6962 audit path of leaf `index` (as `contracts.merkle.inclusion_path`)."""
        path = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index >>= 1
        return tuple(path)

    def path_text(self, index: int) -> str:
        """Leaf `index`'s audit path as a member carries it: canonical base64 of its hashes concatenated."""
        return binascii.b2a_base64(b"".join(self.path(index)), newline=False).decode("ascii")


@dataclass
class BatchMemo:
    """What one `decide`/`decide_batch` call knows about signed batches. Created and dropped per call; mutable on
    purpose: it is a cache, not state.

    `members` (from `BatchMemo.over`): each batch's leaves by index, when every one of its N members is in this
    call; its tree is built on first use. `verdicts`: (key id, size, signature, root) → whether the key signed
    that root, so a batch, good or bad, costs one Ed25519 verification per key.
    """

    members: dict[BatchId, dict[int, bytes]] = field(default_factory=dict)
    trees: dict[BatchId, _Tree] = field(default_factory=dict)
    verdicts: dict[tuple[str, int, bytes, bytes], bool] = field(default_factory=dict)
    #: singly signed submissions' verdicts made ahead of the call (`authenticate.single_checks`), by check
    singles: Mapping[SingleCheck, bool] = field(default_factory=dict)
    ed25519_checks: int = 0
    node_hashes: int = 0

    @classmethod
    def over(cls, batches: Iterable[tuple[BatchSignature | BatchMember, bytes]]) -> BatchMemo:
        """A memo for a call that will authenticate these batch members (signature parts, leaf hash): a batch
        all of whose N members are among them, each index with one leaf, is proven through one tree.

        A member whose path turns out malformed still holds its place: the tree only ever vouches for a member
        whose leaf and path are exactly the tree's, which is the root its own path proves."""
        groups: dict[BatchId, dict[int, bytes]] = {}
        ambiguous: set[BatchId] = set()
        for batch, leaf in batches:
            batch_id = (batch.size, batch.signature)
            leaves = groups.setdefault(batch_id, {})
            if leaves.setdefault(batch.index, leaf) != leaf:
                ambiguous.add(batch_id)  # two members claim one place: each must prove itself
        members = {b: leaves for b, leaves in groups.items() if b not in ambiguous and len(leaves) == b[0]}
        return cls(members=members)

    def prove(self, leaf: bytes, member: BatchMember) -> bytes | Literal[Malformed.PATH] | None:
        """The root the member's audit path proves its leaf under (None for a path of the wrong length), or
        `Malformed.PATH` when the path does not decode as `contracts.signing.parse_batch_signature` requires.

        Where the batch's tree is built and holds this leaf at the member's index, a path whose text is the
        tree's path for it is well formed and proves the tree's root: no decoding, no hashing."""
        batch_id = (member.size, member.signature)
        tree = self.trees.get(batch_id) or self._tree(batch_id)
        if (tree is not None and tree.levels[0][member.index] == leaf
                and tree.path_text(member.index) == member.path_text):
            return tree.root
        batch = member.decoded()
        return Malformed.PATH if batch is None else self.root_of(leaf, batch)

    def root_of(self, leaf: bytes, batch: BatchSignature) -> bytes | None:
        """The root the member's audit path proves its leaf under; None for a path of the wrong length."""
        if len(batch.path) != audit_path_length(batch.index, batch.size):
            return None
        batch_id = (batch.size, batch.signature)
        tree = self.trees.get(batch_id) or self._tree(batch_id)
        if tree is not None and tree.levels[0][batch.index] == leaf and tree.path(batch.index) == batch.path:
            return tree.root
        node = leaf
        for step, sibling in zip(audit_steps(batch.index, batch.size), batch.path, strict=True):
            self.node_hashes += 1
            node = node_hash(node, sibling) if step.left else node_hash(sibling, node)
        return node

    def _tree(self, batch_id: BatchId) -> _Tree | None:
        leaves = self.members.pop(batch_id, None)
        if leaves is None:
            return None
        level = [leaves[i] for i in range(batch_id[0])]
        levels = [level]
        while len(level) > 1:
            paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            self.node_hashes += len(paired)
            if len(level) % 2:
                paired.append(level[-1])
            levels.append(paired)
            level = paired
        tree = _Tree(tuple(levels), level[0])
        self.trees[batch_id] = tree
        return tree

    def signed(self, key: SourceKey, root: bytes, batch: BatchSignature | BatchMember) -> bool:
        """Whether `key` signed the batch message for `root` (verified once per key, root and signature)."""
        verdict_key = (key.key_id, batch.size, batch.signature, root)
        verdict = self.verdicts.get(verdict_key)
        if verdict is None:
            self.ed25519_checks += 1
            parts = BatchSignature(batch.size, batch.index, batch.signature, ())  # the message needs no path
            verdict = self.verdicts[verdict_key] = verify_batch_root(root, parts, key.public_key)
        return verdict
