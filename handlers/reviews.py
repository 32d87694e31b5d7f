"""*Mark reviewed*: the button (in `/ops status`, the App Home and the review reminder DM)
opens a small modal; its submission records the SOP review.

The process id in the button and the modal's metadata comes back from Slack, so it is
re-checked (the process exists, the user owns it or is an admin) both when the modal opens
and when it is submitted.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.errors import NotFoundError
from bot.home.messages import home_message
from bot.org import reviews
from bot.org.models import (
    REVIEW_FROM_HOME,
    REVIEW_FROM_REMINDER,
    REVIEW_FROM_STATUS,
    ReviewRecorded,
    ReviewRef,
)
from bot.org.render import (
    MARK_REVIEWED_ACTION,
    REVIEW_CALLBACK,
    REVIEW_NOTE,
    REVIEW_NOTE_VALUE,
    render_review_modal,
    render_reviewed,
)
from bot.outbox import models as outbox
from bot.outbox.models import Outgoing
from bot.outbox.service import enqueue_messages
from bot.slack.blocks import as_dicts
from bot.slack.context import clicked_message, deps_of, team_of, user_of
from bot.slack.errors import guarded

STALE_BUTTON = "That *Mark reviewed* button is not one Opsloop made; nothing was changed."


def register(app: App) -> None:
    app.action(MARK_REVIEWED_ACTION)(guarded(handle_mark_reviewed_click))
    app.view(REVIEW_CALLBACK)(guarded(handle_review_submission))


def handle_mark_reviewed_click(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Open the review modal, if the clicker may review the process in the button."""
    deps, team_id, user_id = deps_of(context), team_of(body), user_of(body)
    actions = body.get("actions") or [{}]
    ref = ReviewRef.decode(actions[0].get("value"))
    if ref is None:
        raise NotFoundError(STALE_BUTTON)
    target = reviews.ensure_can_review(
        deps.sessions, team_id=team_id, user_id=user_id, process_key=ref.process_key
    )
    # Which message to bring up to date comes from Slack's own record of the click, not
    # from the button's value.
    channel, ts = clicked_message(body)
    ref = replace(ref, channel=channel, ts=ts if ref.origin == REVIEW_FROM_REMINDER else "")
    today = reviews.team_today(
        deps.sessions, team_id=team_id, now=deps.clock(), default_tz=deps.settings.opsloop_timezone
    )
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=render_review_modal(target, ref, today))


def handle_review_submission(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Store the review (permission checked again), then close the modal."""
    deps, team_id, user_id = deps_of(context), team_of(body), user_of(body)
    view = body.get("view") or {}
    ref = ReviewRef.decode(view.get("private_metadata"))
    if ref is None:
        raise NotFoundError(STALE_BUTTON)
    values = (view.get("state") or {}).get("values") or {}
    note = ((values.get(REVIEW_NOTE) or {}).get(REVIEW_NOTE_VALUE) or {}).get("value") or ""

    def follow_ups(recorded: ReviewRecorded) -> Sequence[Outgoing]:
        text, blocks = render_reviewed(recorded)
        if ref.origin == REVIEW_FROM_REMINDER and ref.channel and ref.ts:
            # The reminder DM becomes the record of the review (its button goes away).
            key = f"review-reminder-done:{ref.channel}:{ref.ts}"
            return [
                outbox.update(
                    key, of=None, channel=ref.channel, ts=ref.ts, text=text, blocks=as_dicts(blocks)
                )
            ]
        if ref.origin == REVIEW_FROM_STATUS:
            key = f"review-noted:{uuid.uuid4().hex}"
            channel = ref.channel or None
            return [
                outbox.tell_privately(
                    key, user_id=user_id, channel=channel, text=text, blocks=as_dicts(blocks)
                )
            ]
        return []

    reviews.mark_reviewed(
        deps.sessions,
        team_id=team_id,
        actor_id=user_id,
        process_key=ref.process_key,
        note=str(note),
        now=deps.clock(),
        default_timezone=deps.settings.opsloop_timezone,
        messages=follow_ups,
    )
    ack()
    if ref.origin == REVIEW_FROM_HOME:
        # The tab shows the new review date; it is rebuilt after the review is committed.
        home = home_message(deps, team_id=team_id, user_id=user_id)
        enqueue_messages(deps.sessions, team_id=team_id, messages=[home], now=deps.clock())
