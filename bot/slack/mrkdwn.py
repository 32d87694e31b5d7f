"""Escaping and trimming of user-derived text for Slack surfaces."""

from __future__ import annotations

# Slack's mrkdwn control characters. `&` must go first or the others get double-escaped.
_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))

SECTION_TEXT_LIMIT = 3000
MESSAGE_TEXT_LIMIT = 3900
ELLIPSIS = "…"


def escape(value: object) -> str:
    """Escape a user-derived value so `<!channel>` or `<url|label>` shows as typed."""
    text = "" if value is None else str(value)
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return text


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, marking the cut with an ellipsis.

    Escaped text is never cut inside an entity such as `&amp;`.
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ELLIPSIS


def quote(value: object, limit: int = 600) -> str:
    """An escaped, trimmed block quote of user text."""
    body = truncate(escape(value), limit)
    return "\n".join("> " + line for line in body.splitlines() or [""])
