"""The RFC 6962 test vectors (transparency-dev/merkle, Apache-2.0) in tests/data/rfc6962, for every test that
checks a Merkle implementation against them (the ledger's, and the batch signatures')."""

from __future__ import annotations

from pathlib import Path

VECTORS = Path(__file__).resolve().parent / "data" / "rfc6962"

#: Every probe file, inclusion and consistency.
PROBES = sorted(VECTORS.rglob("*.json"))

#: The leaves behind the `0..4` folders: the classic Certificate Transparency inputs.
CLASSIC_LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
]
