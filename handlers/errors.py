"""The one error handler: user errors become a clear ephemeral; bugs get a logged id."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import StorageUnavailableError, UserError
from handlers.context import user_of
from storage.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.error(handle_error)


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
