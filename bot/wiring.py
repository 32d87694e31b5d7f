"""The composition root: settings → engine, client and feature tables → `Deps` → Bolt app.

Everything Opsloop is made of is named here once: the digest sections, the nudge sources,
the App Home's sections, the listener modules. Entry points (`bot.cli`, the shell, the
benchmarks) build through these functions; nothing is filled in by import side effects.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.checklists import messages as checklist_messages
from bot.checklists import service as checklists
from bot.clock import Clock, system_clock
from bot.deps import Deps
from bot.digest.sections import SECTIONS
from bot.escalations import messages as escalation_messages
from bot.escalations import service as escalations
from bot.home.service import HOME_SECTIONS
from bot.kpis.chart_files import StoredCharts
from bot.nudges.sources import SOURCES
from bot.org.messages import person_recorder
from bot.playbook.schema import PlaybookInvalidError
from bot.playbook.service import ImportSummary, apply_playbook_if_changed, load_playbook_file
from bot.settings import Settings
from bot.slack import errors, middleware
from bot.slack.client import make_sender_client, make_web_client
from bot.slack.executor import TrackingExecutor
from bot.slack.pacing import Pacer
from bot.slack.sender import OutboxSender, Renderer
from handlers import checklists as checklist_listeners
from handlers import escalations as escalation_listeners
from handlers import feedback, home, kpi, nudges, ops
from storage import schema
from storage.db import make_engine, make_session_factory

log = logging.getLogger(__name__)

# Every listener module, each with `register(app)`; the order does not matter to Bolt.
LISTENER_MODULES = (
    ops,
    checklist_listeners,
    feedback,
    escalation_listeners,
    kpi,
    home,
    nudges,
)


class SchemaOutdatedError(Exception):
    """The PostgreSQL schema is older than this version of Opsloop."""


def make_deps(
    settings: Settings, *, clock: Clock = system_clock, client: WebClient | None = None
) -> Deps:
    """Build the engine, session factory, Slack client and feature tables of `settings`."""
    engine = make_engine(settings.database_url, pool_size=settings.opsloop_listener_threads)
    if client is None:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        client = make_web_client(token=token, base_url=settings.slack_api_url)
    return deps_from_parts(settings=settings, engine=engine, client=client, clock=clock)


def deps_from_parts(
    *, settings: Settings, engine: Engine, client: WebClient, clock: Clock = system_clock
) -> Deps:
    """Deps around an engine and a client made elsewhere, with the real feature tables."""
    return Deps(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        client=client,
        digest_sections=SECTIONS,
        nudge_sources=SOURCES,
        home_sections=HOME_SECTIONS,
        clock=clock,
    )


def message_renderers(deps: Deps) -> dict[str, Renderer]:
    """The messages the sender renders from the database when it sends them, by subject."""
    return {
        checklists.RUN_SUBJECT: checklist_messages.run_renderer(deps),
        checklists.NOTE_SUBJECT: checklist_messages.note_renderer(deps),
        escalations.MESSAGE_SUBJECT: escalation_messages.message_renderer(deps),
        escalations.EVENT_SUBJECT: escalation_messages.event_renderer(deps),
        escalations.OWNER_SUBJECT: escalation_messages.owner_renderer(deps),
    }


def make_sender(deps: Deps, *, pacer: Pacer | None = None) -> OutboxSender:
    """The outbox sender of `deps`, with a client of its own that never retries by itself:
    the sender reschedules a 429 or a failure instead of sleeping, and a retry the client
    made after a timeout could post twice."""
    settings = deps.settings
    client = make_sender_client(
        token=deps.client.token,
        base_url=deps.client.base_url,
        timeout=settings.opsloop_slack_timeout,
    )
    return OutboxSender(
        deps.sessions,
        client,
        renderers=message_renderers(deps),
        on_person=person_recorder(deps),
        charts=StoredCharts(deps.sessions),
        pacer=pacer,
        stale_after=timedelta(seconds=settings.opsloop_outbox_claim_seconds),
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


def import_playbook_at_start(deps: Deps, *, team_id: str | None = None) -> ImportSummary | None:
    """Import OPSLOOP_PLAYBOOK when set and changed since the last import; refuse a broken one.

    Raises `PlaybookInvalidError` (a `SettingsError`, so the CLI prints it and exits) when the
    file is invalid. The team is `team_id`, else the workspace of the bot token (auth.test).
    """
    path = deps.settings.opsloop_playbook
    if path is None:
        return None
    playbook = load_playbook_file(path)
    team = team_id or _team_of_token(deps, path)
    summary = apply_playbook_if_changed(
        deps.sessions, playbook=playbook, team_id=team, now=deps.clock()
    )
    if summary.skipped:
        log.info("playbook %s unchanged since the last import; not re-applied", path)
    else:
        log.info("playbook %s imported: %s", path, summary.describe())
    return summary


def _team_of_token(deps: Deps, path: Path) -> str:
    try:
        return str(deps.client.auth_test()["team_id"])
    except Exception as exc:  # any Slack or network failure: say why the bot cannot start
        raise PlaybookInvalidError(
            str(path), [(1, f"cannot ask Slack which workspace to import it for: {exc}")]
        ) from None


def prepare_to_serve(deps: Deps) -> None:
    """Everything `run` and `serve` do before taking requests: schema, then the playbook.

    A broken playbook raises `PlaybookInvalidError` (a `SettingsError`): the bot does not
    start half-configured.
    """
    prepare_schema(deps)
    import_playbook_at_start(deps)


def build_app(
    deps: Deps,
    *,
    executor: TrackingExecutor | None = None,
    stopping: threading.Event | None = None,
) -> App:
    """A Bolt app wired to `deps`. Request verification stays on; nothing is called at build.

    The listener pool is sized from settings: Bolt's default of 5 workers makes users see
    `operation_timeout` as soon as a few slow requests pile up.
    """
    signing_secret = deps.settings.slack_signing_secret
    app = App(
        name="opsloop",
        client=deps.client,
        signing_secret=signing_secret.get_secret_value() if signing_secret else "",
        token_verification_enabled=False,
        request_verification_enabled=True,
        listener_executor=executor
        or TrackingExecutor(max_workers=deps.settings.opsloop_listener_threads),
        logger=logging.getLogger("opsloop.bolt"),
    )
    if stopping is not None:
        # First, so a request refused while stopping has claimed nothing (an event's
        # redelivery must still run).
        app.use(middleware.refuse_while_stopping(stopping))
    app.use(middleware.inject_deps(deps))
    middleware.register(app)
    errors.register(app)
    for module in LISTENER_MODULES:
        module.register(app)
    return app
