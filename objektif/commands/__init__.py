"""Subcommands of the `objektif` CLI. Add a module here and to COMMAND_MODULES; each exposes `register(app)`."""

from __future__ import annotations

from types import ModuleType

COMMAND_MODULES: list[ModuleType] = []
