"""The Slack Web API clients: one for what happens inside a request, one for the sender."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

# A dropped connection (before Slack answered anything) is worth one more try.
CONNECTION_RETRIES = 1


def make_web_client(*, token: str | None, base_url: str, timeout: int = 5) -> WebClient:
    """The client of listeners and lookups: `views.open` with its trigger (valid 3 s),
    `users.info`, `auth.test`. It never sleeps on a 429 (a listener thread waiting out a
    rate limit is one fewer for everybody else); every post goes through the outbox
    sender's own client (`make_sender_client`)."""
    return WebClient(
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
