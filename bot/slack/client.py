"""The Slack Web API client: base URL from settings, retries for 429s and dropped connections."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

# How often a single call is retried. RateLimitErrorRetryHandler sleeps for Retry-After
# (plus a little jitter) between attempts; the others back off exponentially.
RATE_LIMIT_RETRIES = 5
CONNECTION_RETRIES = 2
SERVER_ERROR_RETRIES = 2


def make_web_client(*, token: str | None, base_url: str, timeout: int = 10) -> WebClient:
    """A WebClient that honours Retry-After on 429 and retries connection and 5xx errors.

    Retrying a 5xx can in rare cases repeat a chat.postMessage that Slack did accept; the
    scheduled posts that must never repeat go through the send ledger instead.
    """
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
        ],
    )
