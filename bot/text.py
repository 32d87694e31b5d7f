"""What people type, made storable: the characters no database can keep are removed.

PostgreSQL text cannot hold NUL (0x00), and a lone UTF-16 surrogate (which Slack can pass
through from a broken client) cannot be encoded as UTF-8 at all. Either made every save
fail with "try again", which can never succeed; removing them keeps everything else.
"""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str) -> str:
    """`value` without NUL bytes and lone surrogates."""
    return _UNSTORABLE.sub("", value)


def storable_or_none(value: str | None) -> str | None:
    """`storable` for an optional field."""
    return None if value is None else storable(value)
