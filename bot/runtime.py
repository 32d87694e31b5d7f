"""Wiring for the entry points: settings → engine → Deps, and the schema check at start."""

from __future__ import annotations

import logging

from bot.clock import Clock, system_clock
from bot.deps import Deps
from bot.settings import Settings
from bot.slack_client import make_web_client
from storage import schema
from storage.db import make_engine, make_session_factory

log = logging.getLogger(__name__)


class SchemaOutdatedError(Exception):
    """The PostgreSQL schema is older than this version of Opsloop."""


def make_deps(settings: Settings, *, clock: Clock = system_clock) -> Deps:
    """Build the engine, session factory and Slack client described by `settings`."""
    engine = make_engine(settings.database_url, pool_size=settings.opsloop_listener_threads)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = make_web_client(token=token, base_url=settings.slack_api_url)
    return Deps(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        client=client,
        clock=clock,
    )


def prepare_schema(deps: Deps) -> None:
    """Bring the embedded SQLite schema up to date; refuse an outdated PostgreSQL schema.

    On PostgreSQL several replicas may start at once, so migrations are a separate,
    deliberate step (`opsloop migrate`) rather than a race at every start.
    """
    if deps.settings.is_sqlite:
        if not schema.is_up_to_date(deps.engine):
            log.info("upgrading the SQLite schema to the newest version")
            schema.upgrade(deps.engine)
        return
    if not schema.is_up_to_date(deps.engine):
        current = schema.current_revision(deps.engine) or "empty"
        raise SchemaOutdatedError(
            f"the database schema is outdated (at {current}, this Opsloop needs "
            f"{schema.head_revision(deps.engine)}): run `opsloop migrate` first."
        )


def prepare_to_serve(deps: Deps) -> None:
    """Everything `run` and `serve` do before taking requests: schema, then the playbook.

    A broken playbook raises `PlaybookInvalidError` (a `SettingsError`): the bot does not
    start half-configured.
    """
    from bot.services.playbook import apply_playbook_at_start

    prepare_schema(deps)
    apply_playbook_at_start(deps)
