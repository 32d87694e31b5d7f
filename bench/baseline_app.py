"""The baseline: a bare slack_bolt App whose only listener acks, served by waitress.

Run as a script (`python bench/baseline_app.py --port P --command /feedback`); it needs
SLACK_SIGNING_SECRET in the environment, like `opsloop serve`. Nothing of Opsloop is
imported, so the difference to `opsloop serve` is what Opsloop adds per request.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable
from typing import Any

import waitress
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient


def build(command: str) -> Callable[..., Iterable[bytes]]:
    # Configured like Opsloop's app: a client pointed at SLACK_API_URL (the stand-in), so
    # the only difference left is what Opsloop does per request.
    client = WebClient(
        token=os.environ.get("SLACK_BOT_TOKEN", "xoxb-bench"),
        base_url=os.environ["SLACK_API_URL"],
    )
    app = App(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        client=client,
        token_verification_enabled=False,
    )

    def only_ack(ack: Any) -> None:
        ack()

    app.command(command)(only_ack)
    return SlackRequestHandler(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--command", default="/feedback")
    args = parser.parse_args()
    waitress.serve(
        build(args.command),
        host=args.host,
        port=args.port,
        threads=args.threads,
        ident="baseline",
        max_request_body_size=512 * 1024,
        connection_limit=1000,  # as bot/http.py serves Opsloop
    )


if __name__ == "__main__":
    main()
