"""The ledger as C2SP tlog-tiles (c2sp.org/tlog-tiles): tile coordinates, their paths, and what each holds.

A tile is 256 consecutive hashes at one height of the tree: tile ``(L, n)`` holds the Merkle Tree Hashes of the
``256**L``-leaf perfect subtrees ``256n .. 256n + 255``, which are exactly the stored nodes at node level ``8L``
with indexes ``256n .. 256n + 255`` (level 0 = the leaf hashes). The right edge of each tile level is *partial*:
the first ``W`` of those hashes, ``W = floor(size / 256**L) mod 256``, at ``tile/<L>/<N>.p/<W>``. Entry bundles
``tile/entries/<N>[.p/<W>]`` hold the leaves' bytes, each ``uint16`` big-endian length-prefixed, and each entry's
RFC 6962 leaf hash is the matching hash of the level-0 tile. With them a verifier we did not write computes any
root and any proof, so the ledger needs no dynamic proof API to be checked (REGULATION.md §2.1 *transparan*).

Pure: no I/O; the stored nodes and bytes arrive from the use cases.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from services.audit.domain.errors import TileError
from services.audit.domain.tree import HASH_SIZE

TILE_HEIGHT = 8
"""Tree levels one tile spans."""

TILE_WIDTH = 1 << TILE_HEIGHT
"""Hashes in a full tile (and entries in a full bundle): 256."""

MAX_TILE_LEVEL = 63
MAX_ENTRY_BYTES = 0xFFFF
"""The longest entry an entry bundle can carry: its length prefix is a uint16."""

_INDEX = r"(?:x\d{3}/)*\d{3}"
_WIDTH = r"(?:\.p/([1-9]\d*))?"
_TILE_PATH = re.compile(rf"tile/(0|[1-9]\d*)/({_INDEX}){_WIDTH}")
_BUNDLE_PATH = re.compile(rf"tile/entries/({_INDEX}){_WIDTH}")


def encode_index(n: int) -> str:
    """A tile index as zero-padded 3-digit path elements, all but the last prefixed ``x``: 1234067 ->
    ``x001/x234/067``."""
    if n < 0:
        raise TileError(f"negative tile index {n}")
    groups: list[str] = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if not n:
            break
    return "/".join([*("x" + g for g in reversed(groups[1:])), groups[0]])


def decode_index(text: str) -> int:
    """The inverse of `encode_index`; `TileError` unless ``text`` is its canonical form (no leading ``x000``)."""
    n = int(text.replace("x", "").replace("/", ""))
    if encode_index(n) != text:
        raise TileError(f"tile index {text!r} is not canonically encoded")
    return n


@dataclass(frozen=True, slots=True)
class TileRef:
    """One resource of the tiled log: a hash tile at ``level`` (or the entry bundle when ``entries``), its index
    in that level, and ``width`` for a partial tile (None for a full one)."""

    level: int
    index: int
    width: int | None = None
    entries: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.level <= MAX_TILE_LEVEL or (self.entries and self.level):
            raise TileError(f"tile level {self.level} outside 0..{MAX_TILE_LEVEL}")
        if self.index < 0:
            raise TileError(f"negative tile index {self.index}")
        if self.width is not None and not 1 <= self.width < TILE_WIDTH:
            raise TileError(f"partial width {self.width} outside 1..{TILE_WIDTH - 1}")

    @property
    def count(self) -> int:
        """How many hashes (or entries) the resource holds."""
        return TILE_WIDTH if self.width is None else self.width

    @property
    def full(self) -> bool:
        """A full tile: its bytes can never change, so it is cached for good."""
        return self.width is None

    def path(self) -> str:
        """The resource path under the log's prefix, e.g. ``tile/1/x001/234.p/7`` or ``tile/entries/000``."""
        head = "tile/entries" if self.entries else f"tile/{self.level}"
        tail = "" if self.width is None else f".p/{self.width}"
        return f"{head}/{encode_index(self.index)}{tail}"

    def node_range(self) -> tuple[int, int, int]:
        """``(node level, first index, end index)`` of the stored perfect subtrees the hash tile holds."""
        begin = self.index * TILE_WIDTH
        return self.level * TILE_HEIGHT, begin, begin + self.count

    def leaf_range(self) -> tuple[int, int]:
        """``(first, end)`` leaf indexes whose bytes the entry bundle holds."""
        begin = self.index * TILE_WIDTH
        return begin, begin + self.count


def parse_path(path: str) -> TileRef:
    """The resource a path names (``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]``); `TileError` for
    anything the spec does not allow (leading zeroes, short groups, a width of 0 or above 255)."""
    if m := _BUNDLE_PATH.fullmatch(path):
        index, width = m.groups()
        return TileRef(0, decode_index(index), None if width is None else int(width), entries=True)
    if m := _TILE_PATH.fullmatch(path):
        level, index, width = m.groups()
        return TileRef(int(level), decode_index(index), None if width is None else int(width))
    raise TileError(f"not a tile path: {path!r}")


def tiles_of(size: int, *, entries: bool = False) -> Iterator[TileRef]:
    """Every hash tile (or, with ``entries``, every entry bundle) of the tree of ``size`` leaves, full ones
    first at each level, then the level's partial right edge when it has one. Empty tiles do not exist."""
    level = 0
    while True:
        nodes = size >> (TILE_HEIGHT * level)
        if not nodes:
            return
        full, width = divmod(nodes, TILE_WIDTH)
        for index in range(full):
            yield TileRef(level, index, entries=entries)
        if width:
            yield TileRef(level, full, width, entries=entries)
        if entries:
            return
        level += 1


def tile_bytes(ref: TileRef, hashes: Sequence[bytes]) -> bytes:
    """The tile's body: its hashes concatenated, exactly ``32 * count`` bytes."""
    if len(hashes) != ref.count or any(len(h) != HASH_SIZE for h in hashes):
        raise TileError(f"{ref.path()} needs {ref.count} hashes of {HASH_SIZE} bytes")
    return b"".join(hashes)


def entry_bundle(ref: TileRef, entries: Sequence[bytes]) -> bytes:
    """The entry bundle's body: each entry's length as a big-endian uint16, then the entry."""
    if len(entries) != ref.count:
        raise TileError(f"{ref.path()} needs {ref.count} entries, got {len(entries)}")
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY_BYTES:
            raise TileError(f"an entry of {len(entry)} bytes does not fit {ref.path()}'s uint16 length prefix")
        out += len(entry).to_bytes(2, "big")
        out += entry
    return bytes(out)
