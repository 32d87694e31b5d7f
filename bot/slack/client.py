"""The Slack Web API clients: one for what happens inside a request, one for the sender."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.web import SlackResponse

from bot.slack.turns import waiting_on_slack

# A dropped connection (before Slack answered anything) is worth one more try.
CONNECTION_RETRIES = 1


class ListenerWebClient(WebClient):
    """A WebClient whose calls give up the request turn while they wait for Slack (see
    bot.slack.turns): a slow `views.open` never holds up the requests behind it."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        with waiting_on_slack():
            return super().api_call(api_method, **kwargs)


def stepping_aside(client: WebClient) -> ListenerWebClient:
    """The same client as a `ListenerWebClient`. Bolt gives each request a plain WebClient
    of its own, copied from the app's (slack-bolt's App._init_context); the global
    middleware swaps it for this one with the same settings."""
    return ListenerWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=client.headers,
        team_id=client.default_params.get("team_id"),
        logger=client.logger,
        retry_handlers=client.retry_handlers,
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
