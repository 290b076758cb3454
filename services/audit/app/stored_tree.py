"""Running the pure proof functions (which ask a synchronous `get_node`) over the nodes stored in PostgreSQL.

Which perfect subtrees a root or a proof needs depends only on the sizes and the index, never on the hashes
(RFC 9162 §2.1.3, §2.1.4), so each computation runs twice: once with placeholder hashes to learn the node ids,
then, after one query for exactly those nodes, for real. That is O(log n) rows per proof and one round trip.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import asyncpg

from services.audit.adapters import queries
from services.audit.app.errors import StoredTreeDamaged
from services.audit.domain.merkle import HASH_SIZE, GetNode, consistency_proof, inclusion_proof, root_at

T = TypeVar("T")
_PLACEHOLDER = bytes(HASH_SIZE)


async def with_stored_nodes(conn: asyncpg.Connection, part: int, compute: Callable[[GetNode], T]) -> T:
    """``compute(get_node)`` with every node it asks for read from partition ``part``'s `audit.nodes` in one
    query."""
    asked: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        asked.add((level, index))
        return _PLACEHOLDER

    compute(record)
    found = await queries.nodes(conn, part, asked)
    missing = sorted(asked - found.keys())
    if missing:
        raise StoredTreeDamaged(
            f"audit.nodes lacks partition {part}'s perfect subtrees {missing[:5]} (level, index)")
    return compute(lambda level, index: found[(level, index)])


async def stored_root(conn: asyncpg.Connection, part: int, size: int) -> bytes:
    """The root of partition ``part``'s first ``size`` leaves, from the stored nodes."""
    return await with_stored_nodes(conn, part, lambda get: root_at(size, get))


async def stored_inclusion_proof(conn: asyncpg.Connection, part: int, index: int, size: int) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in partition ``part``'s tree of ``size`` leaves, from the stored
    nodes."""
    return await with_stored_nodes(conn, part, lambda get: inclusion_proof(index, size, get))


async def stored_consistency_proof(conn: asyncpg.Connection, part: int, size1: int, size2: int) -> list[bytes]:
    """The consistency proof from ``size1`` to ``size2`` leaves of partition ``part``'s tree, from the stored
    nodes."""
    return await with_stored_nodes(conn, part, lambda get: consistency_proof(size1, size2, get))
