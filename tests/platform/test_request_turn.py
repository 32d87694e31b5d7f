"""One request handled at a time per process (four on PostgreSQL; bot.slack.turns), a
request waiting on Slack stepping aside, and waitress's main loop left alone while a task
runs (bot.slack.http)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from waitress.adjustments import Adjustments

from bot.deps import Deps
from bot.slack.client import ListenerWebClient, make_web_client
from bot.slack.http import SlackWsgiApp, make_server
from bot.slack.turns import (
    POSTGRESQL_RUNNERS,
    RequestTurn,
    SteppingAsideRespond,
    runners_for,
    waiting_on_slack,
)
from bot.wiring import build_app, deps_from_parts
from tests.conftest import SIGNING_SECRET
from tests.platform.test_http_mode import _post
from tests.support.slack import SlackDriver, SlackStandin, payloads

WAIT_S = 30.0  # how long a step may take on a loaded machine before the test gives up
# How long Slack sits on the first request's views.open: the second request must be
# answered within it (without stepping aside it would wait all of it).
STALL_S = 6.0  # under the 10 s the test client waits for an answer


def _eventually(condition: Any) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def _command(base: str, standin: SlackStandin, text: str, trigger: str) -> tuple[int, str]:
    body = payloads.slash_command(
        "/feedback",
        text,
        team_id="T0TEST",
        user_id="U0TEST",
        channel_id="C0TEST",
        response_url=standin.response_url(trigger),
        trigger_id=trigger,
    )
    headers = payloads.signed_headers(SIGNING_SECRET, body, content_type=payloads.FORM)
    return _post(base + "/slack/events", body, headers)


def test_a_thread_waiting_on_slack_lets_another_request_take_the_turn() -> None:
    turn = RequestTurn()
    inside_wait = threading.Event()
    other_ran = threading.Event()
    order: list[str] = []

    def waiting_request() -> None:
        with turn.taken():
            with waiting_on_slack():
                inside_wait.set()
                assert other_ran.wait(WAIT_S)  # the other request ran meanwhile
            order.append("waiting request back")

    def other_request() -> None:
        assert inside_wait.wait(WAIT_S)
        with turn.taken():
            order.append("other request")
        other_ran.set()

    threads = [threading.Thread(target=waiting_request), threading.Thread(target=other_request)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S)
    assert order == ["other request", "waiting request back"]


def test_waiting_on_slack_without_a_turn_changes_nothing() -> None:
    with waiting_on_slack():
        pass  # a sender or scheduler thread holds no turn: nothing to give up


@pytest.fixture
def serving(deps: Deps, standin: SlackStandin) -> Iterator[str]:
    """`opsloop serve`'s WSGI app on waitress, in this process, with 4 threads and a Web API
    client that waits up to a minute (the stall below must outlast the request after it)."""
    client = make_web_client(token="xoxb-test", base_url=standin.base_url, timeout=60)
    patient = deps_from_parts(settings=deps.settings, engine=deps.engine, client=client)
    server = make_server(build_app(patient), patient, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        server.task_dispatcher.shutdown(timeout=1)


def test_a_modal_waiting_on_a_slow_views_open_does_not_hold_up_the_next_command(
    serving: str, standin: SlackStandin
) -> None:
    standin.stall("views.open", seconds=STALL_S)
    first_done = threading.Event()

    def open_the_form() -> None:
        _command(serving, standin, "", "first")  # opens the form: views.open
        first_done.set()

    opener = threading.Thread(target=open_the_form)
    opener.start()
    _eventually(lambda: standin.calls("views.open", ok_only=False))  # Slack sits on it

    status, answered = _command(serving, standin, "Acme: export #x", "second")

    assert status == 200 and "Logged feedback" in answered
    assert not first_done.is_set()  # answered while the first request still waited
    opener.join(WAIT_S)
    assert first_done.is_set()


def test_listeners_get_a_respond_that_steps_aside(
    deps: Deps, standin: SlackStandin, executor: Any
) -> None:
    app = build_app(deps, executor=executor)
    seen: list[object] = []

    def probe(ack: Any, respond: Any) -> None:
        seen.append(respond)
        ack()

    app.command("/probe")(probe)
    SlackDriver(app, standin, executor, signing_secret=SIGNING_SECRET).command("/probe", "x")
    assert len(seen) == 1 and isinstance(seen[0], SteppingAsideRespond)


def test_requests_of_one_workspace_share_one_stepping_aside_client(
    deps: Deps, standin: SlackStandin, executor: Any
) -> None:
    app = build_app(deps, executor=executor)
    seen: list[Any] = []

    def probe(ack: Any, client: Any) -> None:
        seen.append(client)
        ack()

    app.command("/probe")(probe)
    slack = SlackDriver(app, standin, executor, signing_secret=SIGNING_SECRET)
    slack.command("/probe", "one")
    slack.command("/probe", "two")
    SlackDriver(app, standin, executor, signing_secret=SIGNING_SECRET, team_id="T0OTHER").command(
        "/probe", "other workspace"
    )

    first, second, other = seen
    assert isinstance(first, ListenerWebClient)
    assert first is second  # built once, not once a request
    assert other is not first
    # what Bolt's per-request client carries is kept: the token, the team of the request
    assert first.token == deps.client.token and first.base_url == deps.client.base_url
    assert first.default_params.get("team_id") == slack.team_id
    assert other.default_params.get("team_id") == "T0OTHER"


@pytest.fixture
def channel(deps: Deps) -> Iterator[Any]:
    """A connection of the server `opsloop serve` makes, on one end of a socket pair."""
    server = make_server(build_app(deps), deps, host="127.0.0.1", port=0, threads=2)
    ours, theirs = socket.socketpair()
    try:
        yield server.channel_class(server, ours, ("127.0.0.1", 1), Adjustments(), map={})
    finally:
        ours.close()
        theirs.close()
        server.close()
        server.task_dispatcher.shutdown(timeout=1)


def test_a_connection_whose_task_runs_is_not_polled_for_writing(channel: Any) -> None:
    channel.requests = [object()]  # a task is running
    channel.total_outbufs_len = 1_500  # its answer partly buffered: the task sends it
    assert not channel.writable()
    channel.will_close = True  # unless the main loop must close it
    assert channel.writable()


def test_a_connection_is_polled_to_drain_a_buffer_its_task_waits_on(channel: Any) -> None:
    channel.requests = [object()]
    channel.total_outbufs_len = channel.adj.outbuf_high_watermark + 1
    assert channel.writable()


def test_a_finished_answer_is_polled_for_writing(channel: Any) -> None:
    channel.requests = []
    channel.total_outbufs_len = 1_500
    assert channel.writable()


def test_the_turn_admits_as_many_requests_as_its_runners_and_no_more() -> None:
    turn = RequestTurn(2)
    holding = threading.Barrier(3)  # two holders and the test
    let_go = threading.Event()
    third_in = threading.Event()

    def holder() -> None:
        with turn.taken():
            holding.wait(WAIT_S)
            assert let_go.wait(WAIT_S)

    def third() -> None:
        with turn.taken():
            third_in.set()

    holders = [threading.Thread(target=holder) for _ in range(2)]
    for thread in holders:
        thread.start()
    holding.wait(WAIT_S)  # both runners hold the turn at once
    late = threading.Thread(target=third)
    late.start()
    assert not third_in.wait(0.3)  # a third waits while two hold it
    let_go.set()
    assert third_in.wait(WAIT_S)  # and goes once one gave it back
    for thread in [*holders, late]:
        thread.join(WAIT_S)


def test_postgresql_lets_several_requests_run_and_sqlite_one(deps: Deps, db_url: str) -> None:
    expected = POSTGRESQL_RUNNERS if db_url.startswith("postgresql") else 1
    assert runners_for(deps.engine) == expected
    turn = SlackWsgiApp(build_app(deps), deps).turn
    for _ in range(expected):
        turn.take()  # (one thread may hold several places: enough to fill them)
    one_more = threading.Event()

    def another_request() -> None:
        with turn.taken():
            one_more.set()

    thread = threading.Thread(target=another_request)
    thread.start()
    assert not one_more.wait(0.3)  # every place is taken: one more waits
    turn.give_back()
    assert one_more.wait(WAIT_S)
    thread.join(WAIT_S)
    for _ in range(expected - 1):
        turn.give_back()


def test_the_turn_goes_to_the_requests_in_the_order_they_asked() -> None:
    """A plain lock lets a newer request take the turn first, again and again; the oldest
    waiter always gets it next."""
    turn = RequestTurn()
    turn.take()
    order: list[int] = []
    threads: list[threading.Thread] = []

    def request(number: int) -> None:
        with turn.taken():
            order.append(number)

    for number in range(8):
        thread = threading.Thread(target=request, args=(number,))
        thread.start()
        threads.append(thread)
        _eventually(lambda n=number: len(turn._waiting) == n + 1)  # queued in this order
    turn.give_back()
    for thread in threads:
        thread.join(WAIT_S)
    assert order == list(range(8))


def test_a_request_giving_the_turn_back_cannot_take_it_again_before_a_waiting_one() -> None:
    """With a plain lock or semaphore, the thread that just gave the turn back takes it
    again before the woken waiter runs (a request stepping aside for Slack does this on
    every call)."""
    turn = RequestTurn()
    turn.take()
    order: list[str] = []

    def waiting_request() -> None:
        with turn.taken():
            order.append("waiting request")

    thread = threading.Thread(target=waiting_request)
    thread.start()
    _eventually(lambda: len(turn._waiting) == 1)
    turn.give_back()
    turn.take()  # straight back: behind the one that was waiting
    order.append("request that gave it back")
    turn.give_back()
    thread.join(WAIT_S)
    assert order == ["waiting request", "request that gave it back"]
