"""Escalation messages: the channel message, its thread lines, DMs, lists and refusals.

Button values and modal metadata are small typed JSON models (`EscalationRef`,
`NewEscalationMeta`); anything that does not parse is refused with a `UserError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from bot.errors import UserError
from bot.escalations.models import ChangeOutcome, EscalationView, TimelineEvent
from bot.escalations.sla import SEVERITIES, SEVERITY_MEANINGS, ClockState, Severity, SlaClock
from bot.ids import MAX_RECORD_ID
from bot.periods import duration_text
from bot.slack.help import CommandHelp
from bot.slack.mrkdwn import channel_ref, escape, local_time, quote, truncate, user_ref

ESCALATE_HELP = CommandHelp(
    "/escalate",
    "Raise an escalation with an owner and SLA clocks; acknowledge, reassign and resolve it "
    "from its message.",
    (
        "`/escalate` — open the form (title, customer, severity, description, owner, link)",
        "`/escalate <title>` — the same form with the title filled in",
        "`/escalate list [open|mine|all]` — open escalations, yours, or every recent one",
        "React with :rotating_light: on a message (unless your playbook's `capture:` says "
        "otherwise) — you are offered to raise an escalation from it, with its link",
        "`/escalate help` — this help",
    ),
)

# Action ids of the message buttons.
ACKNOWLEDGE = "escalation.acknowledge"
REASSIGN = "escalation.reassign"
RESOLVE = "escalation.resolve"
REOPEN = "escalation.reopen"
SEVERITY = "escalation.severity"

_LINK_RE = re.compile(r"https?://[^\s<>|]+", re.IGNORECASE)


class EscalationRef(BaseModel):
    """Button value / modal metadata naming one escalation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int = Field(gt=0, le=MAX_RECORD_ID)

    def encode(self) -> str:
        return self.model_dump_json()

    @classmethod
    def decode(cls, raw: str | None) -> EscalationRef:
        """Parse a value we wrote; anything else (forged, garbage) is a UserError."""
        try:
            return cls.model_validate_json(raw or "")
        except ValidationError:
            raise UserError(
                "That escalation button is not valid (it may come from an old or altered "
                "message). Nothing was changed; use `/escalate list` to find the escalation."
            ) from None


class SeverityChoice(BaseModel):
    """An option of the message's severity select: which escalation, which severity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int = Field(gt=0, le=MAX_RECORD_ID)
    severity: Severity

    def encode(self) -> str:
        return self.model_dump_json()

    @classmethod
    def decode(cls, raw: str | None) -> SeverityChoice:
        try:
            return cls.model_validate_json(raw or "")
        except ValidationError:
            raise UserError(
                "That severity choice is not valid (it may come from an old or altered "
                "message). Nothing was changed; use `/escalate list` to find the escalation."
            ) from None


class NewEscalationMeta(BaseModel):
    """Metadata of the `/escalate` modal: where the command was typed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel_id: str | None = Field(default=None, max_length=32)
    # Raised from a message (a reaction's offer): its permalink, kept on the escalation
    # even when the link field is cleared.
    source_link: str | None = Field(default=None, max_length=1000)

    def encode(self) -> str:
        return self.model_dump_json()

    @classmethod
    def decode(cls, raw: str | None) -> NewEscalationMeta:
        try:
            return cls.model_validate_json(raw or "{}")
        except ValidationError:
            return cls()


def is_valid_link(value: str) -> bool:
    """True for an http(s) URL Slack can show as a link."""
    return _LINK_RE.fullmatch(value) is not None


def severity_label(severity: str) -> str:
    return severity.upper()


def when(at: datetime, reader_tz: ZoneInfo | None = None) -> str:
    """A time each reader sees in their own timezone; the fallback in the one reader's zone
    when known (a DM), else in UTC."""
    return local_time(at, reader_tz)


_STATE_ICON = {
    ClockState.ON_TRACK: ":large_green_circle:",
    ClockState.DUE_SOON: ":large_yellow_circle:",
    ClockState.BREACHED: ":red_circle:",
    ClockState.MET: ":white_check_mark:",
}


def clock_line(clock: SlaClock, reader_tz: ZoneInfo | None = None) -> str:
    """One SLA clock: what is due, by when, and its state."""
    verb = "Acknowledge" if clock.kind == "ack" else "Resolve"
    icon = _STATE_ICON[clock.state]
    if clock.stopped_at is not None:
        late = clock.stopped_at - clock.due_at
        tail = (
            f"{duration_text(late.total_seconds())} late"
            if clock.breached
            else f"within {duration_text((clock.elapsed or late).total_seconds())}"
        )
        return f"{icon} {verb}: *{clock.state}* — done {when(clock.stopped_at, reader_tz)}, {tail}"
    left = clock.due_at - clock.as_of
    tail = (
        f"{duration_text(left.total_seconds())} overdue"
        if clock.breached
        else f"{duration_text(left.total_seconds())} left"
    )
    return f"{icon} {verb} by {when(clock.due_at, reader_tz)} — *{clock.state}* ({tail})"


def _status_line(e: EscalationView) -> str:
    if e.status == "resolved" and e.resolved_by:
        return f"*Resolved* by {user_ref(e.resolved_by)}"
    if e.status == "acknowledged" and e.acknowledged_by:
        return f"*Acknowledged* by {user_ref(e.acknowledged_by)}"
    return "*Open* — waiting for acknowledgement"


def fallback_text(e: EscalationView) -> str:
    """The plain-text line of an escalation (notifications, screen readers)."""
    title = truncate(escape(e.title), 150)
    return f"{severity_label(e.severity)} escalation #{e.id}: {title} — {e.status}"


def _reopened_block(reopened: TimelineEvent) -> SectionBlock:
    """Why it was reopened, and the resolution that did not hold (kept visible)."""
    detail = reopened.detail
    text = (
        f"*Reopened* by {user_ref(reopened.actor_id)} {when(reopened.at)}\n"
        f"{quote(detail.get('reason', ''), 800)}"
    )
    if detail.get("previous_root_cause") or detail.get("previous_corrective_action"):
        text += (
            f"\n*Previous root cause*\n{quote(detail.get('previous_root_cause') or '—', 800)}"
            f"\n*Previous corrective action*\n"
            f"{quote(detail.get('previous_corrective_action') or '—', 800)}"
        )
    return SectionBlock(text=MarkdownTextObject(text=text))


def render_escalation_message(
    e: EscalationView,
    *,
    reopened: TimelineEvent | None = None,
    linked_feedback: Sequence[int] = (),
) -> tuple[str, list[Block]]:
    """The channel message: facts, SLA clocks, linked feedback and the buttons its status
    allows; with `reopened` (the last reopen of an escalation not resolved again), why and
    what the previous resolution said."""
    facts = [
        f"*Customer:* {escape(e.customer) or '—'}",
        f"*Severity:* {severity_label(e.severity)} — {SEVERITY_MEANINGS.get(e.severity, '')}",
        f"*Owner:* {user_ref(e.owner_id)}",
        f"*Reported by:* {user_ref(e.reporter_id)} {when(e.created_at)}",
        f"*Status:* {_status_line(e)}",
    ]
    body = f"*{truncate(escape(e.title), 150)}*"
    if e.description:
        body += "\n" + quote(e.description, 1500)
    blocks: list[Block] = [
        HeaderBlock(text=f"{severity_label(e.severity)} escalation #{e.id}"),
        SectionBlock(text=MarkdownTextObject(text=body)),
        SectionBlock(fields=[MarkdownTextObject(text=f) for f in facts]),
        SectionBlock(
            text=MarkdownTextObject(
                text="\n".join([clock_line(e.ack_clock), clock_line(e.resolve_clock)])
            )
        ),
    ]
    if e.root_cause or e.corrective_action:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*Root cause*\n{quote(e.root_cause, 1200)}\n"
                    f"*Corrective action*\n{quote(e.corrective_action, 1200)}"
                )
            )
        )
    if reopened is not None and not e.is_resolved:
        blocks.append(_reopened_block(reopened))
    if e.link:
        link = (
            f"<{escape(e.link)}|{truncate(escape(e.link), 80)}>"
            if is_valid_link(e.link)
            else truncate(escape(e.link), 200)
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Link: {link}")]))
    if linked_feedback:
        shown = ", ".join(f"#{i}" for i in linked_feedback[:20])
        more = f" and {len(linked_feedback) - 20} more" if len(linked_feedback) > 20 else ""
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"Linked feedback: {shown}{more}")])
        )
    blocks.append(ActionsBlock(block_id=f"escalation-{e.id}", elements=_buttons(e)))
    as_of = e.ack_clock.as_of
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"SLA state as of {when(as_of)}. Changes are logged in the thread."
                )
            ]
        )
    )
    return fallback_text(e), blocks


def _severity_option(e: EscalationView, severity: Severity) -> Option:
    meaning = SEVERITY_MEANINGS[severity].split(":")[0]
    return Option(
        value=SeverityChoice(id=e.id, severity=severity).encode(),
        text=f"{severity_label(severity)} — {meaning}",
    )


def _severity_select(e: EscalationView) -> StaticSelectElement:
    """Change the severity from the message (its clocks are recomputed)."""
    options = [_severity_option(e, s) for s in SEVERITIES]
    current = next((o for o, s in zip(options, SEVERITIES, strict=True) if s == e.severity), None)
    return StaticSelectElement(
        action_id=SEVERITY,
        placeholder="Change severity",
        options=options,
        initial_option=current,
    )


def _buttons(e: EscalationView) -> list[ButtonElement | StaticSelectElement]:
    value = EscalationRef(id=e.id).encode()
    if e.is_resolved:
        return [ButtonElement(text="Reopen", action_id=REOPEN, value=value)]
    buttons: list[ButtonElement | StaticSelectElement] = []
    if e.status == "open":
        buttons.append(
            ButtonElement(text="Acknowledge", action_id=ACKNOWLEDGE, value=value, style="primary")
        )
    buttons.append(ButtonElement(text="Reassign", action_id=REASSIGN, value=value))
    buttons.append(ButtonElement(text="Resolve", action_id=RESOLVE, value=value))
    buttons.append(_severity_select(e))
    return buttons


def render_event(event: TimelineEvent) -> str:
    """The thread line for one change."""
    who = f"{user_ref(event.actor_id)}"
    at = when(event.at)
    detail = event.detail
    if event.kind == "acknowledged":
        return f":eyes: {who} acknowledged this escalation — {at}"
    if event.kind == "reassigned":
        return (
            f":arrows_counterclockwise: {who} reassigned it from {user_ref(detail.get('from'))} "
            f"to {user_ref(detail.get('to'))} — {at}"
        )
    if event.kind == "resolved":
        return (
            f":white_check_mark: {who} resolved it — {at}\n*Root cause*\n"
            f"{quote(detail.get('root_cause', ''), 1200)}\n*Corrective action*\n"
            f"{quote(detail.get('corrective_action', ''), 1200)}"
        )
    if event.kind == "reopened":
        reason = detail.get("reason")
        line = f":leftwards_arrow_with_hook: {who} reopened it — {at}"
        return line + (f"\n*Why*\n{quote(reason, 1200)}" if reason else "")
    if event.kind == "severity_changed":
        return (
            f":arrows_clockwise: {who} changed the severity from "
            f"{severity_label(escape(detail.get('from', '')))} to "
            f"{severity_label(escape(detail.get('to', '')))}; the SLA clocks now run from that "
            f"severity's promise — {at}"
        )
    if event.kind == "opened":
        return f":rotating_light: {who} opened it — {at}"
    return f"{who} {escape(event.kind)} — {at}"


def render_owner_dm(
    e: EscalationView, *, assigned_by: str | None = None, reader_tz: ZoneInfo | None = None
) -> str:
    """The DM telling an owner an escalation is theirs."""
    how = f"{user_ref(assigned_by)} assigned you" if assigned_by else "You own"
    lines = [
        f":rotating_light: {how} {severity_label(e.severity)} escalation #{e.id}: "
        f"*{truncate(escape(e.title), 150)}* (customer: {escape(e.customer) or '—'}).",
        clock_line(e.ack_clock, reader_tz),
        clock_line(e.resolve_clock, reader_tz),
    ]
    if e.permalink:
        lines.append(f"<{e.permalink}|Open the escalation>")
    return "\n".join(lines)


def render_confirmation(e: EscalationView, *, channel: str | None, configured: str | None) -> str:
    """What the reporter is told after submitting: it is stored, where it is being posted."""
    head = f":white_check_mark: Escalation #{e.id} *{truncate(escape(e.title), 150)}* is stored"
    if channel is None:
        return (
            f"{head}; no channel is set for escalations, so {user_ref(e.owner_id)} gets it by "
            "DM. An admin can set one in the playbook (`channels: escalations:`)."
        )
    text = f"{head} and being posted in {channel_ref(channel)}; {user_ref(e.owner_id)} owns it."
    if configured is None:
        text += (
            "\nNo escalation channel is configured, so I am posting it here. An admin can set "
            "one in the playbook (`channels: escalations:`)."
        )
    return text


_REFUSALS = {
    "already_acknowledged": "Escalation #{id} was already acknowledged{by}; nothing changed.",
    "already_resolved": "Escalation #{id} is already resolved{by}; nothing changed. "
    "Use *Reopen* if it is back.",
    "not_resolved": "Escalation #{id} is not resolved (it is {status}), so there is nothing "
    "to reopen.",
    "same_owner": "{owner} already owns escalation #{id}; nothing changed.",
    "same_severity": "Escalation #{id} is already {severity}; nothing changed.",
}


def render_refusal(outcome: ChangeOutcome) -> str:
    """Why a change did nothing (the message has been refreshed to the current state)."""
    e = outcome.escalation
    who = e.resolved_by if outcome.refusal == "already_resolved" else e.acknowledged_by
    template = _REFUSALS.get(outcome.refusal or "", "Nothing changed.")
    return template.format(
        id=e.id,
        by=f" by {user_ref(who)}" if who else "",
        status=e.status,
        owner=user_ref(e.owner_id),
        severity=severity_label(e.severity),
    )


def render_escalation_list(
    escalations: Sequence[EscalationView], *, scope: str
) -> tuple[str, list[Block]]:
    """`/escalate list`: one line per escalation with its state and clocks."""
    titles = {
        "open": "Open escalations",
        "mine": "Your open escalations",
        "all": "Recent escalations",
    }
    heading = titles.get(scope, "Escalations")
    if not escalations:
        empty = {
            "open": "No open escalations. :tada:",
            "mine": "You own no open escalations.",
            "all": "No escalations yet. Raise one with `/escalate`.",
        }[scope]
        return f"{heading}: {empty}", [SectionBlock(text=MarkdownTextObject(text=empty))]
    lines = []
    for e in escalations:
        title = truncate(escape(e.title), 80)
        if e.permalink:
            title = f"<{e.permalink}|{title}>"
        clock = e.resolve_clock if e.status != "open" else e.ack_clock
        state = "resolved" if e.is_resolved else f"{e.status}, {clock.kind} {clock.state}"
        lines.append(
            f"• *#{e.id}* {severity_label(e.severity)} {title} — {user_ref(e.owner_id)} — {state}"
        )
    blocks: list[Block] = [HeaderBlock(text=heading)]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
            chunk = []
        chunk.append(line)
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
    return f"{heading}\n" + "\n".join(lines), blocks


_PROMISE = {"ack": "acknowledgement", "resolve": "resolution"}
_STILL = {"ack": "still not acknowledged", "resolve": "still not resolved"}
_ROLE = {
    "process_owner": "the escalation process owner",
    "admins": "an Opsloop admin",
}


def _alert_head(e: EscalationView) -> str:
    title = truncate(escape(e.title), 150)
    head = f"{severity_label(e.severity)} escalation #{e.id} *{title}*"
    return f"<{e.permalink}|{head}>" if e.permalink else head


def render_breach_dm(
    e: EscalationView, *, clock: SlaClock, level: str, reader_tz: ZoneInfo | None = None
) -> str:
    """The DM a level of a breach sends: the owner at once, then the people brought in."""
    late = duration_text((clock.as_of - clock.due_at).total_seconds())
    if level == "owner":
        action = "Acknowledge" if clock.kind == "ack" else "Resolve"
        lines = [
            f":red_circle: {_alert_head(e)} missed its {_PROMISE[clock.kind]} promise "
            f"(due {when(clock.due_at, reader_tz)}).",
            f"{action} it from its message; the escalation policy brings in the process owner "
            "and the admins if it stays breached.",
        ]
    else:
        lines = [
            f":rotating_light: {_alert_head(e)}, owned by {user_ref(e.owner_id)}, is "
            f"{_STILL[clock.kind]} {late} after its deadline ({when(clock.due_at, reader_tz)}).",
            f"You are brought in as {_ROLE.get(level, 'a responder')}: help the owner, or "
            "reassign it from its message.",
        ]
    if clock.stopped_at is not None:
        lines.append("It has been dealt with since: " + clock_line(clock, reader_tz))
    else:
        lines.append(clock_line(clock, reader_tz))
    return "\n".join(lines)


def render_breach_note(
    e: EscalationView, *, clock: SlaClock, level: str, recipients: Sequence[str]
) -> str:
    """The thread note a level of a breach adds to the escalation's message."""
    people = ", ".join(user_ref(p) for p in recipients)
    if level == "owner":
        verb = "acknowledge" if clock.kind == "ack" else "resolve"
        return (
            f":red_circle: The {_PROMISE[clock.kind]} promise ran out {when(clock.due_at)}: "
            f"{people or user_ref(e.owner_id)}, please {verb} it."
        )
    late = duration_text((clock.as_of - clock.due_at).total_seconds())
    who = "the escalation process owner" if level == "process_owner" else "the admins"
    return (
        f":rotating_light: {_STILL[clock.kind].capitalize()} {late} after the deadline: "
        f"bringing in {who} {people}."
    )
