"""The `objektif` console command. Each subcommand lives in `objektif/commands/<name>.py` and registers itself
through `register(app)`; this module only assembles them, so importing it connects to nothing."""

from __future__ import annotations

import typer

from objektif.commands import COMMAND_MODULES

app = typer.Typer(
    name="objektif",
    help="Objektif: evidence-based, event-sourced appraisal of civil servants (ASN).",
    no_args_is_help=True,
    add_completion=False,
)

for _module in COMMAND_MODULES:
    _module.register(app)

if __name__ == "__main__":
    app()
