"""Signed slash commands as Slack sends them, and how to check that each one landed."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from sqlalchemy import create_engine, inspect, text

from bench.load import http_post
from bench.servers import SIGNING_SECRET
from bot.shell import payloads
from bot.shell.standin import SlackStandin

EVENTS_PATH = "/slack/events"
# Commands whose every acknowledged request must leave one row in this table.
STORED_IN = {"/feedback": "feedback"}


def default_command() -> tuple[str, str]:
    """The command the ack benchmark sends: `/feedback` with text, stored at once."""
    return "/feedback", "Bench Co: export times out #bench nps:7"


def request_maker(standin: SlackStandin, command: str, text: str, run: str) -> Callable[[], bytes]:
    """The next request: a signed `command text`, unique trigger id and user, signed now."""
    numbers = itertools.count()

    def make() -> bytes:
        i = next(numbers)
        body = payloads.slash_command(
            command,
            f"{text} {run}-{i}" if command == "/feedback" else text,
            team_id="T0BENCH",
            user_id=f"U{i % 500:06d}",
            channel_id="C0BENCH",
            response_url=standin.response_url(f"{run}-{i}"),
            trigger_id=f"{run}.{i}",
        )
        headers = payloads.signed_headers(SIGNING_SECRET, body, content_type=payloads.FORM)
        return http_post(EVENTS_PATH, body.encode(), headers)

    return make


def stored_rows(database_url: str, command: str) -> int | None:
    """Rows the command stores (None when this command stores nothing countable)."""
    table = STORED_IN.get(command)
    if table is None:
        return None
    engine = create_engine(database_url)
    try:
        if not inspect(engine).has_table(table):
            return None
        with engine.connect() as connection:
            return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()
