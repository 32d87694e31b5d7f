"""HTTP mode: `opsloop serve` on waitress answers signed requests, refuses forged ones, and
reports database health."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.clock import FixedClock
from bot.org import team_settings
from bot.settings import load_settings
from bot.slack.http import SlackWsgiApp
from bot.wiring import SchemaOutdatedError, deps_from_parts, make_deps, prepare_schema
from storage import schema
from storage.db import make_engine
from tests.conftest import SIGNING_SECRET
from tests.support.slack import SlackStandin, payloads


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _post(url: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _post_command(
    served: str, standin: SlackStandin, command: str, text: str
) -> tuple[str, int, str]:
    """A signed slash command to `opsloop serve`: (the body, the status, the answer)."""
    body = payloads.slash_command(
        command,
        text,
        team_id="T1",
        user_id="U1",
        channel_id="C1",
        response_url=standin.response_url("serve"),
    )
    headers = payloads.signed_headers(SIGNING_SECRET, body, content_type=payloads.FORM)
    status, answered = _post(served + "/slack/events", body, headers)
    return body, status, answered


@pytest.fixture
def served(tmp_path: Path, standin: SlackStandin) -> Iterator[str]:
    """`opsloop serve` in a subprocess on a free port, talking to the stand-in."""
    port = _free_port()
    env = {
        **os.environ,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": standin.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Not a number of tries: on a loaded machine the process takes a while to start.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    output = process.stdout.read().decode()  # type: ignore[union-attr]
                    raise AssertionError(output) from None
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_answers_signed_ops_help_and_rejects_forged(
    served: str, standin: SlackStandin
) -> None:
    body, status, answered = _post_command(served, standin, "/ops", "help")
    assert status == 200
    # the command is answered in the HTTP response body, not with a response_url post
    reply = json.loads(answered)
    assert reply["response_type"] == "ephemeral"
    assert "Opsloop commands" in reply["text"]

    forged = payloads.signed_headers("wrong-secret", body, content_type=payloads.FORM)
    status, text = _post(served + "/slack/events", body, forged)
    assert status == 401
    assert "invalid request" in text
    assert "Opsloop commands" not in text
    assert standin.calls("response_url") == []


def test_serve_health_and_unknown_paths(served: str) -> None:
    with urllib.request.urlopen(served + "/healthz", timeout=5) as response:
        assert response.status == 200
        assert b'"database": "ok"' in response.read()
    status, _ = _post(served + "/elsewhere", "x", {})
    assert status == 404


def test_oversized_body_is_refused_unread(served: str) -> None:
    """A 1 MB body is answered 413 from its headers alone; the server never reads it."""
    host, port = served.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {1024 * 1024}\r\n\r\n".encode()
            + b"a" * 1024
        )
        answer = sock.recv(200).decode()
    assert answer.startswith("HTTP/1.1 413")


def test_healthz_is_503_when_the_database_is_unreachable(standin: SlackStandin) -> None:
    settings = load_settings(
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
        slack_api_url=standin.base_url,
        _env_file=None,
    )
    engine = make_engine(settings.database_url, connect_args={"connect_timeout": 1})
    deps = deps_from_parts(
        settings=settings,
        engine=engine,
        client=None,
        clock=FixedClock.__call__,
    )  # type: ignore[arg-type]
    wsgi = SlackWsgiApp(app=None, deps=deps)  # type: ignore[arg-type]
    statuses: list[str] = []
    body = b"".join(
        wsgi(
            {"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET"},
            lambda status, headers: statuses.append(status),
        )
    )  # type: ignore[arg-type,return-value]
    assert statuses == ["503 Service Unavailable"]
    assert b"unreachable" in body


def test_sqlite_schema_is_brought_up_to_date_at_start(
    tmp_path: Path, standin: SlackStandin
) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'new.db'}", _env_file=None)
    deps = make_deps(settings)
    assert not schema.is_up_to_date(deps.engine)
    prepare_schema(deps)
    assert schema.is_up_to_date(deps.engine)


@pytest.mark.postgres
def test_outdated_postgres_schema_refuses_to_start(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    settings = load_settings(database_url=db_url, _env_file=None)
    deps = make_deps(settings)
    with pytest.raises(SchemaOutdatedError, match="run `opsloop migrate`"):
        prepare_schema(deps)
    result = CliRunner().invoke(cli, ["migrate"], env={"DATABASE_URL": db_url})
    assert result.exit_code == 0, result.output
    assert "→" in result.output
    prepare_schema(deps)  # now up to date: no error
    deps.engine.dispose()


def test_serve_refuses_a_broken_playbook_with_file_and_line(tmp_path: Path) -> None:
    playbook = tmp_path / "playbook.yaml"
    playbook.write_text("timezone: UTC\nprocesses:\n  - key: a\n    name: A\n    owner: nobody\n")
    env = {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pb.db'}",
        "OPSLOOP_PLAYBOOK": str(playbook),
    }
    result = CliRunner().invoke(cli, ["serve", "--port", "0"], env=env)
    assert result.exit_code == 2
    assert f"{playbook}:5" in result.output
    assert "Traceback" not in result.output


def test_playbook_is_imported_before_serving(tmp_path: Path, standin: SlackStandin) -> None:
    from bot.org import service as directory
    from bot.wiring import prepare_to_serve

    playbook = tmp_path / "playbook.yaml"
    playbook.write_text(
        "timezone: Europe/Berlin\nchannels: {digest: C0DIGEST}\n"
        "processes:\n  - key: escalations\n    name: Escalation handling\n    owner: U0LEAD\n"
    )
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'pb.db'}", slack_api_url=standin.base_url,
        slack_bot_token="xoxb-test", opsloop_playbook=str(playbook), _env_file=None,
    )  # fmt: skip
    deps = make_deps(settings)
    prepare_to_serve(deps)
    team = "T0STANDIN"  # the workspace the stand-in's auth.test names
    assert directory.get_process_owner(deps.sessions, team_id=team, process_key="escalations") \
        == "U0LEAD"  # fmt: skip
    digest_channel = team_settings.DIGEST_CHANNEL
    assert directory.get_team_setting(deps.sessions, team_id=team, key=digest_channel) \
        == "C0DIGEST"  # fmt: skip


def test_serve_answers_a_command_it_does_not_have_with_opsloops_help(
    served: str, standin: SlackStandin
) -> None:
    """An app.yaml that declares a command this version lacks: Opsloop's own answer, not
    Bolt's 404 (Slack's `dispatch_failed`)."""
    _, status, answered = _post_command(served, standin, "/retro", "start")
    assert status == 200
    reply = json.loads(answered)
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("Opsloop has no `/retro` command. Here is what it can do:")
    assert "/feedback" in reply["text"]


def test_serve_with_a_playbook_and_no_route_to_slack_blames_slack(tmp_path: Path) -> None:
    """Before: "the playbook … is invalid: cannot ask Slack which workspace…"."""
    playbook = tmp_path / "playbook.yaml"
    playbook.write_text("timezone: UTC\nprocesses:\n  - key: a\n    name: A\n    owner: U0LEAD\n")
    env = {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # the discard port: nothing listens
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pb.db'}",
        "OPSLOOP_PLAYBOOK": str(playbook),
    }
    result = CliRunner().invoke(cli, ["serve", "--port", "0"], env=env)
    assert result.exit_code == 2
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: could not reach Slack at http://127.0.0.1:9/api/")
    assert "check the network and SLACK_API_URL" in last
    assert "invalid" not in result.output
    assert "Traceback" not in result.output
