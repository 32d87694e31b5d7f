"""A local stand-in for Slack's Socket Mode end: a WebSocket server on 127.0.0.1.

Slack's side of `opsloop run`, as Slack documents it: `apps.connections.open` (answered by
the Web API stand-in, `SlackStandin.socket_mode_url = socket.issue_url`) hands out a
one-time `ws://` URL; on connecting the bot gets `hello`, then envelopes — each a
`slash_commands`, `interactive` or `events_api` message with an `envelope_id` the bot acks
by sending `{"envelope_id": …, "payload": …}` back — and from time to time
`{"type": "disconnect", "reason": "refresh_requested"}`, after which it should open a new
connection through `apps.connections.open` and keep working.

slack-sdk's built-in client talks plain TCP to a `ws://` URL on a port other than 443, so
no TLS is needed. The stand-in records every ack with the time it took (Slack's deadline is
3 s), and can refresh or drop a connection the way Slack's load balancers do.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlparse

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from bot.shell import payloads

APP_ID = "A0OPSLOOP"
# What Slack gives an app as long as it takes to ack an envelope.
ACK_DEADLINE_SECONDS = 3.0


@dataclass(frozen=True)
class Ack:
    """The bot's answer to one envelope."""

    envelope_id: str
    payload: dict[str, Any] | None
    latency: float  # seconds from the envelope sent to its ack received
    connection: int  # which connection (1 = the first) carried it


@dataclass
class _Link:
    number: int
    ticket: str
    connection: ServerConnection
    closed: threading.Event = field(default_factory=threading.Event)


class SocketModeStandin:
    """Slack's Socket Mode server. Use as a context manager or start()/stop()."""

    def __init__(self, host: str = "127.0.0.1", *, app_id: str = APP_ID) -> None:
        self.app_id = app_id
        self._changed = threading.Condition()
        self._tickets: set[str] = set()
        self._issued = 0
        self._links: list[_Link] = []
        self._numbers = itertools.count(1)
        self._sent_at: dict[str, float] = {}
        self._acks: dict[str, Ack] = {}
        self.refused: list[str] = []  # handshakes with a ticket Slack never issued
        self.unexpected: list[str] = []  # messages from the bot that are not acks
        self._server: Server = serve(
            self._serve_link, host, 0, compression=None, ping_interval=None
        )
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.socket.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> SocketModeStandin:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        for link in self._snapshot():
            with contextlib.suppress(Exception):
                link.connection.close()
        self._server.shutdown()

    def __enter__(self) -> SocketModeStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def issue_url(self) -> str:
        """A new one-time WebSocket URL, as `apps.connections.open` returns it."""
        ticket = uuid.uuid4().hex
        with self._changed:
            self._tickets.add(ticket)
            self._issued += 1
        host, port = self.address
        return f"ws://{host}:{port}/link/?ticket={ticket}&app_id={self.app_id}"

    @property
    def urls_issued(self) -> int:
        with self._changed:
            return self._issued

    # -- what Slack does -------------------------------------------------------------------
    def push(self, envelope: dict[str, Any], *, link: int | None = None) -> str:
        """Send an envelope on the newest open connection (or connection `link`); returns
        its envelope id."""
        target = self._link(link)
        envelope_id = str(envelope["envelope_id"])
        with self._changed:
            self._sent_at[envelope_id] = time.monotonic()
        target.connection.send(json.dumps(envelope))
        return envelope_id

    def request_refresh(self, reason: str = "refresh_requested") -> int:
        """Ask the bot to reconnect, as Slack does every few hours; returns the number of
        the connection asked."""
        target = self._link(None)
        target.connection.send(
            json.dumps(
                {
                    "type": "disconnect",
                    "reason": reason,
                    "debug_info": {"host": "applink-standin"},
                }
            )
        )
        return target.number

    def drop(self) -> int:
        """Cut the newest connection without a close frame (a load balancer gone, a network
        blip): the bot only notices that nothing arrives any more. Returns its number."""
        target = self._link(None)
        sock = target.connection.socket
        # SO_LINGER on, 0 s: the close sends a reset, as a vanished peer's network does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        return target.number

    # -- inspection ------------------------------------------------------------------------
    def wait_connected(self, count: int = 1, timeout: float = 30.0) -> int:
        """Block until `count` connections were opened in all and the newest is open; return
        the newest connection's number."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                links = self._links
                if len(links) >= count and not links[-1].closed.is_set():
                    return links[-1].number
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {count} connection(s), saw {len(links)}")
                self._changed.wait(remaining)

    def wait_closed(self, number: int, timeout: float = 30.0) -> None:
        """Block until connection `number` is closed (by either side)."""
        link = next(link for link in self._snapshot() if link.number == number)
        if not link.closed.wait(timeout):
            raise TimeoutError(f"connection {number} is still open")

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> Ack:
        """Block until the ack of `envelope_id` arrived."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while envelope_id not in self._acks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no ack for envelope {envelope_id}")
                self._changed.wait(remaining)
            return self._acks[envelope_id]

    def acks(self) -> dict[str, Ack]:
        with self._changed:
            return dict(self._acks)

    def connections(self) -> int:
        with self._changed:
            return len(self._links)

    # -- serving ---------------------------------------------------------------------------
    def _snapshot(self) -> list[_Link]:
        with self._changed:
            return list(self._links)

    def _link(self, number: int | None) -> _Link:
        links = [link for link in self._snapshot() if not link.closed.is_set()]
        if number is not None:
            links = [link for link in links if link.number == number]
        if not links:
            raise AssertionError("no open Socket Mode connection")
        return links[-1]

    def _serve_link(self, connection: ServerConnection) -> None:
        request = connection.request
        path = request.path if request is not None else ""
        ticket = (parse_qs(urlparse(path).query).get("ticket") or [""])[0]
        with self._changed:
            known = ticket in self._tickets
            self._tickets.discard(ticket)  # a URL is good for one connection
        if not known:
            self.refused.append(path)
            connection.close(code=1008, reason="invalid ticket")
            return
        link = _Link(next(self._numbers), ticket, connection)
        open_links = [other for other in self._snapshot() if not other.closed.is_set()]
        hello = {
            "type": "hello",
            "num_connections": len(open_links) + 1,  # this one too
            "debug_info": {
                "host": "applink-standin",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }
        connection.send(json.dumps(hello))
        with self._changed:
            self._links.append(link)
            self._changed.notify_all()
        try:
            for message in connection:
                self._received(link, message)
        except (ConnectionClosed, OSError):
            pass
        finally:
            with self._changed:
                link.closed.set()
                self._changed.notify_all()

    def _received(self, link: _Link, message: str | bytes) -> None:
        received_at = time.monotonic()
        text = message.decode("utf-8") if isinstance(message, bytes) else message
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, dict) or "envelope_id" not in data:
            self.unexpected.append(text)
            return
        envelope_id = str(data["envelope_id"])
        with self._changed:
            sent_at = self._sent_at.get(envelope_id)
            if sent_at is None or envelope_id in self._acks:
                self.unexpected.append(text)
                return
            payload = data.get("payload")
            self._acks[envelope_id] = Ack(
                envelope_id,
                payload if isinstance(payload, dict) else None,
                received_at - sent_at,
                link.number,
            )
            self._changed.notify_all()


# -- envelopes, shaped as Slack sends them ---------------------------------------------------
def _envelope_id() -> str:
    return str(uuid.uuid4())


def slash_command_envelope(body: str) -> dict[str, Any]:
    """A `slash_commands` envelope carrying the command `payloads.slash_command` built (the
    form fields of HTTP mode become the JSON payload)."""
    return {
        "envelope_id": _envelope_id(),
        "type": "slash_commands",
        "payload": dict(parse_qsl(body, keep_blank_values=True)),
        "accepts_response_payload": True,
    }


def interactive_envelope(body: str) -> dict[str, Any]:
    """An `interactive` envelope carrying the interaction a `payloads` builder made; Slack
    accepts a response payload for view submissions (`response_action`) only."""
    payload = json.loads(dict(parse_qsl(body))["payload"])
    return {
        "envelope_id": _envelope_id(),
        "type": "interactive",
        "payload": payload,
        "accepts_response_payload": payload.get("type") == "view_submission",
    }


def events_api_envelope(
    body: str, *, retry_attempt: int = 0, retry_reason: str = ""
) -> dict[str, Any]:
    """An `events_api` envelope carrying `payloads.event_callback`'s delivery; a redelivery
    has `retry_attempt` ≥ 1 and a `retry_reason` such as `timeout`."""
    return {
        "envelope_id": _envelope_id(),
        "type": "events_api",
        "payload": json.loads(body),
        "accepts_response_payload": False,
        "retry_attempt": retry_attempt,
        "retry_reason": retry_reason,
    }


__all__ = [
    "ACK_DEADLINE_SECONDS",
    "APP_ID",
    "Ack",
    "SocketModeStandin",
    "events_api_envelope",
    "interactive_envelope",
    "payloads",
    "slash_command_envelope",
]
