"""What people type: made storable, and matched against what they may have meant.

PostgreSQL text cannot hold NUL (0x00), and a lone UTF-16 surrogate (which Slack can pass
through from a broken client) cannot be encoded as UTF-8 at all. Either made every save
fail with "try again", which can never succeed; removing them keeps everything else.

The bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069)
go too: one left open reorders the rest of every line Opsloop writes it into (a receipt's
customer, a checklist's header, the App Home, the digest), so a customer named
"\u202eAcme" shows the line after it backwards. Nobody types them on purpose; right-to-left
text needs none of them, and the left-to-right and right-to-left marks (U+200E, U+200F),
which reorder nothing beyond themselves, stay.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping

_UNSTORABLE = re.compile("[\x00\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def storable(value: str) -> str:
    """`value` without NUL bytes, lone surrogates and bidirectional embedding controls."""
    return _UNSTORABLE.sub("", value)


def has_visible_text(value: str) -> bool:
    """Whether `value` has a character that shows: not only spaces, marks like U+200F and
    zero-width characters (which Slack sends as typed, and which read as nothing)."""
    return any(not unicodedata.category(ch).startswith(("Z", "C")) for ch in value)


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
