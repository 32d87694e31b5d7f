"""A Bolt listener runner that keeps an acknowledged request acknowledged.

slack-bolt 1.30's ThreadListenerRunner races when a listener calls `ack()` and then
raises (every "ack first, then parse → service" listener does, for bad input or a lost
database): its error branch resets `ack.response` to None, so the request thread either
waits out the 3 s ack timeout and answers 404, or briefly sees the error response and
answers 500. Slack then shows the user `dispatch_failed` on top of our clear message.
Listeners are registered through `handlers.errors.guarded` for that reason; this runner is
the safety net for any listener registered without it: an error raised after `ack()` goes
straight to the app's error handler in the listener thread, and Bolt never sees it.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_bolt.listener import Listener
from slack_bolt.listener.thread_runner import ThreadListenerRunner
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse


class _ErrorsAfterAckHandled(Listener):
    """Wraps a listener so an exception raised after `ack()` is handled, not re-raised."""

    def __init__(self, inner: Any, runner: ThreadListenerRunner) -> None:
        self.inner = inner
        self.runner = runner
        self.matchers = inner.matchers
        self.middleware = inner.middleware
        self.ack_function = inner.ack_function
        self.lazy_functions = inner.lazy_functions
        self.auto_acknowledgement = inner.auto_acknowledgement
        self.ack_timeout = inner.ack_timeout

    def run_ack_function(self, *, request: BoltRequest, response: BoltResponse) -> Any:
        try:
            return self.inner.run_ack_function(request=request, response=response)
        except Exception as error:
            if self.auto_acknowledgement or request.context.ack.response is None:
                raise  # not acknowledged yet: Bolt's own handling is right
            self.runner.listener_error_handler.handle(error=error, request=request, response=None)
            return None


class AckSafeListenerRunner(ThreadListenerRunner):
    def run(
        self,
        request: BoltRequest,
        response: BoltResponse,
        listener_name: str,
        listener: Any,
        starting_time: float | None = None,
    ) -> Any:
        return super().run(
            request, response, listener_name, _ErrorsAfterAckHandled(listener, self), starting_time
        )


def install(app: App) -> None:
    """Replace `app`'s listener runner; call before `app.error(...)` is registered."""
    current = app._listener_runner
    app._listener_runner = AckSafeListenerRunner(
        logger=current.logger,
        process_before_response=current.process_before_response,
        listener_error_handler=current.listener_error_handler,
        listener_start_handler=current.listener_start_handler,
        listener_completion_handler=current.listener_completion_handler,
        listener_executor=current.listener_executor,
        lazy_listener_runner=current.lazy_listener_runner,
    )
