"""What feedback is, as the use cases return it: records, receipts, lists. No storage here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from bot.feedback.nps import category_of

# Triage: a feedback item is new, then triaged (someone looked and decided), then closed.
NEW, TRIAGED, CLOSED = "new", "triaged", "closed"
STATUSES: tuple[str, ...] = (NEW, TRIAGED, CLOSED)
# The reporter may delete their own feedback this long after logging it; admins any time.
DELETE_WINDOW = timedelta(minutes=15)
MAX_NOTE_LENGTH = 2000


def detractor_alert_keys(feedback_id: int) -> tuple[str, str]:
    """The outbox keys of a detractor's alerts: the feedback channel's and the owner's DM."""
    return (
        f"feedback:{feedback_id}:detractor:channel",
        f"feedback:{feedback_id}:detractor:owner",
    )


@dataclass(frozen=True)
class StatusStep:
    """One status change of a feedback item: who set which status, when, and why."""

    status: str
    actor_id: str
    at: datetime
    note: str = ""


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
    assignee_id: str | None = None
    escalation_id: int | None = None
    deleted_at: datetime | None = None
    deleted_by: str | None = None
    history: tuple[StatusStep, ...] = ()

    @property
    def nps_category(self) -> str | None:
        return category_of(self.nps_score)

    @property
    def last_step(self) -> StatusStep | None:
        """Who set the current status (None: nobody has triaged it yet)."""
        return self.history[-1] if self.history else None


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
    status: str | None = None
    page: int = 1
    has_more: bool = False


class Keep(Enum):
    """A triage field left as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class TriageUpdate:
    """What one triage action changes; KEEP (or None for the status) leaves a field alone."""

    status: str | None = None
    note: str = ""
    assignee_id: str | Keep | None = KEEP
    escalation_id: int | Keep | None = KEEP


@dataclass(frozen=True)
class TriagedFeedback:
    """A triage action's result: the record after it and what it changed."""

    feedback: FeedbackRecord
    actor_id: str
    changed: tuple[str, ...]  # of "status", "note", "assignee", "escalation"
    newly_assigned: str | None = None  # told in a DM
    previous_escalation_id: int | None = None  # the link before, when it changed
    alerts: tuple[str, ...] = ()  # outbox keys of its detractor alerts, to show the change

    @property
    def changed_anything(self) -> bool:
        return bool(self.changed)


@dataclass(frozen=True)
class DeletedFeedback:
    feedback: FeedbackRecord
    actor_id: str
    alerts: tuple[str, ...] = ()  # outbox keys of its detractor alerts, to stop quoting it
