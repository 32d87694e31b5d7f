"""Hypothesis fuzzing of every slash command in app.yaml through the real app: whatever
the text, Slack gets a 200 and the user gets one clear answer — never a 5xx, never the
"something went wrong" of an unexpected error, never a traceback."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.deps import Deps
from bot.slack.replies import command_args
from tests.support.paths import MANIFEST
from tests.support.slack import SlackDriver

COMMANDS = [
    c["command"] for c in yaml.safe_load(MANIFEST.read_text())["features"]["slash_commands"]
]
GENERIC_ERROR = "Something went wrong on our side"

# Words the parsers react to, so the fuzzer reaches past the first branch.
WORDS = [
    "help",
    "HELP",
    "start",
    "list",
    "templates",
    "mine",
    "all",
    "owners",
    "owner",
    "status",
    "digest",
    "nudge",
    "preview",
    "log",
    "show",
    "onboarding",
    "payload",
    "Acme:",
    "nps:6",
    "nps:11",
    "nps:-1",
    "NPS=x",
    "#tag",
    "#",
    "#42",
    "<!channel>",
    "<@U0001>",
    "&amp;",
    "`",
    "*",
    "\n",
    "\t",
    ":",
    "é",
    "日本",
    "🙂",
    "x" * 300,
    "",
]
# Any unicode Slack can send (no surrogates; NUL is never in Slack's form data).
free_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=400,
)
command_text = st.one_of(
    free_text,
    st.lists(st.one_of(st.sampled_from(WORDS), free_text), max_size=6).map(" ".join),
)
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def seeded(deps: Deps) -> Deps:
    """Give the commands something to find: a checklist template when checklists exist."""
    try:
        from tests.support.checklists import ONBOARDING, add_templates
    except ImportError:
        return deps
    add_templates(deps, ONBOARDING)
    return deps


@given(text=st.text(max_size=200))
def test_command_args_splits_any_text(text: str) -> None:
    word, rest = command_args(text)
    parts = text.split(None, 1)
    assert word == (parts[0].lower() if parts else "")
    assert rest == (parts[1].strip() if len(parts) > 1 else "")
    assert not any(ch.isspace() for ch in word)


@pytest.mark.parametrize("separator", [" ", "\n", "\t", "\u00a0", "  \n "])
def test_command_word_is_split_on_any_whitespace(slack: SlackDriver, separator: str) -> None:
    result = slack.command("/ops", f"help{separator}me")
    assert "I don't know" not in result.reply_text


def _assert_clear_answer(result: Any, command: str, text: str) -> None:
    assert result.status == 200, (command, text, result.body)
    # never silence: an ephemeral answer, or a modal opened (`/feedback` with no text)
    assert result.replies or result.of("views.open"), (command, text)
    said = result.reply_text
    assert GENERIC_ERROR not in said, (command, text, said)
    assert "Traceback" not in said


@pytest.mark.parametrize("command", COMMANDS)
@FUZZ
@given(text=command_text)
def test_any_command_text_gets_a_clear_answer(
    slack: SlackDriver, seeded: Deps, command: str, text: str
) -> None:
    _assert_clear_answer(slack.command(command, text), command, text)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_answers_for_every_command(slack: SlackDriver, command: str) -> None:
    result = slack.command(command, "help")
    _assert_clear_answer(result, command, "help")
    assert command in result.reply_text
