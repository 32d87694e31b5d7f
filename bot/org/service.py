"""Who owns what, and who is an admin: the questions every permission check asks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bot import periods
from bot.ids import is_user_id
from bot.org.models import ProcessOwner
from bot.org.team_settings import TEAM_TIMEZONE
from bot.outbox import models as outbox
from bot.outbox.models import Outgoing
from bot.outbox.service import enqueue
from bot.slack.mrkdwn import escape, user_ref
from storage import org
from storage.core import add_audit_entry
from storage.db import SessionFactory, transaction

# A new owner's DM names at most this many things (one import can hand someone dozens).
NOTICE_MAX_THINGS = 20
# Keys of the built-in core processes; the playbook may add more.
ESCALATION_PROCESS = "escalations"
FEEDBACK_PROCESS = "feedback"
ONBOARDING_PROCESS = "onboarding"


def get_process_owner(sessions: SessionFactory, *, team_id: str, process_key: str) -> str | None:
    """The Slack user id owning a process, or None when it has no owner (or does not exist)."""
    with transaction(sessions) as session:
        process = org.get_process(session, team_id=team_id, key=process_key)
        return process.owner_id if process else None


def is_admin(sessions: SessionFactory, *, team_id: str, user_id: str) -> bool:
    """True when the user is an Opsloop admin."""
    with transaction(sessions) as session:
        return org.is_admin(session, team_id=team_id, user_id=user_id)


def set_process_owner(
    sessions: SessionFactory,
    *,
    team_id: str,
    process_key: str,
    process_name: str,
    owner_id: str,
    actor_id: str,
    now: datetime,
    tell_new_owner: bool = False,
) -> ProcessOwner:
    """Make `owner_id` the one owner of a process (created if new); audited. With
    `tell_new_owner`, a new owner (other than the actor) is told by DM, queued with it."""
    with transaction(sessions) as session:
        process = org.add_or_get_process(
            session, team_id=team_id, key=process_key, name=process_name
        )
        previous = process.owner_id
        process.owner_id = owner_id
        add_audit_entry(
            session,
            team_id=team_id,
            actor_id=actor_id,
            action="process.owner_changed",
            subject=process_key,
            at=now,
            detail={"from": previous, "to": owner_id},
        )
        if tell_new_owner and owner_id not in (previous, actor_id):
            what = f"the process *{escape(process.name)}* (`{escape(process.key)}`)"
            notice = new_owner_notice(user_id=owner_id, what=what, actor_id=actor_id)
            enqueue(session, team_id=team_id, messages=[notice], now=now)
        return ProcessOwner(process.key, process.name, process.owner_id)


def new_owner_notice(*, user_id: str, what: str | Sequence[str], actor_id: str) -> Outgoing:
    """The DM telling `user_id` they now own `what` (one thing or several, mrkdwn escaped by
    the caller); queued by the caller in the transaction that makes them the owner."""
    things = [what] if isinstance(what, str) else list(what)
    by = user_ref(actor_id) if is_user_id(actor_id) else "the playbook"
    if len(things) == 1:
        text = f":wave: You are now the owner of {things[0]} in Opsloop (set by {by})."
    else:
        shown = things[:NOTICE_MAX_THINGS]
        text = f":wave: You are now the owner of these in Opsloop (set by {by}):"
        text += "".join(f"\n• {thing}" for thing in shown)
        if len(things) > len(shown):
            text += f"\n• … and {len(things) - len(shown)} more"
    text += "\n" if len(things) > 1 else " "
    text += (
        "You will be nudged about what is overdue; `/ops status` shows the operation's "
        "health and your App Home what you own."
    )
    return outbox.post(f"new-owner:{uuid.uuid4().hex}", user_id, text)


def set_admins(sessions: SessionFactory, *, team_id: str, user_ids: list[str]) -> None:
    """Replace the team's admin list."""
    with transaction(sessions) as session:
        org.set_admins(session, team_id=team_id, user_ids=user_ids)


def get_team_setting(sessions: SessionFactory, *, team_id: str, key: str) -> str | None:
    """A per-team setting such as `channel.feedback`, or None when unset."""
    with transaction(sessions) as session:
        return org.get_team_setting(session, team_id=team_id, key=key)


def set_team_setting(sessions: SessionFactory, *, team_id: str, key: str, value: str) -> None:
    """Create or replace a per-team setting."""
    with transaction(sessions) as session:
        org.set_team_setting(session, team_id=team_id, key=key, value=value)


def team_timezone(sessions: SessionFactory, *, team_id: str, default: str) -> str:
    """The team's IANA timezone (playbook or Slack setting), else `default`, else UTC."""
    name = get_team_setting(sessions, team_id=team_id, key=TEAM_TIMEZONE)
    return periods.zone(name, default).key


def list_scheduled_teams(sessions: SessionFactory) -> list[str]:
    """Teams the scheduler serves: every team with a setting."""
    with transaction(sessions) as session:
        return org.list_team_ids_with_settings(session)


def resolve_owner(session: Session, *, team_id: str, owner_ref: str | None) -> str | None:
    """The Slack user id behind an owner reference (`U…` or `process:<key>`)."""
    if not owner_ref:
        return None
    if owner_ref.startswith("process:"):
        process = org.get_process(session, team_id=team_id, key=owner_ref.removeprefix("process:"))
        return process.owner_id if process else None
    return owner_ref
