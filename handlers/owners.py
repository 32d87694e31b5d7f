"""`/ops owners`, `/ops owner <process> @user` and `/ops status`."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk.models.blocks import Block

from bot.deps import Deps
from bot.people_sync import refresh_people
from bot.render.owners import render_owner_changed, render_owners
from bot.render.status import render_status
from bot.services import owners, status
from handlers.context import team_of, user_of
from handlers.ops import OPS_SUBCOMMANDS


def register(app: App) -> None:
    OPS_SUBCOMMANDS["owners"] = ops_owners
    OPS_SUBCOMMANDS["owner"] = ops_owner
    OPS_SUBCOMMANDS["status"] = ops_status


def ops_owners(deps: Deps, rest: str, body: dict[str, Any]) -> tuple[str, list[Block]]:
    team_id = team_of(body)
    refresh_people(
        deps, team_id=team_id, user_ids=owners.list_owner_ids(deps.sessions, team_id=team_id)
    )
    return render_owners(owners.list_owners(deps.sessions, team_id=team_id))


def ops_owner(deps: Deps, rest: str, body: dict[str, Any]) -> tuple[str, list[Block]]:
    team_id = team_of(body)
    process, owner_id = owners.parse_owner_args(rest)
    change = owners.change_process_owner(
        deps.sessions,
        team_id=team_id,
        actor_id=user_of(body),
        process_ref=process,
        owner_id=owner_id,
        now=deps.clock(),
    )
    refresh_people(deps, team_id=team_id, user_ids=[owner_id])
    return render_owner_changed(change)


def ops_status(deps: Deps, rest: str, body: dict[str, Any]) -> tuple[str, list[Block]]:
    team_id = team_of(body)
    refresh_people(
        deps, team_id=team_id, user_ids=owners.list_owner_ids(deps.sessions, team_id=team_id)
    )
    return render_status(status.operation_status(deps.sessions, team_id=team_id, now=deps.clock()))
