"""An escalation's messages in Slack, as the outbox sender renders them when it sends: the
channel message, each change in its thread, and the owner's DM — always from the database,
so a message is never older than the escalation it shows."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot import periods
from bot.deps import Deps
from bot.errors import NotFoundError
from bot.escalations import breaches, service
from bot.escalations.render import (
    render_breach_dm,
    render_breach_note,
    render_escalation_message,
    render_event,
    render_owner_dm,
)
from bot.escalations.sla import BREACH_LEVELS
from bot.ids import is_user_id
from bot.org.people import get_people
from bot.slack.blocks import as_dicts
from bot.slack.sender import Rendered, Renderer


def _reader_tz(deps: Deps, team_id: str, user_id: str) -> ZoneInfo | None:
    """The one reader's timezone, when their profile is cached (a DM's times are labelled in
    it); None: the times fall back to UTC, labelled so."""
    if not is_user_id(user_id):
        return None
    person = get_people(deps.sessions, team_id=team_id, user_ids=[user_id]).get(user_id)
    return periods.zone(person.timezone) if person and person.timezone else None


def message_renderer(deps: Deps) -> Renderer:
    """Subject `escalation:<id>`: the channel message with its buttons."""

    def render_message(team_id: str, ident: str) -> Rendered:
        if not ident.isdigit():
            return None
        try:
            e = service.get_escalation(
                deps.sessions, team_id=team_id, escalation_id=int(ident), now=deps.clock()
            )
        except NotFoundError:
            return None
        reopened = None
        if not e.is_resolved:
            timeline = service.list_timeline(deps.sessions, team_id=team_id, escalation_id=e.id)
            reopened = next((t for t in reversed(timeline) if t.kind == "reopened"), None)
        linked = service.linked_feedback_ids(deps.sessions, team_id=team_id, escalation_id=e.id)
        text, blocks = render_escalation_message(e, reopened=reopened, linked_feedback=linked)
        return text, as_dicts(blocks)

    return render_message


def event_renderer(deps: Deps) -> Renderer:
    """Subject `escalation-event:<event id>`: one change, in the message's thread."""

    def render_change(team_id: str, ident: str) -> Rendered:
        event = (
            service.get_event(deps.sessions, team_id=team_id, event_id=int(ident))
            if ident.isdigit()
            else None
        )
        return (render_event(event), []) if event is not None else None

    return render_change


def owner_renderer(deps: Deps) -> Renderer:
    """Subject `escalation-owner:<id>:<assigned by>`: the DM telling the owner it is theirs."""

    def render_dm(team_id: str, ident: str) -> Rendered:
        escalation_id, _, assigned_by = ident.partition(":")
        if not escalation_id.isdigit():
            return None
        try:
            e = service.get_escalation(
                deps.sessions, team_id=team_id, escalation_id=int(escalation_id), now=deps.clock()
            )
        except NotFoundError:
            return None
        by = assigned_by if is_user_id(assigned_by) else None
        tz = _reader_tz(deps, team_id, e.owner_id)
        return render_owner_dm(e, assigned_by=by, reader_tz=tz), []

    return render_dm


def breach_renderer(deps: Deps) -> Renderer:
    """Subject `escalation-breach:<id>:<clock>:<level>:<dm|thread>`: a breach alert, with the
    clock as it stands when the alert is sent."""

    def render_alert(team_id: str, ident: str) -> Rendered:
        number, clock_kind, level, where, reader = [*ident.split(":"), "", "", "", ""][:5]
        levels = {str(name): name for name in BREACH_LEVELS}
        if not number.isdigit() or clock_kind not in ("ack", "resolve") or level not in levels:
            return None
        try:
            e = service.get_escalation(
                deps.sessions, team_id=team_id, escalation_id=int(number), now=deps.clock()
            )
        except NotFoundError:
            return None
        clock = e.ack_clock if clock_kind == "ack" else e.resolve_clock
        if where == "dm":
            tz = _reader_tz(deps, team_id, reader)
            return render_breach_dm(e, clock=clock, level=level, reader_tz=tz), []
        recipients = breaches.alert_recipients(
            deps.sessions, team_id=team_id, escalation_id=e.id, level=levels[level]
        )
        return render_breach_note(e, clock=clock, level=level, recipients=recipients), []

    return render_alert
