"""Receipts as c2sp.org/tlog-proof@v1 files: an offline-verifiable proof that one event is in the ledger.

The file is the header line, an optional ``extra`` line (base64, unauthenticated context), ``index N``, the
RFC 6962 inclusion proof one base64 hash per line (the leaf's sibling first), a blank line, and the signed
checkpoint verbatim. Whoever holds the event's bytes and the ledger's verifier key checks it with any tool for
the format, without asking our service again (REGULATION.md §2.1 *transparan*, §2.4 keberatan).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from services.audit.domain.errors import NoteError, TileError
from services.audit.domain.note import b64decode, b64encode, parse_note
from services.audit.domain.tree import HASH_SIZE

HEADER = "c2sp.org/tlog-proof@v1"
MEDIA_TYPE = "text/plain; charset=utf-8"
"""The spec names no media type; the file is UTF-8 text (it ends in a signed note)."""

_INDEX = re.compile(r"index (0|[1-9][0-9]*)")


@dataclass(frozen=True, slots=True)
class TlogProof:
    """The parts of a tlog-proof: the leaf ``index``, its inclusion ``proof``, the signed ``checkpoint`` note
    (as served), and the opaque ``extra`` bytes if any."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None

    def format(self) -> str:
        """The file's text, ending with the checkpoint's last signature line."""
        if self.index < 0 or any(len(h) != HASH_SIZE for h in self.proof):
            raise TileError("a tlog-proof needs a non-negative index and 32-byte hashes")
        parse_note(self.checkpoint)  # a signed note, or NoteError
        lines = [HEADER]
        if self.extra is not None:
            lines.append(f"extra {b64encode(self.extra)}")
        lines.append(f"index {self.index}")
        lines += [b64encode(h) for h in self.proof]
        return "\n".join(lines) + "\n\n" + self.checkpoint


def tlog_proof(index: int, proof: Sequence[bytes], checkpoint: str, extra: bytes | None = None) -> str:
    """Format a tlog-proof file (see `TlogProof.format`)."""
    return TlogProof(index, tuple(proof), checkpoint, extra).format()


def parse_tlog_proof(text: str) -> TlogProof:
    """Read a tlog-proof file; `TileError` unless it has the spec's shape. The checkpoint's signature is not
    checked here: that needs the trusted key (`checkpoint.open_checkpoint`)."""
    head, sep, checkpoint = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != HEADER:
        raise TileError(f"not a {HEADER} file")
    rest = lines[1:]
    extra = None
    if rest and rest[0].startswith("extra "):
        extra = _b64(rest.pop(0).removeprefix("extra "), "extra data")
    if not rest or not (m := _INDEX.fullmatch(rest[0])):
        raise TileError("a tlog-proof names its leaf on an `index N` line")
    proof = tuple(_b64(line, "proof hash") for line in rest[1:])
    if any(len(h) != HASH_SIZE for h in proof):
        raise TileError(f"every proof line is a {HASH_SIZE}-byte hash")
    try:
        parse_note(checkpoint)
    except NoteError as exc:
        raise TileError(f"the tlog-proof's checkpoint is not a signed note: {exc}") from exc
    return TlogProof(int(m.group(1)), proof, checkpoint, extra)


def _b64(text: str, what: str) -> bytes:
    try:
        return b64decode(text, what)
    except NoteError as exc:
        raise TileError(str(exc)) from exc
