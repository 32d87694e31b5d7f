"""What feedback is, as the use cases return it: records, receipts, lists. No storage here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.feedback.nps import category_of


@dataclass(frozen=True)
class FeedbackRecord:
    """Everything stored about one piece of feedback."""

    id: int
    team_id: str
    text: str
    customer: str | None
    source: str | None
    tags: tuple[str, ...]
    nps_score: int | None
    status: str
    reporter_id: str
    author_id: str | None
    channel_id: str | None
    message_ts: str | None
    permalink: str | None
    created_at: datetime
    updated_at: datetime | None
    submission_key: str
    # Set when a reaction captured it: who reacted, and their workspace if a partner's.
    captured_by_id: str | None = None
    captured_by_team_id: str | None = None

    @property
    def nps_category(self) -> str | None:
        return category_of(self.nps_score)


@dataclass(frozen=True)
class MessageOrigin:
    """The Slack message feedback was captured from."""

    channel_id: str
    message_ts: str
    author_id: str | None


@dataclass(frozen=True)
class DetractorAlert:
    """Where a detractor must be reported: the feedback channel and the process owner."""

    channel_id: str | None
    owner_id: str | None


@dataclass(frozen=True)
class LoggedFeedback:
    feedback: FeedbackRecord
    created: bool  # False when the submission key was already stored (a repeated submit)
    alert: DetractorAlert | None = None  # who is being told about a detractor score


@dataclass(frozen=True)
class EditedFeedback:
    feedback: FeedbackRecord
    became_detractor: bool
    alert: DetractorAlert | None = None  # set when the edit made it a detractor


@dataclass(frozen=True)
class RecentFeedback:
    tag: str | None
    customer: str | None
    items: tuple[FeedbackRecord, ...]
