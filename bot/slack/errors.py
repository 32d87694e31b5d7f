"""The one error handler: user errors become a clear ephemeral; bugs get a logged id."""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.respond import Respond
from slack_bolt.kwargs_injection.args import Args
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import DatabaseUnavailableError, StorageUnavailableError, UserError
from bot.slack.context import deps_of, team_of, user_of
from bot.slack.events import release_event_delivery

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.error(handle_error)


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
                    # Acking would close the modal and lose what the user typed; Bolt's 500
                    # keeps it open with Slack's error, and the error handler DMs the reason.
                    raise
                args.ack()  # answer Slack in time; the user hears about it below
            _release_failed_event(args.body, args.context)
            handle_error(error, args.body, args.context, args.respond, args.client)

    run_guarded.__name__ = getattr(listener, "__name__", "listener")
    run_guarded.opsloop_guarded = True  # type: ignore[attr-defined]
    run_guarded.__qualname__ = getattr(listener, "__qualname__", run_guarded.__name__)
    return run_guarded


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
    text = message_for(error)
    try:
        if respond is not None and context.response_url:
            respond(text=text, response_type="ephemeral", replace_original=False)
            return
        user_id = user_of(body)
        if user_id:
            # Modal submissions have no response_url: tell the user in their DM with the app.
            client.chat_postMessage(channel=user_id, text=text)
    except SlackApiError:
        log.exception("could not tell the user about an error")
