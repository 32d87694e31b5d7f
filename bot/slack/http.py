"""HTTP mode: a WSGI app with `POST /slack/events` and `GET /healthz`, served by waitress."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import App

from bot.slack.requests import MalformedRequestError, is_signed_by_slack, parse_signed_request
from bot.slack.turns import RequestTurn, runners_for
from storage.db import ping

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

    from bot.deps import Deps

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack's payloads are small; a body this large is not from Slack and is refused unread.
MAX_BODY_BYTES = 512 * 1024
# waitress accepts only 100 connections by default; the rest wait unaccepted while the first
# 100 are served (measured: p95 of 15 s at 200 concurrent requests, far past Slack's 3 s).
# Admitted, they queue fairly for the worker threads instead.
CONNECTION_LIMIT = 1000
# Slack answers within 3 s, so a connection idle for this long is not Slack's: waitress
# closes it (its default of 120 s lets idle connections pile up to the limit). waitress
# checks every CLEANUP_INTERVAL seconds.
CHANNEL_TIMEOUT = 10
CLEANUP_INTERVAL = 5
# On SIGTERM/SIGINT: requests already received get this long to be answered (Slack gives
# up on a request after 3 s anyway), then the worker threads this long to stop. With the
# listener and sender budgets in bot/cli/server.py a stop stays within 30 s (Kubernetes'
# default grace period).
DRAIN_SECONDS = 10.0
WORKERS_STOP_SECONDS = 3.0
# At most one "requests are waiting for a server thread" line this often (QueueDepthReport).
QUEUE_REPORT_SECONDS = 60.0

_REASONS = {
    200: "OK",
    401: "Unauthorized",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class SlackWsgiApp:
    """Routes Slack requests to Bolt and health checks to the database."""

    def __init__(self, app: App, deps: Deps) -> None:
        self.app = app
        self.deps = deps
        # One request verified, parsed and handled at a time (four on PostgreSQL); the
        # server's other threads wait for the turn (bot.slack.turns explains why, with the
        # figures).
        self.turn = RequestTurn(runners_for(deps.engine))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method == "GET":
            return self._health(start_response)
        if path == EVENTS_PATH:
            if method != "POST":
                return _plain(start_response, 405, "POST only")
            return self._slack(environ, start_response)
        return _plain(start_response, 404, "Not Found")

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        if ping(self.deps.engine):
            return _json(start_response, 200, {"status": "ok", "database": "ok"})
        return _json(start_response, 503, {"status": "unavailable", "database": "unreachable"})

    def _slack(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            return _plain(start_response, 413, "Request body too large")
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if "CONTENT_TYPE" in environ:
            headers["content-type"] = environ["CONTENT_TYPE"]
        # The turn is held until waitress has written the answer and closes it: a thread
        # let go before that competes with the next request for the GIL while the main
        # thread waits to finish the write (measured: 470 requests a second with the turn
        # given back at close, about 250 when given back before the write).
        self.turn.take()
        try:
            answer = self._handle(raw, headers, environ.get("QUERY_STRING"), start_response)
        except BaseException:
            self.turn.give_back()
            raise
        return _Answer(answer, on_close=self.turn.give_back)

    def _handle(
        self,
        raw: bytes,
        headers: dict[str, str],
        query: str | None,
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        secret = self.deps.settings.slack_signing_secret
        if not is_signed_by_slack(
            secret.get_secret_value() if secret else "", body=raw, headers=headers
        ):
            # Refused before anything is parsed: a forged body never reaches a parser, and
            # Bolt never answers the unverified request's response_url.
            return _json(start_response, 401, {"error": "invalid request"})
        try:
            request = parse_signed_request(body=raw, headers=headers, query=query)
        except MalformedRequestError as exc:
            log.warning("signed request that is not a Slack payload: %s", exc)
            return _json(start_response, 400, {"error": "malformed request"})
        response = self.app.dispatch(request)
        status = f"{response.status} {_REASONS.get(response.status, '')}".strip()
        response_headers = [
            (name, value) for name, values in response.headers.items() for value in values
        ]
        start_response(status, response_headers)
        body = response.body
        return [body.encode("utf-8") if isinstance(body, str) else bytes(body)]


class _Answer(list[bytes]):
    """An answer's body chunks that call `on_close` when the server closes them (PEP 3333:
    after the last byte was written, or the client went away)."""

    def __init__(self, chunks: Iterable[bytes], *, on_close: Callable[[], None]) -> None:
        super().__init__(chunks)
        self._on_close: Callable[[], None] | None = on_close

    def close(self) -> None:
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()


def _plain(start_response: StartResponse, status: int, text: str) -> Iterable[bytes]:
    start_response(f"{status} {_REASONS.get(status, '')}", [("content-type", "text/plain")])
    return [text.encode("utf-8")]


def _json(start_response: StartResponse, status: int, data: object) -> Iterable[bytes]:
    start_response(f"{status} {_REASONS.get(status, '')}", [("content-type", "application/json")])
    return [json.dumps(data).encode("utf-8")]


def serve(
    app: App,
    deps: Deps,
    *,
    host: str,
    port: int,
    threads: int,
    stop_requested: threading.Event | None = None,
) -> None:
    """Serve HTTP mode with waitress until SIGTERM/SIGINT (or `stop_requested`), then stop
    gracefully: no new connection is accepted, requests already received are answered
    (each is stored before its ack), and the worker threads are stopped."""
    stopping = stop_requested or threading.Event()
    server = make_server(app, deps, host=host, port=port, threads=threads)
    _stop_on_signals(stopping)
    log.info("serving Slack requests on http://%s:%s%s", host, port, EVENTS_PATH)
    # waitress's own run() stops only by an exception, dropping queued requests; this loop
    # is its loop one turn at a time, so a stop can first close the listening socket and
    # then let the requests in flight finish.
    loop_timeout = server.adj.asyncore_loop_timeout
    queue_report = server.task_dispatcher.queue_logger
    while not stopping.is_set():
        server.asyncore.loop(timeout=loop_timeout, map=server._map, count=1)
        queue_report.report_if_due()
    log.info("stopping: no new connections; answering the requests in flight")
    server.accepting = False
    server.asyncore.dispatcher.close(server)  # the listening socket only
    deadline = time.monotonic() + DRAIN_SECONDS
    while _busy(server) and time.monotonic() < deadline:
        server.asyncore.loop(timeout=0.05, map=server._map, count=1)
    server.task_dispatcher.shutdown(cancel_pending=False, timeout=WORKERS_STOP_SECONDS)
    server.trigger.close()
    log.info("HTTP server stopped")


def make_server(app: App, deps: Deps, *, host: str, port: int, threads: int) -> Any:
    """The waitress server of HTTP mode, bound and not yet serving."""
    from waitress.server import create_server

    server = create_server(
        SlackWsgiApp(app, deps),
        host=host,
        port=port,
        threads=threads,
        ident="opsloop",
        max_request_body_size=MAX_BODY_BYTES,
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=CHANNEL_TIMEOUT,
        cleanup_interval=CLEANUP_INTERVAL,
    )
    server.channel_class = _quiet_channel_class()  # type: ignore[union-attr]
    # waitress calls only `warning` on it (below).
    server.task_dispatcher.queue_logger = QueueDepthReport(log)  # type: ignore[assignment]
    return server


class QueueDepthReport:
    """waitress's "Task queue depth is N" warning, folded into one line a minute.

    waitress warns on every request that finds all server threads busy: in a burst that is
    one WARNING line per request, each saying what the last one said, and writing them cost
    about 8 % of the server's CPU (`python -m bench ack`, 50 clients, py-spy). The first
    request of a burst is still reported at once; the rest are counted, and once `interval`
    has passed one line says how many requests waited and the deepest queue seen since the
    line before — written by the next warning or by the server's main loop
    (`report_if_due`, every turn of it), so the end of a burst is reported even when nothing
    queues again. waitress calls `warning` from its main loop, holding its task lock; the
    main loop is also where `report_if_due` runs, so nothing here is shared between threads.
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = QUEUE_REPORT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._interval = interval
        self._clock = clock
        self._next_report = float("-inf")
        self._waited = 0
        self._deepest = 0

    def warning(self, _message: str, depth: int, *_args: object) -> None:
        self._waited += 1
        self._deepest = max(self._deepest, depth)
        self.report_if_due()

    def report_if_due(self) -> None:
        """Write the line for the requests counted so far, if any and if it is time."""
        if not self._waited:
            return
        now = self._clock()
        if now < self._next_report:
            return
        self._log.warning(
            "requests are waiting for a free server thread: %d since the last report, "
            "at most %d queued",
            self._waited,
            self._deepest,
        )
        self._waited = self._deepest = 0
        self._next_report = now + self._interval


def _quiet_channel_class() -> type[Any]:
    """waitress's connection class, without one busy loop.

    While a request's task runs, the worker thread sends its own answer (waitress's
    `send_bytes` is 1) holding the connection's buffer lock, and the main loop is told the
    connection is writable, finds the lock taken, and asks again at once, holding the GIL
    the worker needs to finish: measured with `python -m bench ack` (50 clients, 2 or more
    server threads), 45 loop turns and 1.5 to 4 ms of the main thread's CPU per request,
    against 9 turns with one thread. So a connection whose task is running is writable
    only when the main loop has something to do there: closing it, or draining a buffer
    above the high watermark that the task waits on. Whatever the task leaves unsent is
    sent when it ends (it wakes the main loop then: waitress's `pull_trigger`).
    """
    from waitress.channel import HTTPChannel

    class QuietHTTPChannel(HTTPChannel):
        def writable(self) -> bool:
            if self.requests and not (
                self.will_close
                or self.close_when_flushed
                or self.total_outbufs_len > self.adj.outbuf_high_watermark
            ):
                return False
            return bool(super().writable())

    return QuietHTTPChannel


def _busy(server: Any) -> bool:
    """Whether a request is still being read, worked on, or answered."""
    for channel in list(server.active_channels.values()):
        if channel.requests or channel.total_outbufs_len or channel.request is not None:
            return True
    return False


def _stop_on_signals(stopping: threading.Event) -> None:
    """SIGTERM (every deploy, `docker stop`) and SIGINT set `stopping`; main thread only."""
    if threading.current_thread() is not threading.main_thread():
        return

    def request_stop(signum: int, _frame: object) -> None:
        if not stopping.is_set():
            log.info("received %s", signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
