"""The production shape in deploy/ (issue 2, item 7), checked without a Docker engine: the compose file's
services, images, health checks, start order and environment against the settings classes the services really
read, and the Dockerfile's commands against modules that exist."""

from __future__ import annotations

import importlib.util
import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from compose_file import (
    DEPLOY,
    ROOT,
    Unset,
    accepted_names,
    dockerfile_instructions,
    environment_of,
    exec_form,
    interpolate,
    load_compose,
    variables,
)
from pydantic_settings import BaseSettings

from objektif.cli import app as cli_app
from objektif.commands.migrate import MigrateSettings
from objektif.stack import SERVICES
from services.audit.main import AuditSettings
from services.evidence.main import EvidenceSettings
from services.scoring.main import ScoringSettings

#: compose service → the settings class its process reads
SETTINGS: dict[str, type[BaseSettings]] = {
    "evidence": EvidenceSettings,
    "scoring": ScoringSettings,
    "audit": AuditSettings,
    "migrate": MigrateSettings,
}
SECRETS = {"POSTGRES_PASSWORD", "EVIDENCE_DB_PASSWORD", "SCORING_DB_PASSWORD", "AUDIT_DB_PASSWORD",
           "OBJEKTIF_ADMIN_PUBLIC_KEYS", "OBJEKTIF_TOKEN_SECRET", "OBJEKTIF_REGISTRAR_KEY", "OBJEKTIF_PDP_KEK",
           "OBJEKTIF_PDP_TOKEN"}
#: values for the secrets, chosen to be visible after interpolation
HOST_ENV = {name: f"secret-{name.lower().replace('_', '-')}" for name in SECRETS}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def long_running(services: dict[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    return ((n, s) for n, s in services.items() if s.get("restart", "no") != "no")


def commands_of(services: dict[str, dict[str, Any]]) -> Iterator[tuple[str, list[str]]]:
    """Every command run in our image: the services' commands, their health checks, the Dockerfile's CMD."""
    for name, service in services.items():
        if service.get("image", "").startswith("objektif:"):
            yield f"{name}.command", list(service["command"])
            test = service.get("healthcheck", {}).get("test")
            if test:
                yield f"{name}.healthcheck", list(test[1:])
    for instruction, arguments in dockerfile_instructions():
        if instruction in ("CMD", "ENTRYPOINT"):
            yield f"Dockerfile {instruction}", exec_form(arguments)


# --- services and images ------------------------------------------------------------------------------------


def test_the_deployment_runs_kafka_postgres_a_migration_and_the_three_services(services: dict) -> None:
    assert set(services) == {"kafka", "postgres", "migrate", *SERVICES}


def test_kafka_is_the_official_apache_image_in_kraft_mode_without_zookeeper(services: dict) -> None:
    kafka = services["kafka"]
    image, _, tag = kafka["image"].partition(":")
    assert image == "apache/kafka"
    assert re.fullmatch(r"\d+\.\d+\.\d+", tag), "pin a release, not latest"
    env = environment_of(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    node_id = env["KAFKA_NODE_ID"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{node_id}@kafka:")
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] in env["KAFKA_LISTENERS"]
    assert env["CLUSTER_ID"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", "topics come from objektif migrate"
    for name, service in services.items():
        assert "zookeeper" not in service.get("image", "").lower(), name
        assert not [k for k in environment_of(service) if "ZOOKEEPER" in k], name


def test_postgresql_is_the_official_16_image_with_a_password_from_the_environment(services: dict) -> None:
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:16"
    assert [(n, op) for n, op, _ in variables(environment_of(postgres)["POSTGRES_PASSWORD"])] == [
        ("POSTGRES_PASSWORD", ":?")]


def test_every_objektif_container_is_built_from_deploy_dockerfile(services: dict) -> None:
    ours = {n: s for n, s in services.items() if n not in ("kafka", "postgres")}
    for name, service in ours.items():
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}, name
        assert service["image"] == services["evidence"]["image"], name


# --- health and start order ---------------------------------------------------------------------------------


def test_every_long_running_service_has_a_health_check(services: dict) -> None:
    running = dict(long_running(services))
    assert set(running) == {"kafka", "postgres", *SERVICES}
    for name, service in running.items():
        test = service.get("healthcheck", {}).get("test")
        assert test, name
        assert test[0] in ("CMD", "CMD-SHELL"), name
        assert not service["healthcheck"].get("disable"), name


def test_each_service_checks_its_own_health_with_its_own_settings(services: dict) -> None:
    for name in SERVICES:
        assert services[name]["healthcheck"]["test"] == ["CMD", "python", "-m", "objektif.health", name]


def test_services_start_after_a_successful_migration_and_healthy_servers(services: dict) -> None:
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"] == {
        "kafka": {"condition": "service_healthy"}, "postgres": {"condition": "service_healthy"}}
    for name in SERVICES:
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "kafka": {"condition": "service_healthy"},
            "postgres": {"condition": "service_healthy"},
        }, name


def test_every_dependency_waits_for_health_or_completion_never_mere_start(services: dict) -> None:
    for name, service in services.items():
        for target, how in (service.get("depends_on") or {}).items():
            one_shot = services[target].get("restart", "no") == "no"
            wanted = "service_completed_successfully" if one_shot else "service_healthy"
            assert how["condition"] == wanted, f"{name} → {target}"


def test_the_migration_runs_objektif_migrate(services: dict) -> None:
    assert services["migrate"]["command"] == ["objektif", "migrate"]


# --- environment against the settings classes ---------------------------------------------------------------


def test_every_variable_a_service_sets_is_one_its_settings_class_reads(services: dict) -> None:
    for name, settings in SETTINGS.items():
        unknown = set(environment_of(services[name])) - set(accepted_names(settings))
        assert not unknown, f"{name} sets variables {settings.__name__} does not read: {sorted(unknown)}"


def test_every_required_setting_of_a_service_is_set(services: dict) -> None:
    for name, settings in SETTINGS.items():
        required = {var for var, needed in accepted_names(settings).items() if needed}
        missing = required - set(environment_of(services[name]))
        assert not missing, f"{name} lacks required {sorted(missing)}"


def test_the_accepted_names_follow_the_fields_so_a_renamed_field_breaks_this_test() -> None:
    evidence = accepted_names(EvidenceSettings)
    assert evidence["OBJEKTIF_EVIDENCE_ADMIN_PUBLIC_KEYS"] is True
    assert evidence["OBJEKTIF_EVIDENCE_DATABASE_URL"] is True
    assert evidence["OBJEKTIF_EVIDENCE_LOG_LEVEL"] is False
    assert set(accepted_names(ScoringSettings)) == {
        "OBJEKTIF_SCORING_" + f.upper() for f in ScoringSettings.model_fields}


def test_the_interpolated_environment_is_valid_for_each_settings_class(
    services: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, settings in SETTINGS.items():
        env = {k: interpolate(v, HOST_ENV) for k, v in environment_of(services[name]).items()}
        with monkeypatch.context() as m:
            for var in [v for v in os.environ if v.startswith("OBJEKTIF_")]:
                m.delenv(var)
            for k, v in env.items():
                m.setenv(k, v)
            parsed = settings()
        assert parsed.kafka_bootstrap == "kafka:9092", name  # type: ignore[attr-defined]
    keys = environment_of(services["evidence"])["OBJEKTIF_EVIDENCE_ADMIN_PUBLIC_KEYS"]
    assert interpolate(keys, HOST_ENV) == HOST_ENV["OBJEKTIF_ADMIN_PUBLIC_KEYS"]


def test_each_service_connects_as_its_own_least_privilege_role(services: dict) -> None:
    for name, (_module, role, _package) in SERVICES.items():
        prefix = f"OBJEKTIF_{name.upper()}_"
        dsn = urlsplit(interpolate(environment_of(services[name])[prefix + "DATABASE_URL"], HOST_ENV))
        assert (dsn.username, dsn.hostname, dsn.path) == (role, "postgres", "/objektif"), name
        assert dsn.password == HOST_ENV[f"{name.upper()}_DB_PASSWORD"], name
    migrate = urlsplit(interpolate(environment_of(services["migrate"])["OBJEKTIF_DATABASE_URL"], HOST_ENV))
    assert migrate.username == "postgres"
    assert environment_of(services["migrate"])["OBJEKTIF_DATABASE_NAME"] == "objektif"


def test_secrets_have_no_defaults_and_compose_refuses_to_start_without_them(compose: dict) -> None:
    text = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    used = {(n, op) for n, op, _ in variables(text)}
    assert {n for n, op in used if op == ":?"} == SECRETS
    assert not [(n, op) for n, op in used if n in SECRETS and op != ":?"]
    for secret in SECRETS:
        with pytest.raises(Unset):
            interpolate(text, {k: v for k, v in HOST_ENV.items() if k != secret})
        with pytest.raises(Unset):
            interpolate(text, {**HOST_ENV, secret: ""})


def test_the_example_env_file_names_every_secret_and_no_value() -> None:
    lines = [ln for ln in (DEPLOY / "example.env").read_text().splitlines() if ln and not ln.startswith("#")]
    assert {ln.split("=", 1)[0] for ln in lines} == SECRETS
    assert all(ln.endswith("=") for ln in lines)
    assert (DEPLOY / ".gitignore").read_text().split() == [".env"]


def test_services_reach_kafka_on_the_listener_the_broker_advertises_inside_compose(services: dict) -> None:
    advertised = environment_of(services["kafka"])["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert "PLAINTEXT://kafka:9092" in advertised
    for name in ("migrate", *SERVICES):
        env = environment_of(services[name])
        assert [v for k, v in env.items() if k.endswith("KAFKA_BOOTSTRAP")] == ["kafka:9092"], name


# --- the image ----------------------------------------------------------------------------------------------


def test_the_image_is_python_311_slim_and_runs_as_an_unprivileged_user() -> None:
    instructions = dockerfile_instructions()
    bases = [args.split()[0] for ins, args in instructions if ins == "FROM"]
    assert bases
    assert all(b == "python:3.11-slim" for b in bases)
    users = [args for ins, args in instructions if ins == "USER"]
    assert users, "no USER: the container would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    last_from = max(i for i, (ins, _) in enumerate(instructions) if ins == "FROM")
    assert any(ins == "USER" for ins, _ in instructions[last_from:]), "USER must be set in the final stage"


def test_the_image_copies_every_package_the_wheel_ships_and_only_existing_paths() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = set(pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])
    copied: set[str] = set()
    for ins, args in dockerfile_instructions():
        if ins == "COPY" and "--from=" not in args:
            *sources, _destination = args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
                copied.add(source.rstrip("/"))
    assert packages <= copied
    assert {"pyproject.toml", "README.md"} <= copied


def test_every_command_the_deployment_runs_names_a_module_or_subcommand_that_exists(services: dict) -> None:
    subcommands = {c.name or c.callback.__name__ for c in cli_app.registered_commands}  # type: ignore[union-attr]
    subcommands |= {g.name for g in cli_app.registered_groups if g.name}
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    seen = []
    for where, argv in commands_of(services):
        seen.append(where)
        if argv[:2] == ["python", "-m"]:
            module = argv[2]
            spec = importlib.util.find_spec(module)
            assert spec is not None, f"{where}: no module {module}"
            if spec.submodule_search_locations is not None:  # a package runs its __main__
                main = importlib.util.find_spec(module + ".__main__")
                assert main is not None, f"{where}: {module} has no __main__"
            else:
                assert spec.origin is not None, where
                source = Path(spec.origin).read_text(encoding="utf-8")
                assert '__name__ == "__main__"' in source, f"{where}: {module} does nothing when run"
        elif argv[0] == "objektif":
            assert scripts["objektif"] == "objektif.cli:app"
            assert argv[1] in subcommands | {"--help"}, f"{where}: objektif has no subcommand {argv[1]}"
        else:
            pytest.fail(f"{where}: unexpected command {argv}")
    assert "Dockerfile CMD" in seen
    assert "migrate.command" in seen
