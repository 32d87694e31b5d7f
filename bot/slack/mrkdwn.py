"""Slack's mrkdwn, written once: escaping, trimming, quoting, mentions and date tokens.

Pure text in, text out (no Slack calls), so renderers and use cases alike may use it.
Mentions are written by Opsloop, never passed through from user text: a value that is not
shaped like an id (`bot.ids`) is escaped and shown as text, so it can never ping anyone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.ids import is_channel_id, is_user_id
from bot.periods import zone_label

# The limits live in bot.slack.limits; re-exported here for the renderers that use them.
from bot.slack.limits import MESSAGE_TEXT_LIMIT as MESSAGE_TEXT_LIMIT
from bot.slack.limits import SECTION_TEXT_LIMIT as SECTION_TEXT_LIMIT

# Slack's mrkdwn control characters. `&` must go first or the others get double-escaped.
_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))

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
    """An escaped block quote of user text, at most `limit` characters in all.

    Cut after quoting: `> ` adds two characters a line, so a pasted list of short lines
    would otherwise overflow the section it is put in.
    """
    lines = escape(value).splitlines() or [""]
    return truncate("\n".join("> " + line for line in lines), limit)


# What the URL of a link may take of a 3,000-character section once escaped: `&` becomes
# `&amp;`, so a query string of 400 parameters grows past the section on its own.
LINK_URL_BUDGET = 1500


# What Slack can take as a link's target: http(s), and nothing that ends or splits the
# `<url|label>` markup (whitespace, Unicode's too, control characters, `|`, `<`, `>`).
_LINK_TARGET = re.compile(r"https?://[^\s\x00-\x1f\x7f-\x9f|<>]+")


def link(url: str | None, label: str) -> str:
    """`<url|label>` (the url escaped, `label` already mrkdwn); just `label` when `url` is
    not an http(s) address Slack can link (a space, a newline or a `|` in it, say) or its
    escaped form is longer than LINK_URL_BUDGET, so a link can never push its block over
    Slack's limit (a cut link would show its markup instead)."""
    if not url or not _LINK_TARGET.fullmatch(url):
        return label
    target = escape(url)
    return label if len(target) > LINK_URL_BUDGET else f"<{target}|{label}>"


def typed(value: object, limit: int = 80) -> str:
    """What the person typed, quoted back in a reply or an error: escaped and cut short, so
    `<!channel>` shows as typed and pings nobody."""
    return truncate(escape(" ".join(str(value or "").split())), limit)


def user_ref(value: object, *, otherwise: str = "someone") -> str:
    """`<@U…>` for a user id; anything else escaped as text (`otherwise` when empty)."""
    if is_user_id(value):
        return f"<@{value}>"
    return escape(value) if value else otherwise


def channel_ref(value: object, *, otherwise: str = "") -> str:
    """`<#C…>` for a channel id; anything else escaped as text (`otherwise` when empty)."""
    if is_channel_id(value):
        return f"<#{value}>"
    return escape(value) if value else otherwise


def date_token(at: datetime, fmt: str, fallback: str) -> str:
    """`<!date^…>`: Slack shows `at` in each reader's own timezone; `fallback` where it can't.

    `fmt` is Slack's token format, e.g. `{date_short_pretty} {time}`.
    """
    return f"<!date^{int(at.timestamp())}^{fmt}|{escape(fallback)}>"


def local_time(at: datetime, reader_tz: ZoneInfo | None = None) -> str:
    """A moment each reader sees in their own timezone. The fallback (notifications, plain
    text) is in `reader_tz` when the one reader is known, labelled with that zone, else in
    UTC, labelled so."""
    utc = at.astimezone(UTC)
    fallback = zone_label(utc, reader_tz) if reader_tz is not None else f"{utc:%Y-%m-%d %H:%M} UTC"
    return date_token(utc, "{date_short_pretty} {time}", fallback)


def local_date(at: datetime) -> str:
    """A day each reader sees in their own timezone (the fallback is `at`'s own date)."""
    return date_token(at, "{date_short_pretty}", f"{at:%Y-%m-%d}")


# Slack sends `&`, `<` and `>` in typed text as entities (and only those three).
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
# Markup Slack writes into typed text: mentions, channel links, URLs, special mentions.
_MARKUP = re.compile(r"<([@#!]?)([^<>|]*)(?:\|([^<>]*))?>")


def decode_entities(text: str) -> str:
    """Slack's `&amp;`, `&lt;`, `&gt;` back to what the person typed; `&amp;` last, so
    `&amp;lt;` (someone typing `&lt;`) comes back as `&lt;` and not as `<`."""
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def plain_text(text: str) -> str:
    """A message as a reader sees it, for storing: markup such as `<@U1|dana>`,
    `<#C1|general>` or `<https://x.io|the docs>` becomes `@dana`, `#general`,
    `the docs (https://x.io)`; entities are decoded. Run on Slack's raw text, once."""

    def readable(match: re.Match[str]) -> str:
        sigil, target, label = match.group(1), match.group(2), match.group(3)
        if sigil in ("@", "#"):
            return f"{sigil}{label or target}"
        if sigil == "!":  # <!here>, <!subteam^S1|@design>, <!date^…|Nov 23>
            if target.startswith("date"):
                return label or ""
            name = label or target.split("^")[0]
            return name if name.startswith("@") else f"@{name}"
        if label and label != target:
            return f"{label} ({target})"
        return target

    return decode_entities(_MARKUP.sub(readable, text))
