"""app.yaml declares exactly what the code handles, and every scope the code needs."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.support.paths import REPO_ROOT
from tests.support.slack import SlackDriver

ROOT = REPO_ROOT
MANIFEST: dict[str, Any] = yaml.safe_load((ROOT / "app.yaml").read_text())

BUILT_IN_COMMANDS = {
    "/me",
    "/status",
    "/away",
    "/dnd",
    "/shrug",
    "/remind",
    "/msg",
    "/feed",
    "/who",
    "/collapse",
    "/expand",
    "/leave",
    "/join",
    "/open",
    "/search",
    "/topic",
    "/mute",
    "/pro",
    "/shortcuts",
    "/invite",
    "/kick",
    "/archive",
    "/dm",
    "/star",
    "/apps",
    "/feedback-slack",
}
# Web API methods the code may call → the bot scope(s) each needs (None: no scope needed).
# The history methods read any kind of conversation a post went to: public and private
# channels and DMs, so the sender can find a post whose answer was lost.
HISTORY = ("channels:history", "groups:history", "im:history")
METHOD_SCOPES: dict[str, str | tuple[str, ...] | None] = {
    "conversations_history": HISTORY,
    "conversations_replies": HISTORY,
    "chat_postMessage": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_update": "chat:write",
    "chat_getPermalink": None,
    "conversations_open": "im:write",
    "conversations_info": ("channels:read", "groups:read"),
    "users_info": "users:read",
    "users_lookupByEmail": "users:read.email",
    "views_open": None,
    "views_update": None,
    "views_push": None,
    "views_publish": None,
    "files_upload_v2": "files:write",
}

# Bot events → the bot scope each needs to be delivered (None: none).
EVENT_SCOPES: dict[str, str | None] = {
    "app_home_opened": None,
    "reaction_added": "reactions:read",
}

COMMANDS = [c["command"] for c in MANIFEST["features"].get("slash_commands", [])]
SHORTCUTS = [s["callback_id"] for s in MANIFEST["features"].get("shortcuts", [])]
EVENTS = MANIFEST["settings"]["event_subscriptions"].get("bot_events") or []


def test_manifest_is_socket_mode_with_interactivity() -> None:
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True


def test_no_command_is_a_slack_built_in() -> None:
    assert COMMANDS
    assert not set(COMMANDS) & BUILT_IN_COMMANDS
    for command in COMMANDS:
        assert re.fullmatch(r"/[a-z0-9_-]{1,31}", command), command


@pytest.mark.parametrize("command", COMMANDS)
def test_every_declared_command_reaches_a_listener(slack: SlackDriver, command: str) -> None:
    result = slack.command(command, "help")
    assert result.status == 200, f"{command} is declared in app.yaml but not handled"
    assert result.replies, f"{command} help said nothing"


@pytest.mark.parametrize("callback_id", SHORTCUTS)
def test_every_declared_shortcut_reaches_a_listener(slack: SlackDriver, callback_id: str) -> None:
    message = {"type": "message", "user": "U0002", "text": "hello", "ts": "1700000000.000100"}
    result = slack.message_shortcut(callback_id, message)
    assert result.status == 200, f"shortcut {callback_id} is declared but not handled"


@pytest.mark.parametrize("event_type", EVENTS)
def test_every_declared_event_reaches_a_listener(slack: SlackDriver, event_type: str) -> None:
    event = {
        "type": event_type,
        "user": "U0001",
        "channel": "D0001",
        "tab": "home",
        "event_ts": "1700000000.000100",
    }
    result = slack.event(event)
    assert result.status == 200, f"event {event_type} is declared but not handled"


def test_undeclared_command_gets_opsloops_help_not_a_404(slack: SlackDriver) -> None:
    result = slack.command("/not-ours", "help")
    assert result.status == 200
    assert "Opsloop has no `/not-ours` command" in result.replies[0]["text"]
    assert "/checklist start customer-onboarding" in result.replies[0]["text"]


def _called_methods() -> set[str]:
    found: set[str] = set()
    for package in ("bot", "handlers", "schedules"):
        for path in (ROOT / package).rglob("*.py"):
            if "playground" in path.parts:
                continue
            found |= set(re.findall(r"\.(\w+_\w+)\(", path.read_text()))
    return found & set(METHOD_SCOPES)


def _needed_scopes() -> set[str]:
    needed: set[str] = {"commands"} if COMMANDS else set()
    needed |= {scope for event in EVENTS if (scope := EVENT_SCOPES[event]) is not None}
    for method in _called_methods():
        scopes = METHOD_SCOPES[method]
        if isinstance(scopes, str):
            needed.add(scopes)
        elif scopes is not None:
            needed.update(scopes)
    return needed


def test_every_scope_the_code_needs_is_declared() -> None:
    declared = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    needed = _needed_scopes()
    assert needed <= declared, f"missing scopes: {needed - declared}"


def test_the_scopes_doctor_checks_are_the_manifests() -> None:
    from bot.slack.scopes import BOT_SCOPES

    assert set(BOT_SCOPES) == set(MANIFEST["oauth_config"]["scopes"]["bot"])


def test_no_scope_is_declared_that_the_code_does_not_use() -> None:
    declared = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert declared <= _needed_scopes(), f"unused scopes: {declared - _needed_scopes()}"


def _listened_events() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "handlers").rglob("*.py"):
        found |= set(re.findall(r"""\.event\(\s*["']([a-z_]+)["']""", path.read_text()))
    return found


def test_events_listened_to_and_declared_are_the_same() -> None:
    """A listener for an event app.yaml does not subscribe to never runs, and a subscribed
    event without a listener is delivered for nothing: both ways."""
    assert _listened_events() == set(EVENTS)
    assert set(EVENTS) <= set(EVENT_SCOPES), "say which scope each bot event needs"


def test_reaction_capture_scopes_are_declared() -> None:
    declared = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert {"reactions:read", "channels:history", "groups:history"} <= declared
