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
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import Engine

from bot.checklists import messages as checklist_messages
from bot.checklists import service as checklists
from bot.clock import Clock, system_clock
from bot.deps import Deps
from bot.digest.sections import SECTIONS
from bot.escalations import breaches as escalation_breaches
from bot.escalations import messages as escalation_messages
from bot.escalations import service as escalations
from bot.home.service import HOME_SECTIONS
from bot.kpis.chart_files import StoredCharts
from bot.nudges.sources import SOURCES
from bot.org.messages import person_recorder
from bot.playbook.owners import LookupEmail, OwnerLookupError, resolve_owner_emails
from bot.playbook.schema import Playbook
from bot.playbook.service import ImportSummary, apply_playbook_if_changed, load_playbook_file
from bot.reactions.messages import message_recorder
from bot.settings import Settings
from bot.slack import errors, middleware
from bot.slack.client import make_sender_client, make_web_client
from bot.slack.executor import TrackingExecutor
from bot.slack.pacing import Pacer
from bot.slack.people import EmailLookupError, lookup_user_id_by_email
from bot.slack.sender import WORKERS as SENDER_WORKERS
from bot.slack.sender import OutboxSender, Renderer
from handlers import checklists as checklist_listeners
from handlers import escalations as escalation_listeners
from handlers import feedback, home, kpi, nudges, ops, reactions
from handlers import feedback_triage as feedback_triage_listeners
from handlers import reviews as review_listeners
from storage import schema
from storage.db import make_engine, make_session_factory, open_pool

log = logging.getLogger(__name__)

# Every listener module, each with `register(app)`. No two listeners match the same
# request, so the order changes only the cost: Bolt tries the listeners in the order they
# were registered and each try builds its matcher's arguments (~30 µs). The busiest come
# first: the `/feedback` command (registered first in its module, so it is the first
# listener Bolt tries), reaction events (every reaction in every channel the bot is in),
# then escalations.
LISTENER_MODULES = (
    feedback,
    reactions,
    escalation_listeners,
    checklist_listeners,
    kpi,
    ops,
    nudges,
    home,
    review_listeners,
    feedback_triage_listeners,
)


class SchemaOutdatedError(Exception):
    """The PostgreSQL schema is older than this version of Opsloop."""


# The connections one process may need at once beyond its pool, briefly: a CLI job's drain
# beside the running sender, a health check, the schema check at start.
POOL_OVERFLOW = 4


def database_pool_size(settings: Settings) -> int:
    """PostgreSQL connections one process keeps: one per listener thread (each stores its
    command inside a transaction before the ack), one per outbox sender worker (each
    records its outcome), the sender's claim pass and the scheduler's tick. A replica thus
    holds at most this + POOL_OVERFLOW; keep replicas times that under `max_connections`."""
    return settings.opsloop_listener_threads + SENDER_WORKERS + 2


class SlackUnavailableError(Exception):
    """Slack could not be reached, or refused the token, for something a command needs
    from it; the message is one line for the user (what failed and what to check)."""


def make_deps(
    settings: Settings, *, clock: Clock = system_clock, client: WebClient | None = None
) -> Deps:
    """Build the engine, session factory, Slack client and feature tables of `settings`."""
    engine = make_engine(
        settings.database_url,
        pool_size=database_pool_size(settings),
        max_overflow=POOL_OVERFLOW,
    )
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
        escalation_breaches.BREACH_SUBJECT: escalation_messages.breach_renderer(deps),
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
        on_message=message_recorder(deps),
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
    file is invalid. The team is `team_id`, else the workspace of the bot token (auth.test;
    `SlackUnavailableError` when Slack does not answer or refuses the token).
    """
    path = deps.settings.opsloop_playbook
    if path is None:
        return None
    playbook = load_playbook_file(path)
    team = team_id or _team_of_token(deps, path)
    summary = apply_playbook_if_changed(
        deps.sessions,
        playbook=playbook,
        team_id=team,
        now=deps.clock(),
        resolve=lambda changed: resolve_playbook_owners(deps, changed, source=str(path)),
    )
    if summary.skipped:
        log.info("playbook %s unchanged since the last import; not re-applied", path)
    elif summary.overrides:
        # Changes made in Slack were replaced by the file: said louder than a routine import.
        log.warning("playbook %s imported: %s", path, summary.describe())
    else:
        log.info("playbook %s imported: %s", path, summary.describe())
    return summary


def slack_email_lookup(deps: Deps) -> LookupEmail:
    """Owner e-mail addresses asked of Slack (users.lookupByEmail). Only the CLI import and
    start-up call it: they are not listeners, so they may wait on Slack."""

    def lookup(email: str) -> str | None:
        if deps.settings.slack_bot_token is None:
            raise OwnerLookupError("SLACK_BOT_TOKEN is not set, so Slack cannot be asked")
        try:
            return lookup_user_id_by_email(deps.client, email)
        except EmailLookupError as exc:
            raise OwnerLookupError(str(exc)) from None

    return lookup


def resolve_playbook_owners(deps: Deps, playbook: Playbook, *, source: str) -> Playbook:
    """`playbook` with owners given as e-mail addresses replaced by their Slack user ids;
    `OwnerLookupError` (one line, nothing imported) when one cannot be resolved."""
    return resolve_owner_emails(playbook, slack_email_lookup(deps), source=source)


def _team_of_token(deps: Deps, path: Path) -> str:
    # The playbook is fine (it was validated first): Slack not answering is not its fault.
    try:
        return str(deps.client.auth_test()["team_id"])
    except SlackApiError as exc:
        raise SlackUnavailableError(
            f"Slack refused the bot token ({exc.response.get('error')}) when asked which "
            f"workspace the playbook {path} is for: check SLACK_BOT_TOKEN"
        ) from None
    except (SlackClientError, OSError) as exc:
        raise SlackUnavailableError(
            f"could not reach Slack at {deps.settings.slack_api_url} to ask which workspace "
            f"the playbook {path} is for ({exc}): check the network and SLACK_API_URL"
        ) from None


def prepare_to_serve(deps: Deps) -> None:
    """Everything `run` and `serve` do before taking requests: schema, then the playbook.

    A broken playbook raises `PlaybookInvalidError` (a `SettingsError`): the bot does not
    start half-configured.
    """
    prepare_schema(deps)
    import_playbook_at_start(deps)
    # One connection per listener thread, open before the first request (the pool keeps
    # them: pool_size is at least the listener threads).
    open_pool(deps.engine, deps.settings.opsloop_listener_threads)


def build_app(
    deps: Deps,
    *,
    executor: TrackingExecutor | None = None,
    stopping: threading.Event | None = None,
) -> App:
    """A Bolt app wired to `deps`. Request verification stays on; nothing is called at build.

    Listeners run on the thread that received the request and the ack is sent when they
    return (`process_before_response`): a command is stored before its answer by
    construction, an event is acknowledged only once handled (an error answers 500 and
    Slack redelivers), and no request waits on Bolt's 10 ms ack polling. Requests handled
    at once are the server's threads (`opsloop serve --threads`) or the Socket Mode
    client's (`OPSLOOP_LISTENER_THREADS`); the executor runs only lazy listeners.
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
        process_before_response=True,
        # A request no listener handles goes to the error handler (bot.slack.errors), which
        # answers an unknown slash command with Opsloop's help, rather than to Bolt's 404
        # and its log of developer hints (`@app.command(...)`).
        raise_error_for_unhandled_request=True,
    )
    middleware.register(app, deps, stopping=stopping)
    errors.register(app, unknown_command=ops.unknown_command_answer)
    for module in LISTENER_MODULES:
        module.register(app)
    return app
