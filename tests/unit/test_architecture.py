"""The dependency rules of ARCHITECTURE.md and STYLE.md, read from syntax trees (no import-linter): services
share only `contracts/` (and the plumbing in `chassis/`), never each other nor the CLI shell; contracts and
chassis depend on no service; a service's domain does no I/O, reads no clock, draws no random numbers."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICE_NAMES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists())

#: What a service's domain may not import: drivers, frameworks and sockets (I/O), the environment (`os`), the
#: clock (`time`), randomness (`random`, `secrets`), and logging (the domain never logs, STYLE.md). `datetime`
#: stays allowed, since times arrive on events; calls such as datetime.now are not checked here.
DOMAIN_FORBIDDEN = ("asyncpg", "aiokafka", "faststream", "os", "time", "random", "secrets", "socket",
                    "subprocess", "asyncio", "logging", "structlog")


@dataclass(frozen=True)
class Import:
    """One imported module name, where it is imported, and on which line."""

    module: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.module}"


def module_name(path: Path, root: Path = ROOT) -> str:
    """`services/scoring/domain/x.py` → `services.scoring.domain.x`; a package's `__init__` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = ROOT) -> Iterator[Import]:
    """Every module the file imports, absolute: `import a.b`; `from a import b` as `a` and `a.b` (b may be a
    module); relative imports resolved against the file's package; `importlib.import_module("…")` literals."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    where = str(path.relative_to(root))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, where, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield Import(module, where, node.lineno)
            for alias in node.names:
                if alias.name != "*":
                    yield Import(f"{module}.{alias.name}", where, node.lineno)
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__")))):
            yield Import(node.args[0].value, where, node.lineno)


def python_files(*parts: str) -> list[Path]:
    return sorted(p for p in ROOT.joinpath(*parts).rglob("*.py") if "__pycache__" not in p.parts)


def within(module: str, *packages: str) -> bool:
    """Whether `module` is one of `packages` or inside one."""
    return any(module == p or module.startswith(p + ".") for p in packages)


def violations(files: list[Path], *forbidden: str) -> list[str]:
    return [str(i) for f in files for i in imports_of(f) if within(i.module, *forbidden)]


# --- the rules ---------------------------------------------------------------------------------------------


def test_there_are_three_services_to_check() -> None:
    assert SERVICE_NAMES == ["audit", "evidence", "scoring"]


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_a_service_imports_no_other_service_and_not_the_cli_shell(service: str) -> None:
    others = [f"services.{o}" for o in SERVICE_NAMES if o != service]
    assert violations(python_files("services", service), *others, "objektif") == []


def test_contracts_import_nothing_from_services_chassis_or_the_cli() -> None:
    assert violations(python_files("contracts"), "services", "chassis", "objektif") == []


def test_chassis_imports_nothing_from_services_or_the_cli() -> None:
    assert violations(python_files("chassis"), "services", "objektif") == []


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_a_domain_does_no_io_reads_no_clock_and_draws_no_random_numbers(service: str) -> None:
    files = python_files("services", service, "domain")
    assert files, f"services/{service}/domain has no modules"
    assert violations(files, *DOMAIN_FORBIDDEN) == []


# --- the checker itself ------------------------------------------------------------------------------------


def _imports_in(tmp_path: Path, relative: str, source: str) -> set[str]:
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return {i.module for i in imports_of(path, root=tmp_path)}


def test_the_checker_sees_relative_from_and_dynamic_imports(tmp_path: Path) -> None:
    found = _imports_in(tmp_path, "services/scoring/domain/x.py", (
        "import os.path\n"
        "from ..adapters import store\n"
        "from . import sibling\n"
        "from ...evidence.domain import gate\n"
        "import importlib\n"
        "mod = importlib.import_module('services.audit.main')\n"
        "def f():\n    from objektif import cli\n"
    ))
    assert {"os.path", "services.scoring.adapters.store", "services.scoring.domain.sibling",
            "services.evidence.domain.gate", "services.audit.main", "objektif.cli"} <= found
    assert within("os.path", "os")
    assert within("time", "time")
    assert not within("timeit", "time")


def test_the_checker_resolves_relative_imports_in_a_package_init(tmp_path: Path) -> None:
    found = _imports_in(tmp_path, "services/audit/domain/__init__.py", "from .tree import Frontier\n")
    assert "services.audit.domain.tree.Frontier" in found
    assert "services.audit.domain.tree" in found
