"""What people type for feedback, parsed: `/feedback Acme: text #tag nps:6` and form fields.

Pure functions without I/O. Every problem is a `FeedbackInputError` (a `UserError`) that
names the field, says what is allowed and shows an example. Text and customer are kept
exactly as typed (only surrounding whitespace goes): escaping is the renderer's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import UserError
from bot.feedback.models import STATUSES
from bot.text import (
    closest_keys,
    did_you_mean,
    has_visible_text,
    storable,
    storable_or_none,
)

INLINE_EXAMPLE = "/feedback Acme: CSV export times out #reporting nps:6"
NPS_MIN = 0
NPS_MAX = 10
MAX_CUSTOMER_LENGTH = 200
MAX_TAG_LENGTH = 50
MAX_TAGS = 20
# Where the feedback came from (the modal's "source" choices), value → label.
SOURCES: dict[str, str] = {
    "call": "Call",
    "email": "Email",
    "slack": "Slack",
    "support_ticket": "Support ticket",
    "other": "Other",
}

# `Customer:` at the very start: a name of at most 4 words and 60 characters (no colon,
# line break, ; or ?), then a colon followed by whitespace, so `nps:6`, `https://…` or a
# sentence that merely contains a colon are never taken for a customer.
_CUSTOMER_PREFIX = re.compile(
    r"\A[ \t]*(?P<customer>[^:;?\s#][^:;?\s]*(?:[ \t]+[^:;?\s]+){0,3}):(?=\s|\Z)"
)
_MAX_PREFIX_LENGTH = 60
_TOKEN = re.compile(r"\S+")
_NPS_TOKEN = re.compile(r"(?i)\Anps[:=](?P<value>.*)\Z")
# `nps:` or `nps=` standing alone: the score is the next word (`nps: 4`).
_NPS_LABEL = re.compile(r"(?i)\Anps[:=]\Z")
# `9/10`: a score out of ten, as people write it.
_OUT_OF_TEN = re.compile(r"\A(?P<score>\d{1,2})\s*/\s*10\Z")
# A tag starts with a letter (so `#42`, an issue number, stays plain text).
_TAG_WORD = re.compile(r"\A[^\W\d_][\w-]*\Z")
_TRAILING_PUNCTUATION = ".,;:!?)"
_HSPACE = " \t"


class FeedbackInputError(UserError):
    """Bad feedback input; `field` is text, customer, nps, tags or source."""

    def __init__(self, message: str, *, field: str, example: str | None = INLINE_EXAMPLE) -> None:
        super().__init__(message, example=example)
        self.field = field


class EmptyFeedbackError(FeedbackInputError):
    """Nothing left to store once the customer, tags and score are taken off."""

    def __init__(self) -> None:
        super().__init__("There is no feedback text to log.", field="text")


class FeedbackFormError(UserError):
    """Several modal fields were wrong at once; `errors` maps field → message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class ParsedFeedback:
    text: str
    customer: str | None = None
    tags: tuple[str, ...] = ()
    nps: int | None = None
    source: str | None = None


def parse_inline(raw: str) -> ParsedFeedback:
    """Parse `/feedback` text: optional `Customer:` prefix, `#tags`, one `nps:N` (0 to 10).

    `nps:N` is taken out of the text wherever it is; `#tags` are recorded wherever they
    are, and taken out of the text only when they trail it (a mid-sentence #tag still
    reads as part of the sentence).
    """
    customer: str | None = None
    raw = storable(raw)
    body = raw
    match = _CUSTOMER_PREFIX.match(raw)
    if (
        match
        and len(match.group("customer")) <= _MAX_PREFIX_LENGTH
        and match.group("customer").strip().lower() != "nps"  # `nps: 4` is a score
    ):
        customer = match.group("customer").strip()
        body = raw[match.end() :]

    removed = [False] * len(body)
    tags: list[str] = []
    nps: int | None = None
    tokens = list(_TOKEN.finditer(body))
    trailing = _trailing_metadata_start(tokens)
    skip_next = False
    for index, token in enumerate(tokens):
        if skip_next:
            skip_next = False
            continue
        word = token.group()
        nps_match = _NPS_TOKEN.match(word)
        if nps_match:
            if nps is not None:
                raise FeedbackInputError("Give one `nps:` score only.", field="nps")
            value, end = nps_match.group("value"), token.end()
            if _NPS_LABEL.match(word) and index + 1 < len(tokens):
                value, end = tokens[index + 1].group(), tokens[index + 1].end()
                skip_next = True
            nps = parse_nps(value.rstrip(_TRAILING_PUNCTUATION))
            _remove(body, removed, token.start(), end)
            continue
        tag = _tag_of(word)
        if tag is not None:
            tags.append(tag)
            if index >= trailing:
                _remove(body, removed, token.start(), token.end())

    text = "".join(ch for ch, gone in zip(body, removed, strict=True) if not gone).strip()
    if not has_visible_text(text):
        raise EmptyFeedbackError()
    return ParsedFeedback(text=text, customer=customer, tags=_unique(tags), nps=nps)


def parse_nps(value: str | None) -> int:
    """A score from 0 to 10, from its text (`7`, or `7/10`)."""
    cleaned = (value or "").strip()
    out_of_ten = _OUT_OF_TEN.match(cleaned)
    if out_of_ten:
        cleaned = out_of_ten.group("score")
    if cleaned.isascii() and cleaned.isdigit() and NPS_MIN <= int(cleaned) <= NPS_MAX:
        return int(cleaned)
    shown = echo(cleaned, 20) or "nothing"
    raise FeedbackInputError(
        f"NPS must be a whole number from {NPS_MIN} to {NPS_MAX} ({NPS_MIN} = not at all "
        f"likely to recommend, {NPS_MAX} = extremely likely); you gave `{shown}`.",
        field="nps",
    )


def parse_tag_list(raw: str | None) -> tuple[str, ...]:
    """Tags typed into a text field: separated by commas or spaces, `#` optional."""
    tags: list[str] = []
    for word in re.split(r"[,\s]+", raw or ""):
        if not word:
            continue
        tag = _tag_of(word if word.startswith("#") else "#" + word)
        if tag is None:
            raise FeedbackInputError(
                f"`{echo(word, 60)}` is not a tag: a tag starts with a letter and has only "
                "letters, digits, - and _.",
                field="tags",
                example="reporting, data-export",
            )
        tags.append(tag)
    return _unique(tags)


def parse_form(
    *,
    text: str | None,
    customer: str | None,
    nps: str | None,
    known_tags: list[str],
    new_tags: str | None,
    source: str | None,
    keep_text: str | None = None,
) -> ParsedFeedback:
    """Validate the modal's fields, collecting every problem before raising.

    `keep_text` is the stored text of an edited record too long for the form, kept as is.
    """
    errors: dict[str, str] = {}
    text, customer, new_tags = (storable_or_none(v) for v in (text, customer, new_tags))
    clean_text = keep_text if keep_text is not None else (text or "").strip()
    if not has_visible_text(clean_text):
        errors["text"] = "Please write the feedback."
    clean_customer = (customer or "").strip() or None
    if clean_customer and len(clean_customer) > MAX_CUSTOMER_LENGTH:
        errors["customer"] = f"Keep the customer under {MAX_CUSTOMER_LENGTH} characters."
    score: int | None = None
    if nps not in (None, "", "none"):
        try:
            score = parse_nps(nps)
        except FeedbackInputError as exc:
            errors["nps"] = exc.message
    tags: tuple[str, ...] = ()
    try:
        # The picker's values come back from Slack: a forged one is checked like a typed tag.
        known = parse_tag_list(" ".join(storable(t) for t in known_tags))
        tags = _unique([*known, *parse_tag_list(new_tags)])
    except FeedbackInputError as exc:
        errors["tags"] = f"{exc.message} Example: {exc.example}"
    if source is not None and source not in SOURCES:
        errors["source"] = "Choose one of: " + ", ".join(SOURCES.values()) + "."
    if errors:
        raise FeedbackFormError(errors)
    return ParsedFeedback(
        text=clean_text, customer=clean_customer, tags=tags, nps=score, source=source
    )


# -- `/feedback recent status:new tag:billing page:2` ------------------------------------

RECENT_EXAMPLE = "/feedback recent status:new tag:billing"
MAX_PAGE = 1000
_FILTER = re.compile(r"\A(?P<name>[A-Za-z_]+):(?P<value>.*)\Z")
_RECENT_FILTERS = ("status", "tag", "page", "customer")


@dataclass(frozen=True)
class RecentQuery:
    tag: str | None = None
    status: str | None = None
    customer: str | None = None
    page: int = 1

    def to_text(self) -> str:
        """The query as typed, for the *More* button and the shell."""
        parts = []
        if self.status:
            parts.append(f"status:{self.status}")
        if self.tag:
            parts.append(f"tag:{self.tag}")
        if self.page > 1:
            parts.append(f"page:{self.page}")
        if self.customer:
            parts.append(self.customer)
        return " ".join(parts)


def parse_recent_query(raw: str) -> RecentQuery:
    """`#tag` or `tag:x`, `status:new|triaged|closed`, `page:N`; the other words are a
    customer to look for. A misspelt filter name or status is refused with a guess."""
    tag: str | None = None
    status: str | None = None
    page = 1
    customer_words: list[str] = []
    for word in storable(raw).split():
        named = _FILTER.match(word)
        name = named.group("name").lower() if named else ""
        value = named.group("value") if named else ""
        if word.startswith("#") or name == "tag":
            tag = _recent_tag(word if word.startswith("#") else value)
        elif name == "status":
            status = _recent_status(value)
        elif name == "page":
            page = _recent_page(value)
        elif name == "customer":
            customer_words.append(value)
        elif named and (guesses := closest_keys(name, {f: f for f in _RECENT_FILTERS})):
            raise UserError(
                f"`{echo(word, 40)}` is not a filter I know."
                + did_you_mean([f"{g}:" for g in guesses]),
                example=RECENT_EXAMPLE,
            )
        else:
            customer_words.append(word)
    customer = " ".join(w for w in customer_words if w) or None
    return RecentQuery(tag=tag, status=status, customer=customer, page=page)


def _recent_tag(word: str) -> str:
    try:
        (tag,) = parse_tag_list(word)
    except (UserError, ValueError):
        raise UserError(
            f"`{echo(word, 60)}` is not a tag I can look for.",
            example="/feedback recent #billing",
        ) from None
    return tag


def _recent_status(value: str) -> str:
    wanted = value.strip().lower()
    if wanted in STATUSES:
        return wanted
    guess = did_you_mean(closest_keys(wanted, {s: s for s in STATUSES}))
    raise UserError(
        f"`{echo(value, 30) or 'nothing'}` is not a status.{guess} "
        f"Statuses: {', '.join(STATUSES)}.",
        example=RECENT_EXAMPLE,
    )


def _recent_page(value: str) -> int:
    if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_PAGE:
        return int(value)
    raise UserError(
        f"`page:{echo(value, 20)}` is not a page: give a number from 1 to {MAX_PAGE}.",
        example="/feedback recent page:2",
    )


def echo(value: str, limit: int) -> str:
    """User text quoted back in an error: cut short, without mrkdwn control characters."""
    return re.sub(r"[<>&`]", "", value)[:limit]


def _tag_of(word: str) -> str | None:
    if not word.startswith("#"):
        return None
    name = word[1:].rstrip(_TRAILING_PUNCTUATION)
    if not _TAG_WORD.match(name):
        return None
    if len(name) > MAX_TAG_LENGTH:
        raise FeedbackInputError(
            f"Tags can be at most {MAX_TAG_LENGTH} characters long.", field="tags"
        )
    return name.lower()


def _trailing_metadata_start(tokens: list[re.Match[str]]) -> int:
    """Index of the first token of the run of #tags / nps:N that ends the text."""
    start = len(tokens)
    while start > 0:
        word = tokens[start - 1].group()
        if _NPS_TOKEN.match(word) is None and _tag_of(word) is None:
            break
        start -= 1
    return start


def _remove(body: str, removed: list[bool], start: int, end: int) -> None:
    """Mark body[start:end] removed, with the blanks that would otherwise be left doubled."""
    while end < len(body) and body[end] in _HSPACE:
        end += 1
    if end == len(body) or body[end] in "\r\n":
        while start > 0 and body[start - 1] in _HSPACE:
            start -= 1
    for i in range(start, end):
        removed[i] = True


def _unique(tags: list[str]) -> tuple[str, ...]:
    unique = tuple(dict.fromkeys(tags))
    if len(unique) > MAX_TAGS:
        raise FeedbackInputError(f"Use at most {MAX_TAGS} tags.", field="tags")
    return unique
