"""Drive the real Bolt app the way Slack would: signed payloads in, recorded calls out."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App

from bot.shell import payloads
from bot.shell.standin import ApiCall, SlackStandin
from bot.slack.executor import TrackingExecutor
from bot.slack.requests import make_bolt_request
from bot.slack.sender import OutboxSender


@dataclass
class Result:
    """What one request produced: Bolt's HTTP answer and the Slack calls it caused."""

    status: int
    body: Any
    calls: list[ApiCall] = field(default_factory=list)

    def of(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    @property
    def answer(self) -> ApiCall:
        """The one thing said back to the user: the command's ack body (Opsloop answers
        commands there) or, for anything else, its one response_url post."""
        replies = self.replies
        if len(replies) != 1:
            raise AssertionError(f"expected one reply, got {len(replies)}: {replies!r}")
        return ApiCall("ack" if replies[0] is self.body else "response_url", replies[0], 0.0, 200)

    @property
    def replies(self) -> list[dict[str, Any]]:
        """Everything said back to the user: the ack body (if any) and response_url posts."""
        out: list[dict[str, Any]] = []
        if isinstance(self.body, dict) and (self.body.get("text") or self.body.get("blocks")):
            out.append(self.body)
        out.extend(c.params for c in self.of("response_url"))
        return out

    @property
    def reply_text(self) -> str:
        """Ack text and response_url texts, plus the text of their blocks, joined."""
        return "\n".join(_all_text(r) for r in self.replies)


def _all_text(message: dict[str, Any]) -> str:
    parts = [str(message.get("text") or "")]
    parts.append(json.dumps(message.get("blocks") or [], ensure_ascii=False))
    return "\n".join(parts)


# A request's outbox messages are sent before its Result is returned: what falls due within
# this horizon is waited for (a Retry-After of a second or two), later retries are not.
DELIVERY_HORIZON_SECONDS = 3.0
DELIVERY_TIMEOUT_SECONDS = 30.0


class SlackDriver:
    """Sends signed Slack requests through `app.dispatch` and waits for listeners to finish."""

    def __init__(
        self,
        app: App,
        standin: SlackStandin,
        executor: TrackingExecutor,
        *,
        signing_secret: str,
        team_id: str = "T0001",
        user_id: str = "U0001",
        channel_id: str = "C0001",
        sender: OutboxSender | None = None,
    ) -> None:
        self.app = app
        self.sender = sender
        self.standin = standin
        self.executor = executor
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.user_id = user_id
        self.channel_id = channel_id
        self._ids = itertools.count(1)

    # -- raw -------------------------------------------------------------------------------
    def send(
        self,
        body: str,
        *,
        content_type: str,
        headers: dict[str, str] | None = None,
        timestamp: float | None = None,
    ) -> Result:
        """Dispatch a raw body (signed unless `headers` are given) and collect its effects."""
        before = len(self.standin.calls(ok_only=False))
        request_headers = (
            headers
            if headers is not None
            else payloads.signed_headers(
                self.signing_secret, body, content_type=content_type, timestamp=timestamp
            )
        )
        response = self.app.dispatch(make_bolt_request(body=body, headers=request_headers))
        self.executor.wait_idle()
        self.deliver()
        calls = [c for c in self.standin.calls(ok_only=False)[before:] if c.status == 200]
        parsed: Any = response.body
        if response.body and str(response.body).lstrip().startswith("{"):
            parsed = json.loads(response.body)
        return Result(status=response.status, body=parsed, calls=calls)

    def deliver(self, horizon: float = DELIVERY_HORIZON_SECONDS) -> bool:
        """Let the outbox sender send what the request queued (and what falls due within
        `horizon` seconds, such as a post rescheduled after a 429)."""
        if self.sender is None:
            return True
        return self.sender.drain(DELIVERY_TIMEOUT_SECONDS, horizon=horizon)

    # -- Slack shapes ----------------------------------------------------------------------
    def command(
        self, command: str, text: str = "", *, user: str | None = None, channel: str | None = None
    ) -> Result:
        body = payloads.slash_command(
            command,
            text,
            team_id=self.team_id,
            user_id=user or self.user_id,
            channel_id=channel or self.channel_id,
            response_url=self.standin.response_url(f"cmd{next(self._ids)}"),
            trigger_id=f"trigger-{next(self._ids)}",
        )
        return self.send(body, content_type=payloads.FORM)

    def click(
        self,
        action_id: str,
        value: str | None = None,
        *,
        block_id: str = "b",
        action_type: str = "button",
        user: str | None = None,
        channel: str | None = None,
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Result:
        """Press a button (or change a checkbox/select when `extra` carries its state)."""
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": action_type,
            "action_ts": "1.0",
        }
        if value is not None:
            action["value"] = value
        action.update(extra or {})
        body = payloads.block_actions(
            [action],
            team_id=self.team_id,
            user_id=user or self.user_id,
            channel_id=None if view else (channel or self.channel_id),
            response_url=None if view else self.standin.response_url(f"act{next(self._ids)}"),
            message=message,
            view=view,
            trigger_id=f"trigger-{next(self._ids)}",
        )
        return self.send(body, content_type=payloads.FORM)

    def submit(
        self,
        callback_id: str,
        values: dict[str, dict[str, dict[str, Any]]],
        *,
        private_metadata: str = "",
        user: str | None = None,
        view_id: str | None = None,
        partner_team_id: str | None = None,
        org_id: str | None = None,
    ) -> Result:
        """A modal submitted; each call is a new view unless `view_id` names one (Slack
        sends the same id again when it retries a submission or one is double-clicked)."""
        view_id = view_id or f"V{next(self._ids):08d}"
        body = payloads.view_submission(
            callback_id=callback_id,
            values=values,
            team_id=self.team_id,
            user_id=user or self.user_id,
            private_metadata=private_metadata,
            view_id=view_id,
            partner_team_id=partner_team_id,
            org_id=org_id,
        )
        return self.send(body, content_type=payloads.FORM)

    def message_shortcut(
        self,
        callback_id: str,
        message: dict[str, Any],
        *,
        user: str | None = None,
        channel: str | None = None,
    ) -> Result:
        body = payloads.message_shortcut(
            callback_id=callback_id,
            message=message,
            team_id=self.team_id,
            user_id=user or self.user_id,
            channel_id=channel or self.channel_id,
            response_url=self.standin.response_url(f"sc{next(self._ids)}"),
            trigger_id=f"trigger-{next(self._ids)}",
        )
        return self.send(body, content_type=payloads.FORM)

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        partner_team_id: str | None = None,
    ) -> Result:
        body = payloads.event_callback(
            event,
            team_id=self.team_id,
            event_id=event_id or f"Ev{next(self._ids):06d}",
            partner_team_id=partner_team_id,
        )
        return self.send(body, content_type=payloads.JSON)
