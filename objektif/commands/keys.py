"""`objektif keys new --name NAME --out DIR`: an Ed25519 key pair for a source (docs/signing.md §1).

Writes `DIR/NAME.key` (PKCS#8 PEM, unencrypted, mode 0600, never overwritten) and `DIR/NAME.pub` (the base64
raw public key an administrator registers), then prints the public key and its key id.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.signing import b64, key_id, public_key_bytes

EXIT_REFUSED = 2
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

keys_app = typer.Typer(help="Ed25519 keys for sources (departmental systems, persons, administrators).")


def write_private_key(path: Path, private_key: Ed25519PrivateKey) -> None:
    """Write `private_key` as PKCS#8 PEM to a new file readable by its owner only (fails if `path` exists)."""
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read an Ed25519 private key written by `objektif keys new` (PKCS#8 PEM)."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


@keys_app.command("new")
def new(
    name: Annotated[
        str, typer.Option(help="File name stem for the key pair, e.g. the source id's last part.")
    ],
    out: Annotated[Path, typer.Option(help="Directory to write NAME.key and NAME.pub into.")],
) -> None:
    """Generate a key pair; print the public key (base64) to register and its key id."""
    if not _NAME.match(name):
        typer.echo(f"--name must match {_NAME.pattern}", err=True)
        raise typer.Exit(EXIT_REFUSED)
    out.mkdir(parents=True, exist_ok=True)
    private_path, public_path = out / f"{name}.key", out / f"{name}.pub"
    if private_path.exists() or public_path.exists():
        typer.echo(f"refusing to overwrite {private_path} or {public_path}", err=True)
        raise typer.Exit(EXIT_REFUSED)
    private_key = Ed25519PrivateKey.generate()
    public = public_key_bytes(private_key)
    write_private_key(private_path, private_key)
    public_path.write_text(b64(public) + "\n", encoding="ascii")
    typer.echo(f"public_key: {b64(public)}")
    typer.echo(f"key_id: {key_id(public)}")
    typer.echo(f"private key: {private_path} (keep it secret; mode 0600)")


def register(app: typer.Typer) -> None:
    """Add `objektif keys` to the CLI."""
    app.add_typer(keys_app, name="keys")


__all__ = ["load_private_key", "register", "write_private_key"]
