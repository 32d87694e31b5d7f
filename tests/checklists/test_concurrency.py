"""Two people ticking at the same moment both count, on SQLite and PostgreSQL.

The clicks are dispatched from real threads through the signed-request harness, released
together by a barrier, so their transactions and chat.update calls really overlap.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.checklists import service as checklists
from bot.checklists.render import TICK_ACTION
from bot.deps import Deps
from tests.support.checklists import (
    TEAM,
    add_templates,
    big_template,
    click_item,
    current_message,
    only_run,
    ticked,
)
from tests.support.slack import Result, SlackDriver, SlackStandin


def _together(calls: list[Callable[[], Result]]) -> list[Result]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Result]) -> Result:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def _click(slack: SlackDriver, message: dict[str, Any], position: int) -> Callable[[], Result]:
    return lambda: click_item(slack, message, position, user=f"U1{position:03d}")


def test_simultaneous_ticks_in_one_group_all_count(
    deps: Deps, slack: SlackDriver, standin: SlackStandin
) -> None:
    add_templates(deps, big_template(10))
    slack.command("/checklist", "start big Acme")
    run = only_run(deps)
    message = current_message(standin, run)  # everyone clicks on the same, unticked message
    results = _together([_click(slack, message, p) for p in range(8)])
    assert all(r.status == 200 for r in results)

    stored = checklists.get_run(deps.sessions, team_id=TEAM, run_key=run.key)
    assert {i.position for i in stored.items if i.done} == set(range(8))
    assert {i.done_by for i in stored.items if i.done} == {f"U1{p:03d}" for p in range(8)}
    # the message Slack ends up with (the last update it received) shows every tick
    final = current_message(standin, run)
    assert ticked(final) == set(range(8))
    assert "*8/10 done*" in final["blocks"][1]["text"]["text"]


def test_simultaneous_ticks_without_the_shown_state_all_count(
    deps: Deps, slack: SlackDriver, standin: SlackStandin
) -> None:
    """Without the message blocks the change is found by diffing against the database."""
    add_templates(deps, big_template(10))
    slack.command("/checklist", "start big Acme")
    run = only_run(deps)
    bare = {"type": "message", "ts": run.message_ts, "blocks": []}
    message = current_message(standin, run)

    def click(position: int) -> Callable[[], Result]:
        block = message["blocks"][2]
        option = next(o for o in block["elements"][0]["options"] if o["value"] == str(position))
        return lambda: slack.click(
            TICK_ACTION,
            block_id=block["block_id"],
            action_type="checkboxes",
            user=f"U2{position:03d}",
            message=bare,
            extra={"selected_options": [option]},
        )

    _together([click(p) for p in range(6)])
    stored = checklists.get_run(deps.sessions, team_id=TEAM, run_key=run.key)
    assert {i.position for i in stored.items if i.done} == set(range(6))
    assert ticked(current_message(standin, run)) == set(range(6))


def test_simultaneous_last_ticks_complete_the_run_exactly_once(
    deps: Deps, slack: SlackDriver, standin: SlackStandin
) -> None:
    add_templates(deps, big_template(23))
    slack.command("/checklist", "start big Acme")
    run = only_run(deps)
    message = current_message(standin, run)
    for position in range(20):
        click_item(slack, message, position)
        message = current_message(standin, run)
    standin.clear()
    # the last three items, in the third group, ticked by three people at once
    _together([_click(slack, message, p) for p in (20, 21, 22)])
    stored = checklists.get_run(deps.sessions, team_id=TEAM, run_key=run.key)
    assert stored.status == "completed" and stored.done_count == 23
    notes = [c for c in standin.calls("chat.postMessage") if c.params.get("thread_ts")]
    assert len(notes) == 1 and "complete" in notes[0].params["text"]
    assert ticked(current_message(standin, run)) == set(range(23))


def test_an_update_that_reaches_slack_late_is_redone_from_the_database(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A's chat.update is held back until B's has gone out; A must notice and redo it."""
    add_templates(deps, big_template(10))
    slack.command("/checklist", "start big Acme")
    run = only_run(deps)
    message = current_message(standin, run)
    original = WebClient.chat_update
    first_waiting, second_sent = threading.Event(), threading.Event()
    count = itertools.count(1)

    def held_back(self: WebClient, **kwargs: Any) -> Any:
        n = next(count)
        if n == 1:
            first_waiting.set()
            assert second_sent.wait(10)
        response = original(self, **kwargs)
        if n == 2:
            second_sent.set()
        return response

    monkeypatch.setattr(WebClient, "chat_update", held_back)
    first = threading.Thread(target=lambda: click_item(slack, message, 0, user="U0002"))
    first.start()
    assert first_waiting.wait(10)
    click_item(slack, message, 1, user="U0003")
    first.join(10)
    assert ticked(current_message(standin, run)) == {0, 1}
