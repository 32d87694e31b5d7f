"""Starting and stopping the servers under test, their databases, and reading their RSS."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
BASELINE_SCRIPT = Path(__file__).resolve().parent / "baseline_app.py"
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A server subprocess on 127.0.0.1:`port` whose output goes to `log_path`."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def rss_kib(self) -> int:
        """Resident set size of the serving process (VmRSS, KiB)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS in /proc status")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _wait_until_up(server: Server, path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    url = f"http://127.0.0.1:{server.port}{path}"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited at start:\n{server.log()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers (404 for the baseline's GET): it is up
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"{server.name} did not answer within {START_TIMEOUT_S:.0f}s")


def _spawn(name: str, argv: list[str], env: dict[str, str], workdir: Path) -> Server:
    port = free_port()
    log_path = workdir / f"{name}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [*argv, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=workdir,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    log_file.close()
    return Server(name, process, port, log_path)


def _base_env(slack_api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPSLOOP_"))}
    env.update(
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=slack_api_url,
        OPSLOOP_LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO),
    )
    return env


def start_opsloop(
    *, database_url: str, slack_api_url: str, workdir: Path, threads: int, name: str = "opsloop"
) -> Server:
    """`python -m bot serve` (the same as `opsloop serve`) on a free port."""
    env = {**_base_env(slack_api_url), "DATABASE_URL": database_url}
    server = _spawn(
        name,
        [sys.executable, "-m", "bot", "serve", "--threads", str(threads)],
        env,
        workdir,
    )
    _wait_until_up(server, "/healthz")
    return server


def start_baseline(*, command: str, slack_api_url: str, workdir: Path, threads: int) -> Server:
    """The bare Bolt app of bench/baseline_app.py on waitress, on a free port."""
    server = _spawn(
        "baseline",
        [sys.executable, str(BASELINE_SCRIPT), "--command", command, "--threads", str(threads)],
        _base_env(slack_api_url),
        workdir,
    )
    _wait_until_up(server, "/")
    return server


def migrate(database_url: str, workdir: Path) -> None:
    """`python -m bot migrate` against `database_url`."""
    env = {**_base_env("http://127.0.0.1:9/api/"), "DATABASE_URL": database_url}
    subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        env=env,
        cwd=workdir,
        check=True,
        capture_output=True,
        timeout=120,
    )


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file, or a new schema on PostgreSQL."""
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
        migrate(url, workdir)
        yield url
        return
    base = os.environ.get("OPSLOOP_BENCH_POSTGRES_URL", DEFAULT_PG_URL)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(base), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    try:
        migrate(url, workdir)
        yield url
    finally:
        with psycopg.connect(_libpq(base), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="opsloop-bench-") as path:
        yield Path(path)
