"""A tick that commits while the sender records the update it just sent is not lost.

Found as a flake of test_concurrency.py under load on PostgreSQL: the database had six items
ticked and Slack's last update showed one. The sender's `mark_sent` read the outbox row,
then waited for the checklist's lock (the record first, then the row, against deadlocks)
while other ticks committed newer revisions of the row, and then marked the row `sent` on
its first read: the newer version was never sent, and the message stayed stale until the
next change. Here one tick is held open at exactly that moment, so the interleaving is the
same every run.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.checklists import service as checklists
from bot.deps import Deps
from bot.slack.sender import OutboxSender
from storage import outbox as outbox_rows
from storage.db import transaction
from tests.support.checklists import (
    TEAM,
    add_templates,
    big_template,
    current_message,
    only_run,
    ticked,
)
from tests.support.slack import SlackDriver, SlackStandin

WAIT_S = 10


def _tick(deps: Deps, run: Any, position: int, user: str) -> None:
    """Tick one more item of the run's first group, as a click on the message does."""
    stored = checklists.get_run(deps.sessions, team_id=TEAM, run_key=run.key)
    done = frozenset(i.position for i in stored.items if i.done and i.position < 5)
    checklists.apply_checkbox_state(
        deps.sessions,
        team_id=TEAM,
        run_key=run.key,
        group=0,
        selected=done | {position},
        shown=None,
        channel_id=run.channel_id,
        message_ts=run.message_ts,
        user_id=user,
        now=deps.clock(),
    )


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_tick_committing_while_the_sender_records_its_update_is_sent_too(
    deps: Deps,
    slack: SlackDriver,
    standin: SlackStandin,
    sender: OutboxSender,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_templates(deps, big_template(10))
    slack.command("/checklist", "start big Acme")
    run = only_run(deps)
    _tick(deps, run, 0, "U0002")  # the message's update is pending; it renders as {0}

    late_tick_queued, mark_sent_has_read = threading.Event(), threading.Event()
    bring_up_to_date = checklists._bring_message_up_to_date
    record_on_subject = outbox_rows._record_on_subject
    chat_update = WebClient.chat_update
    late: list[threading.Thread] = []

    def held_bring_up_to_date(*args: Any, **kwargs: Any) -> None:
        bring_up_to_date(*args, **kwargs)  # revision bumped, the run locked, not committed
        late_tick_queued.set()
        assert mark_sent_has_read.wait(WAIT_S)  # mark_sent has read the old revision …
        threading.Event().wait(0.3)  # … and is waiting for the run's lock

    def noting_record_on_subject(*args: Any, **kwargs: Any) -> None:
        mark_sent_has_read.set()
        record_on_subject(*args, **kwargs)

    def update_with_a_tick_behind_it(self: WebClient, **kwargs: Any) -> Any:
        if not late:  # the {0} update is rendered; item 1 is ticked while it is sent
            late.append(threading.Thread(target=_tick, args=(deps, run, 1, "U0003")))
            late[0].start()
            assert late_tick_queued.wait(WAIT_S)
        return chat_update(self, **kwargs)

    monkeypatch.setattr(checklists, "_bring_message_up_to_date", held_bring_up_to_date)
    monkeypatch.setattr(outbox_rows, "_record_on_subject", noting_record_on_subject)
    monkeypatch.setattr(WebClient, "chat_update", update_with_a_tick_behind_it)
    assert sender.drain(WAIT_S)
    late[0].join(WAIT_S)
    assert sender.drain(WAIT_S)  # the newer version, if it is still to be sent

    stored = checklists.get_run(deps.sessions, team_id=TEAM, run_key=run.key)
    assert {i.position for i in stored.items if i.done} == {0, 1}
    assert ticked(current_message(standin, run)) == {0, 1}
    with transaction(deps.sessions) as session:
        row = outbox_rows.get_by_key(session, team_id=TEAM, key=f"checklist:{run.key}:update")
        assert row is not None
        assert (row.state, row.claimed_revision) == ("sent", row.revision)
