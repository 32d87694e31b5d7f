"""Socket Mode for `opsloop run`: slack-bolt's SocketModeHandler on slack-sdk's built-in
client (no extra dependency), counting the envelopes it is handling.

The handler writes an envelope's ack on the client's own worker thread after Bolt's
dispatch returns, not on the listener thread: the listener pool can be idle while acks of
stored requests are still unwritten. A stop that closed the connection then would lose
them (stored, but Slack tells the user it failed), so `opsloop run` waits on
`wait_idle()` before `close()`.
"""

from __future__ import annotations

import threading

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.slack.turns import RequestTurn

# How often close() re-marks the session terminated while the runner thread is still alive
# (it sleeps 0.2 s between looks at a closed socket).
_RUNNER_RECHECK_SECONDS = 0.1


class SocketModeConnection(SocketModeHandler):
    """A SocketModeHandler that knows when no envelope is between receipt and ack."""

    def __init__(
        self, app: App, app_token: str, *, concurrency: int = 10, runners: int = 1
    ) -> None:
        # `concurrency` client threads run the listeners (Bolt processes each request
        # before its ack), so it is how many requests are handled at once.
        super().__init__(app, app_token, concurrency=concurrency)
        self._in_flight = 0
        self._idle = threading.Condition()
        # `runners` envelopes' listeners run at a time (bot.slack.turns.runners_for)
        self._turn = RequestTurn(runners)

    # The built-in client's signature, narrowed as slack-bolt's own handler narrows it.
    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        with self._idle:
            self._in_flight += 1
        try:
            with self._turn.taken():
                super().handle(client, req)  # dispatch, then write the ack
        finally:
            with self._idle:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self._idle.notify_all()

    def close(self) -> None:
        """Hang up and stop the client's threads, even when the close lands just as the
        client starts reading a new connection.

        slack-sdk's session runner checks that the socket is open, then marks the session
        not terminated and reads until it is. A close between those two steps (a SIGTERM
        right after a connect or a reconnect) is undone: the runner loops forever on the
        closed socket, and the client's close() joins it with no timeout. So the flag is
        set again until the runner has gone, before the client's own close runs.
        """
        client = self.client
        client.closed = True
        client.auto_reconnect_enabled = False
        client.current_session_state.terminated = True
        client.disconnect()
        runner = client.current_session_runner
        runner.event.set()  # its loop ends once the session it is reading ends
        while runner.is_alive():
            client.current_session_state.terminated = True
            runner.thread.join(_RUNNER_RECHECK_SECONDS)
        super().close()  # type: ignore[no-untyped-call]

    def wait_idle(self, timeout: float) -> bool:
        """Block until every envelope received so far is answered (or refused); False if
        `timeout` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)
