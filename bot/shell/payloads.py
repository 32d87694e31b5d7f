"""Slack request bodies and signatures, shaped like the ones Slack sends."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def signature(secret: str, timestamp: str, body: str) -> str:
    """Slack's v0 request signature of `body` sent at `timestamp`."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: str, *, content_type: str, timestamp: float | None = None
) -> dict[str, str]:
    """Headers Slack would send with `body`, signed with `secret`."""
    ts = str(int(time.time() if timestamp is None else timestamp))
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature(secret, ts, body),
    }


def slash_command(
    command: str,
    text: str,
    *,
    team_id: str,
    user_id: str,
    channel_id: str,
    response_url: str,
    trigger_id: str = "T-trigger",
    user_name: str = "someone",
) -> str:
    return urlencode(
        {
            "token": "unused",
            "team_id": team_id,
            "team_domain": "playground",
            "channel_id": channel_id,
            "channel_name": "playground",
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": "A0OPSLOOP",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def _form_payload(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def block_actions(
    actions: list[dict[str, Any]],
    *,
    team_id: str,
    user_id: str,
    channel_id: str | None,
    response_url: str | None,
    message: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
    trigger_id: str = "T-trigger",
) -> str:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "playground"},
        "user": {"id": user_id, "team_id": team_id, "username": "someone"},
        "api_app_id": "A0OPSLOOP",
        "trigger_id": trigger_id,
        "actions": actions,
        "container": {"type": "view"}
        if view
        else {
            "type": "message",
            "channel_id": channel_id,
            "message_ts": (message or {}).get("ts"),
            "is_ephemeral": message is None,
        },
    }
    if channel_id:
        payload["channel"] = {"id": channel_id, "name": "playground"}
    if message is not None:
        payload["message"] = message
    if view is not None:
        payload["view"] = view
    if response_url:
        payload["response_url"] = response_url
    return _form_payload(payload)


def view_submission(
    *,
    callback_id: str,
    values: dict[str, dict[str, dict[str, Any]]],
    team_id: str,
    user_id: str,
    private_metadata: str = "",
    view_id: str = "V0000001",
    view_hash: str = "h",
    partner_team_id: str | None = None,
    org_id: str | None = None,
) -> str:
    """A modal submission. `partner_team_id`: submitted by a partner's user in a Slack Connect
    channel (Slack then names their workspace as `team` and ours only as
    `view.app_installed_team_id`); `org_id`: through an org-wide install (`team` is null)."""
    payload: dict[str, Any] = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "playground"},
        "user": {"id": user_id, "team_id": team_id, "username": "someone"},
        "api_app_id": "A0OPSLOOP",
        "trigger_id": "T-trigger",
        "view": {
            "id": view_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "hash": view_hash,
            "team_id": team_id,
            # Slack sends the view's blocks too; every block with a value is an input.
            "blocks": [
                {
                    "type": "input",
                    "block_id": block_id,
                    "label": {"type": "plain_text", "text": block_id},
                    "element": {"type": "plain_text_input", "action_id": next(iter(elements))}
                    if elements
                    else {"type": "plain_text_input", "action_id": "value"},
                }
                for block_id, elements in values.items()
            ],
            "state": {"values": values},
        },
        "response_urls": [],
    }
    if partner_team_id:
        payload["team"] = {"id": partner_team_id, "domain": "partner"}
        payload["user"]["team_id"] = partner_team_id
        payload["view"]["team_id"] = partner_team_id
        payload["view"]["app_installed_team_id"] = team_id
    if org_id:
        _org_wide(payload, org_id)
    return _form_payload(payload)


def _org_wide(payload: dict[str, Any], org_id: str) -> None:
    """Rewrite `payload` as an org-wide install sends it: no team, the org as enterprise."""
    payload["team"] = None
    payload["enterprise"] = {"id": org_id, "name": "org"}
    payload["is_enterprise_install"] = True


def message_shortcut(
    *,
    callback_id: str,
    message: dict[str, Any],
    team_id: str,
    user_id: str,
    channel_id: str,
    response_url: str,
    trigger_id: str = "T-trigger",
) -> str:
    payload = {
        "type": "message_action",
        "callback_id": callback_id,
        "team": {"id": team_id, "domain": "playground"},
        "user": {"id": user_id, "team_id": team_id, "name": "someone"},
        "channel": {"id": channel_id, "name": "playground"},
        "message": message,
        "message_ts": message.get("ts"),
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return _form_payload(payload)


def event_callback(
    event: dict[str, Any], *, team_id: str, event_id: str, partner_team_id: str | None = None
) -> str:
    """An Events API delivery. `partner_team_id`: from a Slack Connect channel, where the
    top-level `team_id` can be the partner's and only `authorizations` names ours."""
    return json.dumps(
        {
            "token": "unused",
            "team_id": partner_team_id or team_id,
            "api_app_id": "A0OPSLOOP",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team_id, "user_id": "UBOT", "is_bot": True}],
            "is_ext_shared_channel": partner_team_id is not None,
        }
    )


# Values of modal inputs as Slack puts them in view.state.values.
def text_value(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def select_value(value: str | None) -> dict[str, Any]:
    option = (
        None if value is None else {"value": value, "text": {"type": "plain_text", "text": value}}
    )
    return {"type": "static_select", "selected_option": option}


def multi_select_value(values: list[str]) -> dict[str, Any]:
    return {
        "type": "multi_static_select",
        "selected_options": [
            {"value": v, "text": {"type": "plain_text", "text": v}} for v in values
        ],
    }


def user_value(user_id: str | None) -> dict[str, Any]:
    return {"type": "users_select", "selected_user": user_id}


def checkboxes_value(values: list[str]) -> dict[str, Any]:
    return {
        "type": "checkboxes",
        "selected_options": [{"value": v, "text": {"type": "mrkdwn", "text": v}} for v in values],
    }
