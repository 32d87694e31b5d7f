"""`opsloop shell` at a real terminal (a pseudo-terminal): a long paste arrives whole.

A terminal's own line editing keeps at most 4,095 characters of a line and drops the rest
without a word; the shell reads through readline, which has no such limit. Without it this
test stores 4,079 characters of the feedback instead of 9,509.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

pty = pytest.importorskip("pty")  # POSIX only


def _read_until(fd: int, marker: bytes, seconds: float = 60.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + seconds
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    assert marker in seen, seen[-500:]
    return seen


def test_a_paste_longer_than_a_terminal_line_is_stored_whole(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'shell.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPSLOOP_"))}
    env["DATABASE_URL"] = database_url
    main, terminal = pty.openpty()
    shell = subprocess.Popen(
        [sys.executable, "-m", "bot", "shell", "--empty", "--database-url", database_url],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        cwd=tmp_path,
        close_fds=True,
    )
    os.close(terminal)
    try:
        _read_until(main, b"opsloop> ")
        text = "Acme: " + "the export is slow " * 500 + "END"
        line = f"/feedback {text}\r".encode()
        for start in range(0, len(line), 1024):  # as a terminal delivers a paste
            os.write(main, line[start : start + 1024])
        _read_until(main, b"opsloop> ")
        os.write(main, b"quit\r")
        assert shell.wait(30) == 0
    finally:
        if shell.poll() is None:
            shell.kill()
        os.close(main)
    exported = subprocess.run(
        [sys.executable, "-m", "bot", "export", "feedback", "--format", "json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    [record] = json.loads(exported.stdout)
    assert len(text) > 4095
    assert record["customer"] == "Acme"
    assert record["text"] == text.removeprefix("Acme: ")
