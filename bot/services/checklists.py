"""Checklist runs: start one in a channel, tick and untick items, cancel, list, overdue.

Every change happens in one transaction holding the run's lock, and callers rebuild the
Slack message from what the transaction returns, never from the click payload, so two
people ticking at the same moment both count.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import NotFoundError, PermissionDeniedError, UserError
from bot.services import directory
from bot.services.checklist_templates import PROCESS_PREFIX, STARTER
from storage import checklists as store
from storage import org
from storage.core import add_audit_entry
from storage.db import SessionFactory, transaction
from storage.models.checklists import ChecklistItem, ChecklistRun

# Slack allows 10 options per checkbox element: items are shown in groups of this size.
GROUP_SIZE = 10
ACTIVE, COMPLETED, CANCELLED = "active", "completed", "cancelled"
SUBJECT_MAX = 200


@dataclass(frozen=True)
class ItemView:
    id: int
    position: int
    title: str
    owner_spec: str
    owner_id: str | None
    due_at: datetime
    help_url: str | None
    done_by: str | None
    done_at: datetime | None

    @property
    def done(self) -> bool:
        return self.done_at is not None

    @property
    def group(self) -> int:
        return self.position // GROUP_SIZE

    def is_overdue(self, now: datetime) -> bool:
        return not self.done and self.due_at < now


@dataclass(frozen=True)
class RunView:
    key: str
    team_id: str
    title: str
    subject: str
    template_name: str
    template_version: int
    channel_id: str
    message_ts: str
    started_by: str
    started_at: datetime
    status: str
    completed_at: datetime | None
    duration_seconds: int | None
    cancelled_by: str | None
    cancelled_at: datetime | None
    revision: int
    items: tuple[ItemView, ...]

    @property
    def heading(self) -> str:
        return f"{self.title} — {self.subject}" if self.subject else self.title

    @property
    def done_count(self) -> int:
        return sum(1 for item in self.items if item.done)

    @property
    def group_count(self) -> int:
        return (len(self.items) + GROUP_SIZE - 1) // GROUP_SIZE

    def overdue(self, now: datetime) -> list[ItemView]:
        return [item for item in self.items if item.is_overdue(now)]


@dataclass(frozen=True)
class TickResult:
    run: RunView
    changed: tuple[int, ...]  # positions whose state changed
    completed: bool  # this change completed the run
    reopened: bool  # this change reopened a completed run


@dataclass(frozen=True)
class OverdueItem:
    item_id: int
    title: str
    owner_id: str | None
    due_at: datetime
    run_key: str
    run_title: str
    subject: str
    channel_id: str
    message_ts: str


def _item_view(item: ChecklistItem) -> ItemView:
    return ItemView(
        id=item.id,
        position=item.position,
        title=item.title,
        owner_spec=item.owner_spec,
        owner_id=item.owner_id,
        due_at=item.due_at,
        help_url=item.help_url,
        done_by=item.done_by,
        done_at=item.done_at,
    )


def _run_view(run: ChecklistRun) -> RunView:
    return RunView(
        key=run.key,
        team_id=run.team_id,
        title=run.title,
        subject=run.subject,
        template_name=run.template_name,
        template_version=run.template_version,
        channel_id=run.channel_id,
        message_ts=run.message_ts,
        started_by=run.started_by,
        started_at=run.started_at,
        status=run.status,
        completed_at=run.completed_at,
        duration_seconds=run.duration_seconds,
        cancelled_by=run.cancelled_by,
        cancelled_at=run.cancelled_at,
        revision=run.revision,
        items=tuple(_item_view(item) for item in sorted(run.items, key=lambda i: i.position)),
    )


def _resolve_owner(
    sessions: SessionFactory, *, team_id: str, spec: str, starter: str
) -> str | None:
    if spec == STARTER:
        return starter
    if spec.startswith(PROCESS_PREFIX):
        key = spec[len(PROCESS_PREFIX) :]
        return directory.get_process_owner(sessions, team_id=team_id, process_key=key)
    return spec


def team_timezone(sessions: SessionFactory, *, team_id: str, default: str) -> str:
    """The team's IANA timezone (playbook or Slack setting), else `default`."""
    name = directory.get_team_setting(sessions, team_id=team_id, key=directory.TEAM_TIMEZONE)
    for candidate in (name, default):
        if candidate:
            try:
                ZoneInfo(candidate)
                return candidate
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return "UTC"


def due_time(start: datetime, *, days: int, timezone: str) -> datetime:
    """The end of the day `days` after `start`, in the team's timezone: "due today" means
    by tonight, not at the very minute the checklist was started."""
    zone = ZoneInfo(timezone)
    day = start.astimezone(zone).date() + timedelta(days=days)
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
    post: Callable[[RunView], str],
    retract: Callable[[RunView], None],
) -> RunView:
    """Post a new run of a template in a channel (`post` returns the message ts), then store it.

    Nothing is stored unless the post succeeded; if storing fails after the post, `retract`
    removes the message so no checklist exists only in Slack.
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
                f"There is no checklist template called `{template_name}` — in fact there are "
                "no templates yet. An Opsloop admin adds them in the playbook (`checklists:`)."
            )
        raise NotFoundError(
            f"There is no checklist template called `{template_name}`. "
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
            due_at=due_time(now, days=int(spec["due_days"]), timezone=timezone),
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
    message_ts = post(draft)
    posted = replace(draft, message_ts=message_ts)
    try:
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
                message_ts=message_ts,
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
            return _run_view(run)
    except Exception:
        retract(posted)
        raise


def get_run(sessions: SessionFactory, *, team_id: str, run_key: str) -> RunView:
    """The current state of one run."""
    with transaction(sessions) as session:
        run = store.get_run(session, team_id=team_id, key=run_key)
        if run is None:
            raise NotFoundError("That checklist does not exist.")
        return _run_view(run)


def _locked_run(
    session: Any, *, team_id: str, run_key: str, channel_id: str | None, message_ts: str | None
) -> ChecklistRun:
    run = store.get_run(session, team_id=team_id, key=run_key, for_update=True)
    if run is None:
        raise NotFoundError("That checklist does not exist (any more); nothing was changed.")
    # The block id names the run; the payload's channel and message must be that run's own,
    # so a crafted block id cannot reach a run the user is not looking at.
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
        session.flush()
        return TickResult(_run_view(run), tuple(changed), completed, reopened)


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
        session.flush()
        return TickResult(_run_view(run), (target.position,) if changed else (), completed, False)


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
                f"Only the person who started this checklist (<@{run.started_by}>) or an "
                "Opsloop admin can cancel it."
            )
        if run.status != CANCELLED:
            run.status = CANCELLED
            run.cancelled_by = user_id
            run.cancelled_at = now
            run.revision += 1
            add_audit_entry(
                session,
                team_id=team_id,
                actor_id=user_id,
                action="checklist.cancelled",
                subject=run_key,
                at=now,
            )
        session.flush()
        return _run_view(run)


def list_active_runs(
    sessions: SessionFactory, *, team_id: str, user_id: str, mine_only: bool
) -> list[RunView]:
    """Active runs, oldest first; `mine_only` keeps runs I started or own an open item of."""
    with transaction(sessions) as session:
        runs = [_run_view(run) for run in store.list_runs(session, team_id=team_id, status=ACTIVE)]
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
) -> list[OverdueItem]:
    """Open items of active runs past their due time, for nudges and the digest."""
    with transaction(sessions) as session:
        return [
            OverdueItem(
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


EXPORT_COLUMNS = [
    "team_id",
    "run_key",
    "template",
    "template_version",
    "title",
    "subject",
    "channel_id",
    "message_ts",
    "started_by",
    "started_at",
    "status",
    "completed_at",
    "run_duration_seconds",
    "cancelled_by",
    "cancelled_at",
    "item_position",
    "item_title",
    "owner",
    "owner_id",
    "due_at",
    "done_by",
    "done_at",
    "item_duration_seconds",
]


def export_rows(
    sessions: SessionFactory, *, team_id: str | None, since: datetime | None
) -> list[dict[str, Any]]:
    """One row per item of every run (with its run's fields), for `opsloop export checklists`."""
    rows: list[dict[str, Any]] = []
    with transaction(sessions) as session:
        for run in store.list_runs_for_export(session, team_id=team_id, since=since):
            for item in sorted(run.items, key=lambda i: i.position):
                rows.append(
                    {
                        "team_id": run.team_id,
                        "run_key": run.key,
                        "template": run.template_name,
                        "template_version": run.template_version,
                        "title": run.title,
                        "subject": run.subject,
                        "channel_id": run.channel_id,
                        "message_ts": run.message_ts,
                        "started_by": run.started_by,
                        "started_at": run.started_at,
                        "status": run.status,
                        "completed_at": run.completed_at,
                        "run_duration_seconds": run.duration_seconds,
                        "cancelled_by": run.cancelled_by,
                        "cancelled_at": run.cancelled_at,
                        "item_position": item.position + 1,
                        "item_title": item.title,
                        "owner": item.owner_spec,
                        "owner_id": item.owner_id,
                        "due_at": item.due_at,
                        "done_by": item.done_by,
                        "done_at": item.done_at,
                        "item_duration_seconds": (
                            int((item.done_at - run.started_at).total_seconds())
                            if item.done_at
                            else None
                        ),
                    }
                )
    return rows
