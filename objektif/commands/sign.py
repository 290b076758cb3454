"""`objektif sign FILE.jsonl --key KEY --source ID [--batch] --out OUT.jsonl` (docs/signing.md).

Input: one envelope per line (blank lines ignored). Each gets `source` = ID (a line naming another source is
an error) and a signature: one by one, or with `--batch` one Ed25519 signature per `--batch-size` lines. Any
bad line stops everything: problems go to stderr with line numbers, nothing is written, exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from contracts.signing import (
    UnsignableEnvelope,
    key_id,
    normalised,
    public_key_bytes,
    sign_batch,
    sign_envelope,
)
from objektif.commands.keys import load_private_key

EXIT_BAD_INPUT = 2
_MAX_REPORTED = 20


def read_envelopes(path: Path, source: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The envelopes of a JSONL file with `source` set, and the problems found (with line numbers)."""
    envelopes: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            problems.append(f"line {number}: not JSON ({error})")
            continue
        if not isinstance(value, dict):
            problems.append(f"line {number}: not a JSON object")
            continue
        if value.setdefault("source", source) != source:
            problems.append(f"line {number}: source is {value['source']!r}, not {source!r}")
            continue
        try:
            envelopes.append(normalised(value))
        except UnsignableEnvelope as error:
            problems.append(f"line {number}: {error}")
    return envelopes, problems


def sign_all(
    envelopes: list[dict[str, Any]], private_key: Any, *, batch: bool, batch_size: int
) -> list[dict[str, Any]]:
    """The envelopes signed singly, or in consecutive batches of at most `batch_size`."""
    if not batch:
        return [sign_envelope(e, private_key) for e in envelopes]
    signed: list[dict[str, Any]] = []
    for start in range(0, len(envelopes), batch_size):
        signed.extend(sign_batch(envelopes[start : start + batch_size], private_key))
    return signed


def sign(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Envelopes, one JSON object a line.")
    ],
    key: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="Private key from `objektif keys new`.")
    ],
    source: Annotated[str, typer.Option(help="The registered source id the key belongs to.")],
    out: Annotated[Path, typer.Option(help="Where to write the signed envelopes (JSONL).")],
    batch: Annotated[bool, typer.Option(help="Sign batches with one signature each (systems only).")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=1_000_000, help="Submissions per batch.")] = 1000,
) -> None:
    """Sign a file of envelopes for submission."""
    envelopes, problems = read_envelopes(file, source)
    private_key = load_private_key(key)
    if problems:
        for problem in problems[:_MAX_REPORTED]:
            typer.echo(problem, err=True)
        if len(problems) > _MAX_REPORTED:
            typer.echo(f"… and {len(problems) - _MAX_REPORTED} more", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    signed = sign_all(envelopes, private_key, batch=batch, batch_size=batch_size)
    out.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in signed))
    batches = -(-len(signed) // batch_size) if batch else 0
    how = f"in {batches} batch(es)" if batch else "one by one"
    typer.echo(
        f"signed {len(signed)} submission(s) {how} with key {key_id(public_key_bytes(private_key))} → {out}"
    )


def register(app: typer.Typer) -> None:
    """Add `objektif sign` to the CLI."""
    app.command("sign")(sign)


__all__ = ["register"]
