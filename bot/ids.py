"""Slack's id shapes, written once: what a user or channel id looks like.

Anything else in a field that should hold an id (a forged `selected_user`, a typo in the
playbook) is refused, never rendered as `<@…>` and never used as a channel. Ids are at most
31 characters after the prefix letter (the columns hold 32).
"""

from __future__ import annotations

import re

# U… for users, W… for Enterprise Grid users; upper-case letters and digits.
USER_ID_PATTERN = r"[UW][A-Z0-9]{2,31}"
# T… a workspace, E… an Enterprise Grid org (the workspace of an org-wide install).
TEAM_ID_PATTERN = r"[TE][A-Z0-9]{2,31}"
# C… public, G… private (legacy) channels, D… direct messages.
CHANNEL_ID_PATTERN = r"[CGD][A-Z0-9]{2,31}"

USER_ID = re.compile(rf"\A{USER_ID_PATTERN}\Z")
TEAM_ID = re.compile(rf"\A{TEAM_ID_PATTERN}\Z")
CHANNEL_ID = re.compile(rf"\A{CHANNEL_ID_PATTERN}\Z")
# `<@U123>` or `<@U123|dana>` as Slack writes a mention into command text.
USER_MENTION = re.compile(rf"<@({USER_ID_PATTERN})(?:\|[^>]*)?>")
# A user id standing alone as a word, e.g. in exported YAML.
USER_ID_WORD = re.compile(rf"\b({USER_ID_PATTERN})\b")


def is_user_id(value: object) -> bool:
    """True when `value` is shaped like a Slack user id."""
    return isinstance(value, str) and USER_ID.match(value) is not None


# An e-mail address as a playbook may name an owner by (resolved with users.lookupByEmail);
# no spaces and none of Slack's markup characters, one @, a dot in the domain.
EMAIL = re.compile(r"\A[^@\s<>|&]+@[^@\s<>|&]+\.[^@\s<>|&.]+\Z")


def is_email(value: object) -> bool:
    """True for something shaped like an e-mail address (alice@example.com)."""
    return isinstance(value, str) and len(value) <= 254 and EMAIL.match(value) is not None


def is_channel_id(value: object) -> bool:
    """True when `value` is shaped like a Slack channel (or DM) id."""
    return isinstance(value, str) and CHANNEL_ID.match(value) is not None


def is_team_id(value: object) -> bool:
    """True when `value` is shaped like a Slack workspace or org id."""
    return isinstance(value, str) and TEAM_ID.match(value) is not None


# Record ids are INTEGER columns: the largest one PostgreSQL holds (and SQLite is given).
MAX_RECORD_ID = 2**31 - 1


def parse_record_id(value: object) -> int | None:
    """A record id from a button value or a typed number (1 … MAX_RECORD_ID); None for
    anything else, so a forged `99999999999999999999` is "does not exist", not a database
    error."""
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    if not text.isdigit() or len(text) > len(str(MAX_RECORD_ID)):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_RECORD_ID else None
