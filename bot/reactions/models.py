"""What a reaction capture is, as the use cases return it. No storage here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# The receipt's *Undo* works this long after the feedback was stored.
UNDO_WINDOW = timedelta(minutes=15)

UNDO_ACTION = "reaction.undo"
RAISE_ACTION = "reaction.raise_escalation"
# The outbox subject of a message lookup: "reaction:<capture id>".
SUBJECT = "reaction"


class CaptureKind(StrEnum):
    FEEDBACK = "feedback"
    ESCALATE = "escalate"


class CaptureState(StrEnum):
    FETCHING = "fetching"  # the outbox is reading the message
    CAPTURED = "captured"  # read (and for feedback, stored)
    UNAVAILABLE = "unavailable"  # Slack would not give it (not in the channel, deleted)
    UNDONE = "undone"  # its feedback was removed with *Undo*


@dataclass(frozen=True)
class CaptureSettings:
    """The emoji names that capture a message, per kind; empty turns a kind off."""

    feedback: tuple[str, ...]
    escalate: tuple[str, ...]

    def kind_of(self, emoji: str) -> CaptureKind | None:
        # A skin tone arrives as `thumbsup::skin-tone-2`: the emoji is the part before it.
        name = emoji.split("::", 1)[0]
        if name in self.feedback:
            return CaptureKind.FEEDBACK
        if name in self.escalate:
            return CaptureKind.ESCALATE
        return None


@dataclass(frozen=True)
class Reaction:
    """A `reaction_added` on a message, normalised: the installed workspace, the reactor
    (and their own workspace when it is a Slack Connect partner's)."""

    team_id: str
    channel_id: str
    message_ts: str
    user_id: str
    emoji: str
    user_team_id: str | None = None  # set only for a partner's user

    @property
    def by_partner(self) -> bool:
        return self.user_team_id is not None


@dataclass(frozen=True)
class MessageContent:
    """A message read back from Slack, as a person would describe it."""

    text: str  # what it says, decoded; for a file without text, its file names
    author_id: str | None  # a user id, None for a bot or an app
    bot_name: str | None = None  # set for a bot's message
    author_team_id: str | None = None  # the author's workspace when a partner's
    thread_ts: str | None = None  # the thread it is a reply in
    edited: bool = False
    file_names: tuple[str, ...] = ()
    had_text: bool = True


@dataclass(frozen=True)
class Capture:
    """One capture as stored."""

    id: int
    team_id: str
    kind: CaptureKind
    state: CaptureState
    channel_id: str
    message_ts: str
    reactor_id: str
    reactor_team_id: str | None
    notify_id: str | None
    emoji: str
    shared_channel: bool
    attempt: int
    text: str | None
    author_id: str | None
    thread_ts: str | None
    permalink: str | None
    error: str | None
    feedback_id: int | None
    created_at: datetime
    captured_at: datetime | None

    def undo_open(self, now: datetime) -> bool:
        return (
            self.state == CaptureState.CAPTURED
            and self.captured_at is not None
            and now - self.captured_at <= UNDO_WINDOW
        )


class Noticed(StrEnum):
    """What a reaction did."""

    LOOKING_UP = "looking up"  # new (or asked again): the outbox reads the message
    ALREADY_CAPTURED = "already captured"  # the message was logged before
    IN_PROGRESS = "in progress"  # someone's earlier reaction is being looked up
    IGNORED = "ignored"  # not a capture emoji, not a message, or capture is off


@dataclass(frozen=True)
class ReactionOutcome:
    noticed: Noticed
    capture: Capture | None = None


@dataclass(frozen=True)
class CapturedMessage:
    """A lookup's answer applied: the capture, what the message was, and for feedback the
    record (with `created` False when it was stored before)."""

    capture: Capture
    content: MessageContent | None
    feedback_id: int | None = None
    created: bool = False
