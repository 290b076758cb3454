"""Subcommands of the `objektif` CLI. Add a module here and to COMMAND_MODULES; each exposes `register(app)`."""

from __future__ import annotations

from types import ModuleType

from objektif.commands import audit, bench, enrol, keys, migrate, objections, pdp, publish, run, score, sign, web

COMMAND_MODULES: list[ModuleType] = [
    run, score, migrate, keys, sign, publish, audit, bench, web, objections, enrol, pdp,
]
