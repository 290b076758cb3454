"""Serving the ledger as a tiled log (c2sp.org/tlog-tiles, issue 19): the latest signed checkpoint, hash tiles
read from the stored perfect subtrees, and entry bundles read from the leaves' bytes.

Nothing here computes a proof: a verifier fetches the tiles it needs and computes roots and proofs itself, so
that a tool we did not write checks the ledger with nothing of ours but the bytes (REGULATION.md §2.1
*transparan*, *akuntabel*). Every resource is a prefix of append-only rows, so its bytes never change.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import asyncpg

from services.audit.adapters import checkpoint_rows, queries
from services.audit.app.errors import EntriesWithheld, NoCheckpoint, TileNotFound
from services.audit.domain.checkpoint import NoteSigner
from services.audit.domain.errors import TileError
from services.audit.domain.tiles import TileRef, entry_bundle, tile_bytes

#: What the auditors' entry-bundle token is derived for (`NoteSigner.derived_secret`).
ENTRIES_TOKEN_LABEL = b"objektif/audit/tile-entries-token/v1"


def entries_token(signer: NoteSigner) -> str:
    """The bearer token that opens the entry bundles when none is configured: derived from the checkpoint key,
    so the operator (and `objektif audit tiles-token`) can hand it to auditors without another secret to keep.
    Entry bundles hold the events themselves, personal data (UU PDP); the hash tiles need no token."""
    return base64.urlsafe_b64encode(signer.derived_secret(ENTRIES_TOKEN_LABEL)).rstrip(b"=").decode()


async def checkpoint_note(conn: asyncpg.Connection, part: int) -> str:
    """Partition ``part``'s latest signed checkpoint, as the note served at ``<prefix>/checkpoint``;
    `NoCheckpoint` before the first one is signed."""
    stored = await checkpoint_rows.latest_checkpoint(conn, part)
    if stored is None:
        raise NoCheckpoint(f"no checkpoint of partition {part} was issued yet")
    return stored.note


async def partitions_note(conn: asyncpg.Connection) -> str:
    """The latest signed checkpoint over every partition; `NoCheckpoint` before the first one is signed."""
    stored = await checkpoint_rows.latest_partitions(conn)
    if stored is None:
        raise NoCheckpoint("no checkpoint was issued yet")
    return stored.note


async def read_tile(conn: asyncpg.Connection, part: int, ref: TileRef) -> bytes:
    """The body of a hash tile or an entry bundle of partition ``part``'s log; `TileNotFound` when the tree
    does not reach its last hash or entry yet, `EntriesWithheld` when a bundle's bytes cannot all be given."""
    if ref.entries:
        begin, end = ref.leaf_range()
        return _bundle(ref, await queries.leaf_bodies(conn, part, begin, end))
    level, begin, end = ref.node_range()
    hashes = await queries.node_run(conn, part, level, begin, end)
    if len(hashes) < ref.count:
        raise TileNotFound(f"the tree does not cover {ref.path()} yet")
    return tile_bytes(ref, hashes)


def _bundle(ref: TileRef, bodies: Sequence[bytes | None]) -> bytes:
    if len(bodies) < ref.count:
        raise TileNotFound(f"the tree does not cover {ref.path()} yet")
    erased = [ref.leaf_range()[0] + i for i, body in enumerate(bodies) if body is None]
    if erased:
        # The hashes stay in the tiles, so every proof still verifies; only these bytes are gone (UU PDP).
        raise EntriesWithheld(f"{ref.path()} holds the erased leaves {erased[:5]}")
    try:
        return entry_bundle(ref, [b for b in bodies if b is not None])
    except TileError as exc:
        raise EntriesWithheld(str(exc)) from exc
