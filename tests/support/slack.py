"""The no-Slack harness as the tests use it: the Web API stand-in, signed payloads, the driver.

It lives in `bot.shell` (the playground drives the real app with the same parts); tests
import it from here, so the suite names one place for "what Slack would do".
"""

from __future__ import annotations

from bot.shell import payloads, standin
from bot.shell.driver import Result, SlackDriver
from bot.shell.payloads import multi_select_value, select_value, text_value, user_value
from bot.shell.repl import run_shell
from bot.shell.screen import slack_to_terminal
from bot.shell.standin import ApiCall, SlackStandin

__all__ = [
    "ApiCall",
    "Result",
    "SlackDriver",
    "SlackStandin",
    "multi_select_value",
    "payloads",
    "run_shell",
    "select_value",
    "slack_to_terminal",
    "standin",
    "text_value",
    "user_value",
]
