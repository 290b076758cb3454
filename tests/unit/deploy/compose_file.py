"""Reading `deploy/`: the compose file, compose-style `${VAR}` interpolation, the Dockerfile's instructions,
and the environment names a pydantic-settings class accepts. Helpers for test_compose.py; no Docker needed."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; `$$` is a literal dollar.
_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


class Unset(KeyError):
    """Interpolation met `${NAME:?message}` with NAME unset or empty: compose refuses to start."""


def load_compose() -> dict[str, Any]:
    """The compose file as plain data (merge keys and anchors resolved by the YAML loader)."""
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's `environment`, given as a mapping or as a list of NAME=value, as strings."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {k: v for k, v in pairs}
    return {k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for k, v in env.items()}


def variables(text: str) -> list[tuple[str, str | None, str | None]]:
    """Every `${NAME…}` in `text`: (name, operator or None, argument or None)."""
    found = []
    for m in _VARIABLE.finditer(text):
        if m.group(0) == "$$":
            continue
        name = m.group("name") or m.group("bare")
        found.append((name, m.group("op"), m.group("arg")))
    return found


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Substitute variables as docker compose does (the forms used here); raises Unset for a missing `:?`."""

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group("name") or m.group("bare")
        op, arg, value = m.group("op"), m.group("arg") or "", env.get(name)
        # the colon forms treat an empty value as unset
        missing = value is None or (value == "" and op is not None and op.startswith(":"))
        if missing and op in (":?", "?"):
            raise Unset(f"{name}: {arg}")
        if missing and op in (":-", "-"):
            return arg
        return value or ""

    return _VARIABLE.sub(one, text)


def accepted_names(settings: type[BaseSettings]) -> dict[str, bool]:
    """Environment variable → whether it is required, for every field of a pydantic-settings class (env_prefix
    plus field name, or the field's alias); upper case, as the classes are case-insensitive."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names: dict[str, bool] = {}
    for field_name, field in settings.model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else field.alias
        names[(alias or prefix + field_name).upper()] = field.is_required()
    return names


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    return [(ins.upper(), rest.strip()) for ins, _, rest in (line.partition(" ") for line in logical)]


def exec_form(arguments: str) -> list[str]:
    """A CMD/ENTRYPOINT/healthcheck in exec form (JSON array); the shell form is refused (signals, PID 1)."""
    parsed = json.loads(arguments)
    assert isinstance(parsed, list), f"not an exec-form array: {arguments}"
    return [str(p) for p in parsed]
