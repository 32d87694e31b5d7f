"""The Slack Web API clients: one for what happens inside a request, one for the sender."""

from __future__ import annotations

import logging
from functools import lru_cache
from ssl import SSLContext
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.web import SlackResponse

from bot.errors import UserError
from bot.slack.turns import waiting_on_slack

# A dropped connection (before Slack answered anything) is worth one more try.
CONNECTION_RETRIES = 1


log = logging.getLogger(__name__)

# views.open errors that opening the form again, with a new trigger, gets past.
TRIGGER_ERRORS = frozenset({"expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id"})


class FormNotOpenedError(UserError):
    """Slack did not open a form (`views.open`); nothing was saved, and what to do next."""


class ListenerWebClient(WebClient):
    """A WebClient whose calls give up the request turn while they wait for Slack (see
    bot.slack.turns): a slow `views.open` never holds up the requests behind it.

    A `views.open` Slack refuses or does not answer is a `FormNotOpenedError` that tells the
    user why and what to do, rather than "something went wrong on our side": an expired
    trigger, a rate limit or a slow Slack are not Opsloop's bugs (and the form's reason for
    being is that nothing has been typed into it yet, so "nothing was saved" is true)."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        with waiting_on_slack():
            if api_method != "views.open":
                return super().api_call(api_method, **kwargs)
            try:
                return super().api_call(api_method, **kwargs)
            except SlackApiError as exc:
                raise form_not_opened(exc) from exc
            except OSError as exc:  # a timeout or a dropped connection, after the retry
                log.warning("views.open failed: %r", exc)
                raise FormNotOpenedError(
                    "Slack did not answer in time, so the form could not be opened and nothing"
                    " was saved. Please run the command again."
                ) from exc


def form_not_opened(exc: SlackApiError) -> UserError | SlackApiError:
    """What the user is told when Slack refused to open a form; the SlackApiError itself
    (a bug, logged with an id) when the refusal is about the form Opsloop built."""
    response = exc.response
    error = str(response.get("error", "")) if response is not None else ""
    status = getattr(response, "status_code", 200)
    if error in TRIGGER_ERRORS:
        log.warning("views.open refused: %s", error)
        return FormNotOpenedError(
            "The form could not be opened in time (Slack allows 3 seconds after the command"
            " or click), so nothing was saved. Please run the command or click again."
        )
    if status == 429 or error == "ratelimited":
        log.warning("views.open rate-limited")
        return FormNotOpenedError(
            "Slack is limiting how many forms this workspace can open right now, so nothing"
            " was saved. Please try again in a minute."
        )
    if status >= 500 or error in ("fatal_error", "internal_error", "service_unavailable"):
        log.warning("views.open failed on Slack's side: %s %s", status, error)
        return FormNotOpenedError(
            "Slack could not open the form just now, so nothing was saved. Please try again"
            " in a minute."
        )
    return exc


def stepping_aside(client: WebClient) -> ListenerWebClient:
    """The same client as a `ListenerWebClient`. Bolt gives each request a plain WebClient
    of its own, copied from the app's (slack-bolt's App._init_context) once authorization
    has set its token; the global middleware swaps it for this one with the same settings.

    One per set of settings, shared by the requests that have them (a workspace's token
    and team): building a WebClient reads the proxy variables from the environment, about
    a fiftieth of a `/feedback`'s CPU, and a WebClient holds no per-call state, so
    Bolt's own app-wide client is shared by every thread in the same way."""
    return _listener_client(
        client.token,
        client.default_params.get("team_id"),
        client.base_url,
        client.timeout,
        client.ssl,
        client.proxy,
        tuple(sorted(client.headers.items())),
        client.logger,
        tuple(client.retry_handlers),
    )


@lru_cache(maxsize=1024)  # workspaces a process serves; each entry is a few objects
def _listener_client(
    token: str | None,
    team_id: str | None,
    base_url: str,
    timeout: int,
    ssl: SSLContext | None,
    proxy: str | None,
    headers: tuple[tuple[str, str], ...],
    logger: logging.Logger,
    retry_handlers: tuple[RetryHandler, ...],
) -> ListenerWebClient:
    return ListenerWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        ssl=ssl,
        proxy=proxy,
        headers=dict(headers),
        team_id=team_id,
        logger=logger,
        retry_handlers=list(retry_handlers),
    )


def make_web_client(*, token: str | None, base_url: str, timeout: int = 5) -> WebClient:
    """The client of listeners and lookups: `views.open` with its trigger (valid 3 s),
    `users.info`, `auth.test`. It never sleeps on a 429 (a listener thread waiting out a
    rate limit is one fewer for everybody else); every post goes through the outbox
    sender's own client (`make_sender_client`)."""
    return ListenerWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES)],
    )


def make_sender_client(*, token: str | None, base_url: str, timeout: int = 10) -> WebClient:
    """A WebClient without retry handlers, for the outbox sender: it decides every retry
    itself (rescheduling a 429 for Retry-After, looking for a post whose answer was lost
    before sending it again), so nothing sleeps or repeats behind its back."""
    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])
