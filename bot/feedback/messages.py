"""What feedback makes Opsloop say in Slack, as outbox messages stored with the record:
the detractor alert to the feedback channel and owner, the receipt of a form, the permalink
of a captured message."""

from __future__ import annotations

from bot.feedback import render
from bot.feedback.models import DetractorAlert, EditedFeedback, FeedbackRecord, LoggedFeedback
from bot.feedback.service import EditedMessages, LoggedMessages
from bot.outbox import models as outbox
from bot.outbox.models import Outgoing
from bot.slack.blocks import as_dicts


def alert_notes(alert: DetractorAlert | None) -> list[str]:
    """The receipt's lines saying who is being told about a detractor."""
    if alert is None:
        return []
    notes = []
    if alert.channel_id:
        notes.append(render.alert_note(channel_id=alert.channel_id, owner_id=None))
    if alert.owner_id:
        notes.append(render.alert_note(channel_id=None, owner_id=alert.owner_id))
    return notes


def detractor_alerts(feedback: FeedbackRecord, alert: DetractorAlert | None) -> list[Outgoing]:
    """The alert to the feedback channel and a DM to the owner, each once per record."""
    if alert is None:
        return []
    text, blocks = render.render_detractor_alert(feedback)
    dicts = as_dicts(blocks)
    out = []
    if alert.channel_id:
        out.append(
            outbox.post(
                f"feedback:{feedback.id}:detractor:channel",
                alert.channel_id,
                text,
                dicts,
                notify_user=feedback.reporter_id,
            )
        )
    if alert.owner_id:
        out.append(
            outbox.post(
                f"feedback:{feedback.id}:detractor:owner",
                alert.owner_id,
                text,
                dicts,
                notify_user=feedback.reporter_id,
            )
        )
    return out


def receipt(
    feedback: FeedbackRecord,
    *,
    user_id: str,
    channel: str | None,
    alert: DetractorAlert | None,
    edited: bool = False,
    version: str = "",
) -> Outgoing:
    """The private receipt of a form: in the channel it was opened from, else by DM."""
    text, blocks = render.render_logged(feedback, edited=edited, notes=alert_notes(alert))
    verb = "edited" if edited else "logged"
    return outbox.tell_privately(
        f"feedback:{feedback.id}:{verb}{version}:receipt",
        user_id=user_id,
        channel=channel,
        text=text,
        blocks=as_dicts(blocks),
    )


def permalink_lookup(feedback: FeedbackRecord) -> list[Outgoing]:
    """Ask Slack for the permalink of the message a record was captured from."""
    if not (feedback.channel_id and feedback.message_ts):
        return []
    return [
        outbox.permalink_lookup(
            f"feedback:{feedback.id}:permalink",
            channel=feedback.channel_id,
            ts=feedback.message_ts,
            subject=f"feedback:{feedback.id}",
        )
    ]


def command_messages(logged: LoggedFeedback) -> list[Outgoing]:
    """`/feedback <text>`: the receipt is the command's answer; only the alerts are posted."""
    return detractor_alerts(logged.feedback, logged.alert)


def form_messages(*, user_id: str, channel: str | None) -> LoggedMessages:
    """A new record from the form: alerts, the receipt, and the permalink of its message."""

    def messages(logged: LoggedFeedback) -> list[Outgoing]:
        record = logged.feedback
        return [
            *detractor_alerts(record, logged.alert),
            receipt(record, user_id=user_id, channel=channel, alert=logged.alert),
            *permalink_lookup(record),
        ]

    return messages


def edit_messages(*, user_id: str, channel: str | None, version: str) -> EditedMessages:
    """An edited record: the receipt, and the alerts when the edit made it a detractor."""

    def messages(edited: EditedFeedback) -> list[Outgoing]:
        return [
            *detractor_alerts(edited.feedback, edited.alert),
            receipt(
                edited.feedback,
                user_id=user_id,
                channel=channel,
                alert=edited.alert,
                edited=True,
                version=version,
            ),
        ]

    return messages
