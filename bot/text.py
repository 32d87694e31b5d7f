"""What people type: made storable, and matched against what they may have meant.

PostgreSQL text cannot hold NUL (0x00), and a lone UTF-16 surrogate (which Slack can pass
through from a broken client) cannot be encoded as UTF-8 at all. Either made every save
fail with "try again", which can never succeed; removing them keeps everything else.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str) -> str:
    """`value` without NUL bytes and lone surrogates."""
    return _UNSTORABLE.sub("", value)


def storable_or_none(value: str | None) -> str | None:
    """`storable` for an optional field."""
    return None if value is None else storable(value)


def closest_keys(wanted: str, names: Mapping[str, str]) -> list[str]:
    """Up to three keys whose name (lower-case, from `names`: name → key) is nearest `wanted`."""
    close = difflib.get_close_matches(wanted.strip().lower(), list(names), n=3, cutoff=0.5)
    return list(dict.fromkeys(names[name] for name in close))


def did_you_mean(keys: list[str]) -> str:
    """` Did you mean `a`, `b`?` for a refusal message, or nothing when there is no guess."""
    return f" Did you mean {', '.join(f'`{k}`' for k in keys)}?" if keys else ""
