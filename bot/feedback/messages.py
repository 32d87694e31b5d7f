"""What feedback makes Opsloop say in Slack, as outbox messages stored with the record:
the detractor alert to the feedback channel and owner, the receipt of a form, the permalink
of a captured message."""

from __future__ import annotations

from typing import Any

from bot.feedback import render
from bot.feedback.models import (
    DeletedFeedback,
    DetractorAlert,
    EditedFeedback,
    FeedbackRecord,
    LoggedFeedback,
    TriagedFeedback,
    detractor_alert_keys,
)
from bot.feedback.service import EditedMessages, LoggedMessages
from bot.feedback.triage import DeletedMessages, TriagedMessages
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
                detractor_alert_keys(feedback.id)[0],
                alert.channel_id,
                text,
                dicts,
                notify_user=feedback.reporter_id,
            )
        )
    if alert.owner_id:
        out.append(
            outbox.post(
                detractor_alert_keys(feedback.id)[1],
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


def _moment(feedback: FeedbackRecord) -> str:
    """A key part unique per change of one record (its last update, to the millisecond)."""
    at = feedback.updated_at or feedback.created_at
    return str(int(at.timestamp() * 1000))


def assignment_dm(result: TriagedFeedback) -> list[Outgoing]:
    """Tell the new assignee (not when they assigned it to themselves)."""
    assignee = result.newly_assigned
    if assignee is None or assignee == result.actor_id:
        return []
    record = result.feedback
    text, blocks = render.render_assignment_dm(record, by=result.actor_id)
    key = f"feedback:{record.id}:assigned:{assignee}:{_moment(record)}"
    return [outbox.post(key, assignee, text, as_dicts(blocks), notify_user=result.actor_id)]


def _alert_updates(alerts: tuple[str, ...], text: str, blocks: list[Any]) -> list[Outgoing]:
    """The newest version of each detractor alert already posted (found by its key)."""
    return [
        outbox.update(f"{key}:update", of=key, channel="", ts=None, text=text, blocks=blocks)
        for key in alerts
    ]


def triage_messages(
    *, place: str, channel: str | None, ts: str | None, ephemeral: bool, tell: bool
) -> TriagedMessages:
    """A triage change: the assignee's DM; the detractor alerts brought up to date (wherever
    the change was made); an assignment DM whose menu was used, redrawn; and, when `tell`
    (a modal closed: nothing else answers), a private card to the person who did it."""

    def messages(result: TriagedFeedback) -> list[Outgoing]:
        record = result.feedback
        out = assignment_dm(result)
        text, blocks = render.render_detractor_alert(record)
        out += _alert_updates(result.alerts, text, as_dicts(blocks))
        in_message = bool(channel and ts and not ephemeral)
        if in_message and place == render.ALERT and not result.alerts:
            # an alert the outbox does not know (posted before it): by its ts
            key = f"feedback:{record.id}:view:{channel}:{ts}"
            out.append(
                outbox.update(
                    key, of=None, channel=channel or "", ts=ts, text=text, blocks=as_dicts(blocks)
                )
            )
        elif in_message and place == render.ASSIGNMENT_DM:
            card_text, card = render.render_triaged(result)
            key = f"feedback:{record.id}:view:{channel}:{ts}"
            out.append(
                outbox.update(
                    key,
                    of=None,
                    channel=channel or "",
                    ts=ts,
                    text=card_text,
                    blocks=as_dicts(card),
                )
            )
        elif tell and not (in_message and place == render.ALERT):
            card_text, card = render.render_triaged(result)
            out.append(
                outbox.tell_privately(
                    f"feedback:{record.id}:triaged:{result.actor_id}:{_moment(record)}",
                    user_id=result.actor_id,
                    channel=channel,
                    text=card_text,
                    blocks=as_dicts(card),
                )
            )
        return out

    return messages


def deleted_messages(*, channel: str | None, ts: str | None, ephemeral: bool) -> DeletedMessages:
    """A deletion: its detractor alerts stop quoting it, as does the real message its menu
    was in; an ephemeral one is answered next to it, so the deleter is told."""

    def messages(deleted: DeletedFeedback) -> list[Outgoing]:
        record = deleted.feedback
        text, blocks = render.render_deleted(record)
        out = _alert_updates(deleted.alerts, text, as_dicts(blocks))
        if channel and ts and not ephemeral:
            key = f"feedback:{record.id}:view:{channel}:{ts}"
            if not deleted.alerts:
                out.append(
                    outbox.update(
                        key, of=None, channel=channel, ts=ts, text=text, blocks=as_dicts(blocks)
                    )
                )
            return out
        out.append(
            outbox.tell_privately(
                f"feedback:{record.id}:deleted",
                user_id=deleted.actor_id,
                channel=channel,
                text=text,
                blocks=as_dicts(blocks),
            )
        )
        return out

    return messages
