"""What a reaction capture makes Opsloop say, as outbox messages stored with the change,
and the recorder the outbox sender hands a looked-up message to."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from slack_sdk.models.blocks import Block

from bot.deps import Deps
from bot.outbox import models as outbox
from bot.outbox.models import LookedUpMessage, Outgoing
from bot.reactions import render, service
from bot.reactions.models import (
    SUBJECT,
    Capture,
    CapturedMessage,
    CaptureKind,
    Noticed,
    Reaction,
    ReactionOutcome,
)
from bot.slack.blocks import as_dicts

log = logging.getLogger(__name__)


def _tell(
    capture: Capture,
    key: str,
    rendered: tuple[str, list[Block]],
    *,
    user_id: str | None,
    reacted_here: bool,
) -> list[Outgoing]:
    """A private message to `user_id` about `capture`: an ephemeral in the message's channel
    when they reacted there themselves (one of our workspace: only they see it), else a
    DM; none to nobody."""
    if not user_id:
        return []
    text, blocks = rendered
    here = reacted_here
    return [
        outbox.tell_privately(
            key,
            user_id=user_id,
            channel=capture.channel_id if here else None,
            text=text,
            blocks=as_dicts(blocks),
        )
    ]


def noticed_messages(reaction: Reaction, outcome: ReactionOutcome) -> Sequence[Outgoing]:
    """A reaction on a message already captured (or being captured) for feedback: its
    reactor hears that nothing new is stored. A partner's user hears nothing."""
    capture = outcome.capture
    if capture is None or reaction.by_partner or reaction.user_id == capture.reactor_id:
        return []
    if capture.kind != CaptureKind.FEEDBACK:
        return []
    if outcome.noticed == Noticed.ALREADY_CAPTURED:
        rendered = render.render_already_captured(capture)
    else:
        rendered = render.render_capture_in_progress(capture)
    key = f"{SUBJECT}:{capture.id}:{capture.attempt}:seen:{reaction.user_id}"
    return _tell(capture, key, rendered, user_id=reaction.user_id, reacted_here=True)


def captured_messages(captured: CapturedMessage) -> Sequence[Outgoing]:
    """The receipt (feedback), the offer (escalation) or why the message could not be
    read, to whoever hears about this capture."""
    capture = captured.capture
    key = f"{SUBJECT}:{capture.id}:{capture.attempt}"
    # The reactor of our workspace hears it where they reacted; for a partner's reaction
    # the process owner hears it by DM.
    here = capture.notify_id == capture.reactor_id and not capture.reactor_team_id
    to = capture.notify_id
    if captured.content is None:
        rendered = render.render_unreadable(capture)
        return _tell(capture, f"{key}:unreadable", rendered, user_id=to, reacted_here=here)
    if capture.kind == CaptureKind.FEEDBACK:
        if not captured.created:
            return []
        rendered = render.render_feedback_receipt(captured)
        return _tell(capture, f"{key}:receipt", rendered, user_id=to, reacted_here=here)
    rendered = render.render_escalation_offer(captured)
    return _tell(capture, f"{key}:offer", rendered, user_id=to, reacted_here=here)


def message_recorder(deps: Deps) -> Callable[[str, LookedUpMessage], None]:
    """What the outbox sender does with a message it read back for a capture."""

    def record(team_id: str, answer: LookedUpMessage) -> None:
        result = service.record_looked_up_message(
            deps.sessions,
            team_id=team_id,
            answer=answer,
            now=deps.clock(),
            messages=captured_messages,
        )
        if result is None:
            log.info("lookup %s answered for no waiting capture", answer.subject)

    return record
