"""The one error handler: user errors become a clear ephemeral; bugs get a logged id."""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.context.respond import Respond
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.kwargs_injection.args import Args
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import DatabaseUnavailableError, StorageUnavailableError, UserError
from bot.outbox import models as outbox
from bot.outbox.service import enqueue_messages
from bot.slack.context import deps_of, team_of, user_of
from bot.slack.events import release_event_delivery
from bot.slack.mrkdwn import truncate

log = logging.getLogger(__name__)


# The ack body answering a slash command that no listener handles (handlers.ops has it).
UnknownCommandAnswer = Callable[[str], dict[str, Any]]


def register(app: App, *, unknown_command: UnknownCommandAnswer | None = None) -> None:
    """The app's error handler; with `unknown_command`, what an unknown command is told
    (the app must be built with `raise_error_for_unhandled_request=True`)."""

    def on_error(
        error: Exception,
        body: dict[str, Any],
        context: BoltContext,
        respond: Respond | None,
        client: WebClient,
    ) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            return answer_unhandled(error, body, unknown_command)
        handle_error(error, body, context, respond, client)
        return None

    app.error(on_error)


def answer_unhandled(
    error: BoltUnhandledRequestError,
    body: dict[str, Any],
    unknown_command: UnknownCommandAnswer | None,
) -> BoltResponse | None:
    """A slash command no listener handles gets `unknown_command`'s answer (200); anything
    else keeps Bolt's 404. A request a global middleware held back on purpose (refused
    while stopping) is not "unknown": it stays unanswered, as the middleware meant."""
    command = body.get("command")
    if error.last_global_middleware_name is None and command and unknown_command is not None:
        return BoltResponse(status=200, body=unknown_command(str(command)))
    if error.last_global_middleware_name is None:
        log.warning("no listener handles this %s request", body.get("type") or "Slack")
    return None


def guarded(listener: Callable[..., Any]) -> Callable[[Args], None]:
    """Wrap a listener so its errors are answered inside it, never by Bolt.

    slack-bolt 1.30 resets the ack response when a listener raises *after* ack(), so Slack
    gets a 500 or, after 3 s, a 404 depending on timing — even though the user is told
    what went wrong. Catching here keeps the acknowledged 200 and reports the error
    through `handle_error`. Register every listener as `app.command(X)(guarded(fn))`.
    """
    spec = inspect.getfullargspec(listener)
    names = [*spec.args, *spec.kwonlyargs]

    def run_guarded(args: Args) -> None:
        try:
            listener(**{name: getattr(args, name) for name in names})
        except Exception as error:
            if args.ack.response is None:
                if args.body.get("type") == "view_submission":
                    # Closing the modal would lose what the user typed: it stays open with
                    # the reason under its first field (nothing was stored, so saying
                    # "try again" there is true for a lost database, and the error id of a
                    # bug is kept). A view without fields gets Bolt's 500, and a DM.
                    field = _first_input_block(args.body)
                    if field is None:
                        raise
                    _release_failed_event(args.body, args.context)
                    reason = truncate(message_for(error), MODAL_ERROR_LIMIT)
                    args.ack(response_action="errors", errors={field: reason})
                    return
                if args.body.get("command"):
                    # A command is answered in its ack: the reason is the answer itself.
                    _release_failed_event(args.body, args.context)
                    args.ack(text=message_for(error), response_type="ephemeral")
                    return
                args.ack()  # answer Slack in time; the user hears about it below
            _release_failed_event(args.body, args.context)
            handle_error(error, args.body, args.context, args.respond, args.client)

    run_guarded.__name__ = getattr(listener, "__name__", "listener")
    run_guarded.opsloop_guarded = True  # type: ignore[attr-defined]
    run_guarded.__qualname__ = getattr(listener, "__qualname__", run_guarded.__name__)
    return run_guarded


# Slack shows a field's error under it; a long one is cut.
MODAL_ERROR_LIMIT = 300


def _first_input_block(body: dict[str, Any]) -> str | None:
    """The block id of the submitted view's first input block, where an error can show."""
    view = body.get("view")
    blocks = view.get("blocks") if isinstance(view, dict) else None
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None


def _release_failed_event(body: dict[str, Any], context: BoltContext) -> None:
    """A failed event is not "handled": let Slack's retry of it run (see bot.slack.events)."""
    event_id = body.get("event_id")
    if body.get("type") != "event_callback" or not isinstance(event_id, str):
        return
    try:
        release_event_delivery(deps_of(context).sessions, team_id=team_of(body), event_id=event_id)
    except DatabaseUnavailableError:
        log.warning("could not release failed event %s; its retry will be dropped", event_id)


def message_for(error: BaseException) -> str:
    """What the user is told about `error`; unexpected ones are logged with an id."""
    if isinstance(error, UserError):
        return error.user_text()
    if isinstance(error, DatabaseUnavailableError):
        log.warning("database unavailable: %s", error)
        return StorageUnavailableError().user_text()
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected error %s", error_id, exc_info=error)
    return (
        f":warning: Something went wrong on our side (error id `{error_id}`). "
        "Nothing you typed was lost; please try again, and quote the id to your Opsloop admin "
        "if it keeps happening."
    )


def handle_error(
    error: Exception,
    body: dict[str, Any],
    context: BoltContext,
    respond: Respond | None,
    client: WebClient,
) -> None:
    """Tell the user what went wrong: through the response_url of their click (commands are
    answered in their ack, see `guarded`), else by DM through the outbox."""
    text = message_for(error)
    if respond is not None and context.response_url:
        try:
            response = respond(text=text, response_type="ephemeral", replace_original=False)
        except OSError as exc:
            log.warning("could not tell the user about an error (response_url): %r", exc)
            return
        if response.status_code != 200:
            log.warning("response_url answered %s to an error notice", response.status_code)
        return
    user_id = user_of(body)
    if not user_id:
        return
    # Modal submissions have no response_url: tell the user in their DM with the app.
    notice = outbox.post(f"error:{uuid.uuid4().hex}", user_id, text)
    try:
        deps = deps_of(context)
        enqueue_messages(deps.sessions, team_id=team_of(body), messages=[notice], now=deps.clock())
    except DatabaseUnavailableError:
        # The outbox lives in the database that is gone: say it directly, once.
        try:
            client.chat_postMessage(channel=user_id, text=text)
        except (SlackApiError, OSError) as exc:
            log.warning("could not tell %s about an error: %s", user_id, exc)
