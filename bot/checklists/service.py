"""Checklist runs: start one in a channel, tick and untick items, cancel, list, overdue.

Every change happens in one transaction holding the run's lock, and puts the run's message
refresh in the outbox in that same transaction; the sender renders the message from the
database when it sends, never from the click payload, so two people ticking at the same
moment both count and the message never shows an older state after a newer one.
"""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import periods
from bot.checklists.models import (
    ACTIVE,
    CANCELLED,
    COMPLETED,
    GROUP_SIZE,
    ItemView,
    OverdueChecklistItem,
    RunView,
    TickResult,
)
from bot.checklists.rows import run_view
from bot.checklists.templates import PROCESS_PREFIX, STARTER
from bot.errors import NotFoundError, PermissionDeniedError, UserError
from bot.org import service as directory
from bot.outbox import models as outbox
from bot.outbox.service import enqueue
from bot.slack.mrkdwn import typed, user_ref
from storage import checklists as store
from storage import org
from storage.core import add_audit_entry
from storage.db import SessionFactory, transaction
from storage.models.checklists import ChecklistItem, ChecklistRun

SUBJECT_MAX = 200
# Outbox subjects: the run's channel message, and a note in its thread.
RUN_SUBJECT = "checklist"
NOTE_SUBJECT = "checklist-note"


def _resolve_owner(
    sessions: SessionFactory, *, team_id: str, spec: str, starter: str
) -> str | None:
    if spec == STARTER:
        return starter
    if spec.startswith(PROCESS_PREFIX):
        key = spec[len(PROCESS_PREFIX) :]
        return directory.get_process_owner(sessions, team_id=team_id, process_key=key)
    return spec


def due_time(start: datetime, *, days: int, timezone: str, business_days: bool = False) -> datetime:
    """The end of the day `days` after `start`, in the team's timezone: "due today" means
    by tonight, not at the very minute the checklist was started. With `business_days`,
    Saturdays and Sundays are not counted (and nothing falls due on one)."""
    zone = ZoneInfo(timezone)
    local_day = start.astimezone(zone).date()
    day = (
        periods.add_business_days(local_day, days)
        if business_days
        else local_day + timedelta(days=days)
    )
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone).astimezone(start.tzinfo)


def _template_names(sessions: SessionFactory, *, team_id: str) -> list[str]:
    with transaction(sessions) as session:
        return [t.name for t in store.list_current_templates(session, team_id=team_id)]


def start_checklist(
    sessions: SessionFactory,
    *,
    team_id: str,
    template_name: str,
    subject: str,
    channel_id: str,
    user_id: str,
    now: datetime,
    timezone: str,
) -> RunView:
    """Store a new run of a template in a channel, with its message in the outbox.

    The message gets its ts when the sender delivers it; until then clicks on it cannot
    happen and `/checklist list` shows the run as being posted.
    """
    subject = " ".join(subject.split())
    if len(subject) > SUBJECT_MAX:
        raise UserError(
            f"The subject is too long ({len(subject)} characters; at most {SUBJECT_MAX})."
        )
    with transaction(sessions) as session:
        template = store.get_current_template(session, team_id=team_id, name=template_name)
        snapshot = None
        if template is not None:
            snapshot = (
                template.id,
                template.name,
                template.version,
                template.title,
                template.items,
            )
    if snapshot is None:
        names = _template_names(sessions, team_id=team_id)
        if not names:
            raise NotFoundError(
                f"There is no checklist template called `{typed(template_name)}` — in fact "
                "there are no templates yet. An Opsloop admin adds them in the playbook "
                "(`checklists:`)."
            )
        raise NotFoundError(
            f"There is no checklist template called `{typed(template_name)}`. "
            f"Templates: {', '.join(f'`{n}`' for n in names)}.",
            example=f"/checklist start {names[0]} Acme",
        )
    template_id, name, version, title, specs = snapshot
    items = [
        ItemView(
            id=0,
            position=position,
            title=str(spec["title"]),
            owner_spec=str(spec["owner"]),
            owner_id=_resolve_owner(
                sessions, team_id=team_id, spec=str(spec["owner"]), starter=user_id
            ),
            due_at=due_time(
                now,
                days=int(spec["due_days"]),
                timezone=timezone,
                business_days=bool(spec.get("business_days")),
            ),
            help_url=spec.get("help_url"),
            done_by=None,
            done_at=None,
        )
        for position, spec in enumerate(specs)
    ]
    draft = RunView(
        key=secrets.token_hex(6),
        team_id=team_id,
        title=title,
        subject=subject,
        template_name=name,
        template_version=version,
        channel_id=channel_id,
        message_ts="",
        started_by=user_id,
        started_at=now,
        status=ACTIVE,
        completed_at=None,
        duration_seconds=None,
        cancelled_by=None,
        cancelled_at=None,
        revision=0,
        items=tuple(items),
    )
    with transaction(sessions) as session:
        run = ChecklistRun(
            team_id=team_id,
            key=draft.key,
            template_id=template_id,
            template_name=name,
            template_version=version,
            title=title,
            subject=subject,
            channel_id=channel_id,
            message_ts=None,
            started_by=user_id,
            started_at=now,
            status=ACTIVE,
            revision=0,
        )
        rows = [
            ChecklistItem(
                team_id=team_id,
                position=item.position,
                title=item.title,
                owner_spec=item.owner_spec,
                owner_id=item.owner_id,
                due_at=item.due_at,
                help_url=item.help_url,
            )
            for item in items
        ]
        store.add_run(session, run=run, items=rows)
        add_audit_entry(
            session,
            team_id=team_id,
            actor_id=user_id,
            action="checklist.started",
            subject=draft.key,
            at=now,
            detail={"template": name, "version": version, "channel": channel_id},
        )
        enqueue(
            session,
            team_id=team_id,
            messages=[
                outbox.rendered_post(
                    message_key(draft.key),
                    channel_id,
                    subject=f"{RUN_SUBJECT}:{draft.key}",
                    notify_user=user_id,
                )
            ],
            now=now,
        )
        return run_view(run)


def message_key(run_key: str) -> str:
    """The outbox key of a run's channel message."""
    return f"{RUN_SUBJECT}:{run_key}"


def _bring_message_up_to_date(
    session: Session, run: ChecklistRun, *, now: datetime, completed: bool, reopened: bool
) -> None:
    """With the change: the run's message re-rendered, and completion or reopening noted in
    its thread (once per revision)."""
    subject = f"{RUN_SUBJECT}:{run.key}"
    messages = [
        outbox.refresh(
            f"{message_key(run.key)}:update",
            subject=subject,
            of=message_key(run.key),
            channel=run.channel_id,
            ts=run.message_ts,
        )
    ]
    if completed or reopened:
        what = "completed" if completed else "reopened"
        messages.append(
            outbox.rendered_post(
                f"{message_key(run.key)}:{what}:{run.revision}",
                run.channel_id,
                subject=f"{NOTE_SUBJECT}:{run.key}:{what}",
                thread_of=message_key(run.key),
                thread_ts=run.message_ts,
            )
        )
    enqueue(session, team_id=run.team_id, messages=messages, now=now)


def get_run(sessions: SessionFactory, *, team_id: str, run_key: str) -> RunView:
    """The current state of one run."""
    with transaction(sessions) as session:
        run = store.get_run(session, team_id=team_id, key=run_key)
        if run is None:
            raise NotFoundError("That checklist does not exist.")
        return run_view(run)


def _locked_run(
    session: Any, *, team_id: str, run_key: str, channel_id: str | None, message_ts: str | None
) -> ChecklistRun:
    run = store.get_run(session, team_id=team_id, key=run_key, for_update=True)
    if run is None:
        raise NotFoundError("That checklist does not exist (any more); nothing was changed.")
    # The block id names the run; the payload's channel and message must be that run's own,
    # so a crafted block id cannot reach a run the user is not looking at.
    if channel_id is not None and message_ts is not None and run.message_ts is None:
        raise UserError(
            "This checklist is still being posted; its message can be used in a moment."
        )
    if (channel_id is not None and channel_id != run.channel_id) or (
        message_ts is not None and message_ts != run.message_ts
    ):
        raise PermissionDeniedError(
            "That action does not belong to this checklist; nothing was changed."
        )
    return run


def _settle(run: ChecklistRun, *, now: datetime) -> tuple[bool, bool]:
    """Complete or reopen the run after a change; (completed now, reopened now)."""
    all_done = all(item.done_at is not None for item in run.items)
    if all_done and run.status == ACTIVE:
        run.status = COMPLETED
        run.completed_at = now
        run.duration_seconds = int((now - run.started_at).total_seconds())
        return True, False
    if not all_done and run.status == COMPLETED:
        run.status = ACTIVE
        run.completed_at = None
        run.duration_seconds = None
        return False, True
    return False, False


def _set_done(item: ChecklistItem, *, done: bool, user_id: str, now: datetime) -> bool:
    if done == (item.done_at is not None):
        return False
    item.done_by = user_id if done else None
    item.done_at = now if done else None
    return True


def apply_checkbox_state(
    sessions: SessionFactory,
    *,
    team_id: str,
    run_key: str,
    group: int,
    selected: frozenset[int],
    shown: frozenset[int] | None,
    channel_id: str,
    message_ts: str,
    user_id: str,
    now: datetime,
) -> TickResult:
    """Apply one click on a checkbox group: `selected` is its state after the click.

    The item clicked is the one whose state differs from what the user saw (`shown`, the
    group's ticked items in the message they clicked), or, without it, from the database.
    Only those items change, so a tick someone else made meanwhile is never undone.
    """
    with transaction(sessions) as session:
        run = _locked_run(
            session, team_id=team_id, run_key=run_key, channel_id=channel_id, message_ts=message_ts
        )
        in_group = {
            item.position: item for item in run.items if item.position // GROUP_SIZE == group
        }
        if (
            not in_group
            or not selected <= in_group.keys()
            or (shown is not None and not shown <= in_group.keys())
        ):
            raise PermissionDeniedError(
                "That item is not part of this checklist; nothing was changed."
            )
        if run.status == CANCELLED:
            raise UserError("This checklist was cancelled, so its items can no longer be ticked.")
        before = (
            shown
            if shown is not None
            else {p for p, item in in_group.items() if item.done_at is not None}
        )
        clicked = sorted(set(before) ^ selected)
        if len(clicked) > 1:
            # One click changes one box; more differences mean the user's view was stale.
            # Keep only the ticks: a tick is never lost, a stale untick can be redone.
            clicked = [position for position in clicked if position in selected]
        changed = [
            position
            for position in clicked
            if _set_done(in_group[position], done=position in selected, user_id=user_id, now=now)
        ]
        completed = reopened = False
        if changed:
            completed, reopened = _settle(run, now=now)
            run.revision += 1
            _bring_message_up_to_date(session, run, now=now, completed=completed, reopened=reopened)
        session.flush()
        return TickResult(run_view(run), tuple(changed), completed, reopened)


def mark_item_done(
    sessions: SessionFactory, *, team_id: str, item_id: int, user_id: str, now: datetime
) -> TickResult:
    """Tick one item by id (e.g. from a nudge's Done button); ticking twice changes nothing."""
    with transaction(sessions) as session:
        run_key = store.get_run_key_of_item(session, team_id=team_id, item_id=item_id)
        if run_key is None:
            raise NotFoundError("That checklist item does not exist; nothing was changed.")
        run = _locked_run(
            session, team_id=team_id, run_key=run_key, channel_id=None, message_ts=None
        )
        if run.status == CANCELLED:
            raise UserError("This checklist was cancelled, so its items can no longer be ticked.")
        target = next(i for i in run.items if i.id == item_id)
        changed = _set_done(target, done=True, user_id=user_id, now=now)
        completed = False
        if changed:
            completed, _ = _settle(run, now=now)
            run.revision += 1
            _bring_message_up_to_date(session, run, now=now, completed=completed, reopened=False)
        session.flush()
        return TickResult(run_view(run), (target.position,) if changed else (), completed, False)


def cancel_run(
    sessions: SessionFactory,
    *,
    team_id: str,
    run_key: str,
    channel_id: str,
    message_ts: str,
    user_id: str,
    now: datetime,
) -> RunView:
    """Cancel a run; only the person who started it or an Opsloop admin may."""
    with transaction(sessions) as session:
        run = _locked_run(
            session, team_id=team_id, run_key=run_key, channel_id=channel_id, message_ts=message_ts
        )
        if user_id != run.started_by and not org.is_admin(
            session, team_id=team_id, user_id=user_id
        ):
            raise PermissionDeniedError(
                f"Only the person who started this checklist ({user_ref(run.started_by)}) or an "
                "Opsloop admin can cancel it."
            )
        if run.status != CANCELLED:
            run.status = CANCELLED
            run.cancelled_by = user_id
            run.cancelled_at = now
            run.revision += 1
            _bring_message_up_to_date(session, run, now=now, completed=False, reopened=False)
            add_audit_entry(
                session,
                team_id=team_id,
                actor_id=user_id,
                action="checklist.cancelled",
                subject=run_key,
                at=now,
            )
        session.flush()
        return run_view(run)


def list_active_runs(
    sessions: SessionFactory, *, team_id: str, user_id: str, mine_only: bool
) -> list[RunView]:
    """Active runs, oldest first; `mine_only` keeps runs I started or own an open item of."""
    with transaction(sessions) as session:
        runs = [run_view(run) for run in store.list_runs(session, team_id=team_id, status=ACTIVE)]
    if mine_only:
        runs = [
            run
            for run in runs
            if run.started_by == user_id
            or any(item.owner_id == user_id and not item.done for item in run.items)
        ]
    return runs


def list_overdue_items(
    sessions: SessionFactory, *, team_id: str, now: datetime
) -> list[OverdueChecklistItem]:
    """Open items of active runs past their due time, for nudges and the digest."""
    with transaction(sessions) as session:
        return [
            OverdueChecklistItem(
                item_id=item.id,
                title=item.title,
                owner_id=item.owner_id,
                due_at=item.due_at,
                run_key=item.run.key,
                run_title=item.run.title,
                subject=item.run.subject,
                channel_id=item.run.channel_id,
                message_ts=item.run.message_ts,
            )
            for item in store.list_overdue_items(session, team_id=team_id, now=now)
        ]
