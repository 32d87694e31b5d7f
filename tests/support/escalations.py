"""Shared steps of the escalation tests: raise one through the modal, press its buttons."""

from __future__ import annotations

import json
from typing import Any

from bot.escalations import modals, service
from bot.escalations.models import EscalationView
from bot.escalations.render import EscalationRef, NewEscalationMeta
from bot.org import service as directory
from storage.db import SessionFactory
from tests.support.slack import (
    ApiCall,
    Result,
    SlackDriver,
    SlackStandin,
    select_value,
    text_value,
    user_value,
)

TEAM = "T0001"
REPORTER = "U0001"
OWNER = "U0OWNER"
PROCESS_OWNER = "U0PROC"
ADMIN = "U0ADMIN"
STRANGER = "U0STRANGER"
ORIGIN = "C0001"


def setup_roles(sessions: SessionFactory, clock: Any) -> None:
    """An escalation process owner and an admin for team T0001."""
    directory.set_process_owner(
        sessions,
        team_id=TEAM,
        process_key=directory.ESCALATION_PROCESS,
        process_name="Escalation handling",
        owner_id=PROCESS_OWNER,
        actor_id=ADMIN,
        now=clock(),
    )
    directory.set_admins(sessions, team_id=TEAM, user_ids=[ADMIN])


def new_values(
    *,
    title: str | None = "Checkout fails for EU cards",
    severity: str | None = "sev1",
    owner: str | None = OWNER,
    customer: str | None = "Acme GmbH",
    description: str | None = "Every EU card payment is declined since 09:40.",
    link: str | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        modals.TITLE: {modals.VALUE: text_value(title)},
        modals.CUSTOMER: {modals.VALUE: text_value(customer)},
        modals.SEVERITY: {modals.VALUE: select_value(severity)},
        modals.DESCRIPTION: {modals.VALUE: text_value(description)},
        modals.OWNER: {modals.VALUE: user_value(owner)},
        modals.LINK: {modals.VALUE: {"type": "url_text_input", "value": link}},
    }


def submit_new(
    slack: SlackDriver, *, user: str = REPORTER, channel: str | None = ORIGIN, **values: Any
) -> Result:
    return slack.submit(
        modals.NEW_CALLBACK,
        new_values(**values),
        private_metadata=NewEscalationMeta(channel_id=channel).encode(),
        user=user,
    )


def only_escalation(sessions: SessionFactory, clock: Any, team: str = TEAM) -> EscalationView:
    [found] = service.list_escalations(
        sessions, team_id=team, scope="all", user_id=REPORTER, now=clock()
    )
    return found


def raise_escalation(
    slack: SlackDriver, sessions: SessionFactory, clock: Any, **values: Any
) -> EscalationView:
    """Submit the new-escalation modal and return the stored escalation (newest)."""
    result = submit_new(slack, **values)
    assert result.status == 200, result.body
    found = service.list_escalations(
        sessions, team_id=slack.team_id, scope="all", user_id=REPORTER, now=clock()
    )
    return found[0]


def value_of(escalation_id: int) -> str:
    return EscalationRef(id=escalation_id).encode()


def press(slack: SlackDriver, action_id: str, e: EscalationView, *, user: str) -> Result:
    """Press a button on the escalation's channel message."""
    message = {"type": "message", "ts": e.message_ts, "text": "escalation"}
    return slack.click(
        action_id, value_of(e.id), user=user, channel=e.channel_id or ORIGIN, message=message
    )


def submit_resolve(
    slack: SlackDriver,
    escalation_id: int,
    *,
    user: str,
    root_cause: str | None = "An expired TLS certificate at the card processor.",
    corrective_action: str | None = "Renewed it; added expiry monitoring.",
    metadata: str | None = None,
) -> Result:
    values = {
        modals.ROOT_CAUSE: {modals.VALUE: text_value(root_cause)},
        modals.CORRECTIVE_ACTION: {modals.VALUE: text_value(corrective_action)},
    }
    return slack.submit(
        modals.RESOLVE_CALLBACK,
        values,
        private_metadata=metadata if metadata is not None else value_of(escalation_id),
        user=user,
    )


def submit_reassign(
    slack: SlackDriver, escalation_id: int, *, user: str, new_owner: str | None
) -> Result:
    return slack.submit(
        modals.REASSIGN_CALLBACK,
        {modals.NEW_OWNER: {modals.VALUE: user_value(new_owner)}},
        private_metadata=value_of(escalation_id),
        user=user,
    )


def updates_of(standin: SlackStandin, e: EscalationView) -> list[ApiCall]:
    return [
        c
        for c in standin.calls("chat.update")
        if c.params.get("channel") == e.channel_id and c.params.get("ts") == e.message_ts
    ]


def thread_posts(standin: SlackStandin, e: EscalationView) -> list[ApiCall]:
    return [c for c in standin.calls("chat.postMessage") if c.params.get("thread_ts")]


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        element["action_id"]
        for block in blocks
        if block.get("type") == "actions"
        for element in block["elements"]
    ]


def dump(call: ApiCall) -> str:
    return json.dumps(call.params, ensure_ascii=False)


def submit_reopen(
    slack: SlackDriver, escalation_id: int, *, user: str, reason: str | None
) -> Result:
    return slack.submit(
        modals.REOPEN_CALLBACK,
        {modals.REOPEN_REASON: {modals.VALUE: text_value(reason)}},
        private_metadata=value_of(escalation_id),
        user=user,
    )
