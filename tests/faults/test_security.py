"""Security properties checked against the running fault stack and the source: least-privilege roles, SQL built
only with parameters, secrets never in the logs."""

from __future__ import annotations

import ast
import base64
import re
from pathlib import Path

import asyncpg
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tests.faults import summary
from tests.faults.harness import FaultStack

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]

#: service → its append-only tables and a column of each (the role may read and insert, never change or remove)
APPEND_ONLY = {
    "evidence": (("evidence.events", "event_id"), ("evidence.rejections", "event_id")),
    "scoring": (("scoring.events", "event_id"), ("scoring.outbox", "event_id")),
    "audit": (("audit.leaves", "idx"), ("audit.leaf_data", "idx"), ("audit.nodes", "idx"),
              ("audit.checkpoints", "size"), ("audit.partition_checkpoints", "n")),
}
#: a table of each schema, to try from the other services' roles
ANY_TABLE = {"evidence": "evidence.events", "scoring": "scoring.appraisals", "audit": "audit.heads"}
REFUSED = (asyncpg.InsufficientPrivilegeError, asyncpg.RaiseError)


async def _refused(dsn: str, sql: str) -> bool:
    """Run `sql` with a service's DSN inside a transaction that is rolled back whatever happens."""
    conn = await asyncpg.connect(dsn)
    try:
        tx = conn.transaction()
        await tx.start()
        try:
            await conn.execute(sql)
        except REFUSED:
            return True
        finally:
            await tx.rollback()
    finally:
        await conn.close()
    return False


async def test_each_service_role_cannot_change_its_append_only_tables(fault_stack: FaultStack) -> None:
    allowed = []
    for service, tables in APPEND_ONLY.items():
        dsn = fault_stack.service_dsn(service)
        for table, column in tables:
            for sql in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}", f"TRUNCATE {table}",
                        f"ALTER TABLE {table} DISABLE TRIGGER ALL"):
                if not await _refused(dsn, sql):
                    allowed.append((service, sql))
    assert not allowed, allowed


async def test_each_service_role_can_neither_read_nor_write_another_services_schema(
    fault_stack: FaultStack
) -> None:
    allowed = []
    for service in APPEND_ONLY:
        dsn = fault_stack.service_dsn(service)
        for other, table in ANY_TABLE.items():
            if other == service:
                continue
            for sql in (f"SELECT * FROM {table} LIMIT 1", f"DELETE FROM {table}",
                        f"INSERT INTO {table} SELECT * FROM {table} LIMIT 0", f"CREATE TABLE {other}.intruder (x int)"):
                if not await _refused(dsn, sql):
                    allowed.append((service, sql))
        if not await _refused(dsn, f"CREATE TABLE {service}.extra (x int)"):
            allowed.append((service, "CREATE TABLE in its own schema"))
    assert not allowed, allowed


SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|TRUNCATE|ALTER|CREATE|DROP|GRANT|COPY|WHERE)\b")
OUR_TABLE = re.compile(r"^(evidence|scoring|audit)\.[a-z_]+$")
TABLE_PARAMETERS = {"PartitionedCounter": (0,)}


def _constants(tree: ast.Module) -> set[str]:
    """Module-level names bound once to a string made only of constants."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            value = node.value
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if value is not None and all(isinstance(n, ast.Constant) for n in ast.walk(value)
                                         if isinstance(n, ast.expr) and not isinstance(n, ast.BinOp | ast.JoinedStr)):
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _names_a_table(expr: ast.expr, constants: set[str]) -> bool:
    """An interpolation we allow in SQL: a constant of this module, or a value named as a table of ours."""
    if isinstance(expr, ast.Name):
        return expr.id in constants or expr.id.endswith("table")
    if isinstance(expr, ast.Attribute):
        return expr.attr.endswith("table")
    return False


def sql_findings(path: Path) -> list[str]:
    """Every place in a module where SQL is built from a value that is not one of our table names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = _constants(tree)
    where = path.relative_to(ROOT)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            if SQL.search(text):
                bad = [ast.unparse(v.value) for v in node.values
                       if isinstance(v, ast.FormattedValue) and not _names_a_table(v.value, constants)]
                found += [f"{where}:{node.lineno}: f-string SQL interpolates {b}" for b in bad]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
            parts = [p for p in (node.left, node.right) if isinstance(p, ast.Constant) and isinstance(p.value, str)]
            others = [p for p in (node.left, node.right) if not isinstance(p, ast.Constant | ast.JoinedStr)]
            if any(SQL.search(p.value) for p in parts) and others:
                found.append(f"{where}:{node.lineno}: SQL built with % or + from {ast.unparse(others[0])}")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if (name == "format" and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Constant)
                    and SQL.search(str(func.value.value))):
                found.append(f"{where}:{node.lineno}: SQL built with str.format")
            for index in TABLE_PARAMETERS.get(name, ()):
                arg = node.args[index] if len(node.args) > index else None
                if not (isinstance(arg, ast.Constant) and OUR_TABLE.match(str(arg.value))):
                    found.append(f"{where}:{node.lineno}: {name} given a table that is not a literal of ours")
            if name == "OutboxSpec":
                for arg in node.args[1:3]:
                    if not (isinstance(arg, ast.Constant) and OUR_TABLE.match(str(arg.value))):
                        found.append(f"{where}:{node.lineno}: OutboxSpec given a table that is not a literal of ours")
    return found


def test_sql_is_built_only_with_parameters_and_our_own_table_names() -> None:
    files = sorted([*ROOT.glob("services/**/*.py"), *ROOT.glob("chassis/*.py")])
    assert len(files) > 20
    findings = [f for path in files for f in sql_findings(path)]
    assert not findings, "\n".join(findings)


def test_the_sql_check_catches_a_value_interpolated_into_sql(tmp_path: Path) -> None:
    bad = ROOT / "tests" / "faults" / "_sql_sample_bad.py"
    bad.write_text('async def f(conn, nip):\n    await conn.execute(f"DELETE FROM scoring.appraisals WHERE nip = '
                   "'{nip}'\")\n    await conn.execute(\"SELECT * FROM x WHERE a = '%s'\" % nip)\n"
                   '    PartitionedCounter(nip, "events")\n')
    try:
        findings = sql_findings(bad)
    finally:
        bad.unlink()
    assert len(findings) == 3, findings


def _forms(secret: bytes) -> set[str]:
    """The ways a secret could appear in a log line."""
    return {base64.b64encode(secret).decode(), base64.urlsafe_b64encode(secret).decode().rstrip("="),
            secret.hex()} | ({secret.decode()} if secret.isascii() else set())


def test_no_secret_appears_in_any_service_log(fault_stack: FaultStack) -> None:
    admin = fault_stack.admin_key().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    secrets = {"admin private key": admin, "checkpoint signing key": fault_stack.checkpoint_key(),
               "read-API token secret": fault_stack.token_secret().encode()}
    logs = fault_stack.log_text()
    assert len(logs) > 10_000  # the scenarios before this test wrote plenty
    leaked = [name for name, secret in secrets.items() for form in _forms(secret) if form in logs]
    summary.NOTES.append(f"secrets scanned in {len(logs) // 1024} KiB of service logs: {len(secrets)} kinds, "
                         f"{len(leaked)} found")
    assert not leaked, leaked
