"""Process owners: the owners table, and changing an owner (admins only, audited)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from bot.errors import NotFoundError, PermissionDeniedError, UserError
from bot.ids import USER_ID_PATTERN, USER_MENTION
from bot.org import service as directory
from bot.org.models import OwnerChange, OwnerRow
from bot.org.people import get_people
from bot.org.service import resolve_owner
from bot.slack.mrkdwn import typed, user_ref
from bot.text import closest_keys, did_you_mean
from storage import kpis as kpi_store
from storage import org
from storage.db import SessionFactory, transaction
from storage.models.org import Process

# A bare user id as the last word, for people who paste an id instead of mentioning.
_BARE_ID = re.compile(rf"(?:^|\s)({USER_ID_PATTERN})$")
OWNER_EXAMPLE = "/ops owner onboarding @dana"


def list_owners(sessions: SessionFactory, *, team_id: str) -> list[OwnerRow]:
    """Every process with its owner (None when it has none), by name."""
    with transaction(sessions) as session:
        processes = org.list_processes(session, team_id=team_id)
        rows = [(p.key, p.name, p.owner_id) for p in processes]
    people = get_people(sessions, team_id=team_id, user_ids=[o for _, _, o in rows if o])
    return [
        OwnerRow(
            key,
            name,
            owner,
            people[owner].display_name if owner in people else None,
            bool(owner in people and people[owner].is_deleted),
        )
        for key, name, owner in rows
    ]


def list_owner_ids(sessions: SessionFactory, *, team_id: str) -> set[str]:
    """Everyone who owns a process or a KPI (used to refresh the people cache)."""
    with transaction(sessions) as session:
        ids = {p.owner_id for p in org.list_processes(session, team_id=team_id) if p.owner_id}
        for kpi in kpi_store.list_kpis(session, team_id=team_id):
            owner = resolve_owner(session, team_id=team_id, owner_ref=kpi.owner_ref)
            if owner:
                ids.add(owner)
    return ids


def parse_owner_args(text: str) -> tuple[str, str]:
    """(process, user id) from `<process> <@U123|name>`; `UserError` explains bad input."""
    mentions = USER_MENTION.findall(text)
    rest = USER_MENTION.sub(" ", text)
    if not mentions:
        bare = _BARE_ID.search(text.strip())
        if bare:
            mentions, rest = [bare.group(1)], text.strip()[: bare.start(1)]
    if len(mentions) != 1:
        problem = "one person only" if mentions else "mention the new owner with @"
        raise UserError(
            f"Tell me the process and the new owner ({problem}).", example=OWNER_EXAMPLE
        )
    process = " ".join(rest.split())
    if not process:
        raise UserError("Which process? Give its key or name first.", example=OWNER_EXAMPLE)
    return process, mentions[0]


def find_process(session: Session, *, team_id: str, ref: str) -> Process:
    """A process by key or name (any case); `NotFoundError` suggesting the closest."""
    wanted = ref.strip().lower()
    processes = org.list_processes(session, team_id=team_id)
    for process in processes:
        if wanted in (process.key.lower(), process.name.lower()):
            return process
    if not processes:
        raise NotFoundError("There are no processes yet: an admin defines them in the playbook.")
    names = {p.key.lower(): p.key for p in processes} | {p.name.lower(): p.key for p in processes}
    keys = closest_keys(wanted, names)
    hint = did_you_mean(keys)
    raise NotFoundError(
        f"There is no process called `{typed(ref)}`.{hint} "
        f"Processes: {', '.join(p.key for p in processes)}.",
        example=OWNER_EXAMPLE,
    )


def change_process_owner(
    sessions: SessionFactory,
    *,
    team_id: str,
    actor_id: str,
    process_ref: str,
    owner_id: str,
    now: datetime,
) -> OwnerChange:
    """Make `owner_id` the owner of a process; only admins may, it is audited, and the new
    owner is told by DM."""
    with transaction(sessions) as session:
        if not org.is_admin(session, team_id=team_id, user_id=actor_id):
            admins = org.list_admins(session, team_id=team_id)
            who = (
                "Ask " + " or ".join(f"{user_ref(a)}" for a in admins) + "."
                if admins
                else "No admins are set up yet: list them under `admins:` in the playbook."
            )
            raise PermissionDeniedError(
                "Only Opsloop admins can change process owners, so every process keeps "
                f"exactly one accountable owner. {who}"
            )
        process = find_process(session, team_id=team_id, ref=process_ref)
        key, name, previous = process.key, process.name, process.owner_id
    directory.set_process_owner(
        sessions,
        team_id=team_id,
        process_key=key,
        process_name=name,
        owner_id=owner_id,
        actor_id=actor_id,
        now=now,
        tell_new_owner=True,
    )
    return OwnerChange(key, name, previous, owner_id)
