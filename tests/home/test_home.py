"""The App Home tab: published on app_home_opened, within 100 blocks whatever the data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

import handlers.home as home_handlers
from bot.deps import Deps
from bot.home.models import HomeItem
from bot.home.render import HOME_BLOCK_LIMIT
from bot.home.service import HomeSections
from bot.outbox.service import enqueue_messages, get_entry
from storage.errors import DatabaseUnavailableError
from tests.support.playbook import OWNER, TEAM, load_small_playbook
from tests.support.slack import SlackDriver, SlackStandin


def nothing(*_: object) -> list[HomeItem]:
    return []


def _open_home(slack: SlackDriver, user: str = OWNER, tab: str = "home") -> dict[str, Any]:
    event = {"type": "app_home_opened", "user": user, "channel": "D1", "tab": tab,
             "event_ts": "1700000000.000100"}  # fmt: skip
    result = slack.event(event)
    assert result.status == 200
    [call] = result.of("views.publish")
    assert call.params["user_id"] == user
    view = call.params["view"]
    return json.loads(view) if isinstance(view, str) else view  # type: ignore[no-any-return]


def _text(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_home_shows_my_processes_and_the_kpis(
    slack: SlackDriver, deps: Deps, standin: SlackStandin
) -> None:
    standin.add_user(OWNER, "Dana", tz="Europe/Berlin")
    load_small_playbook(deps.sessions, deps.clock())
    slack.command("/kpi", "log activation 26", user=OWNER)
    view = _open_home(slack)
    assert view["type"] == "home"
    text = _text(view)
    assert text.count("Nothing assigned to you.") == 2  # no checklist items, no escalations
    assert "<https://wiki.example/onboarding|Customer onboarding>" in text
    assert "next SOP review 2026-12-30" in text
    assert "Escalation handling" not in text.split("KPIs")[0]  # not mine
    assert "Trial-to-paid activation" in text and "26%" in text and "on track" in text
    assert [c.params["user"] for c in standin.calls("users.info")] == [OWNER]


def test_sections_come_from_the_providers_passed_in_and_are_escaped(
    slack: SlackDriver, deps: Deps
) -> None:
    calls: list[tuple[str, str]] = []

    def my_items(sessions, team_id, user_id, now):  # type: ignore[no-untyped-def]
        calls.append((team_id, user_id))
        return [HomeItem("Kickoff with <!channel> & Acme", "due Fri 20 Nov", overdue=True)]

    def my_escalations(sessions, team_id, user_id, now):  # type: ignore[no-untyped-def]
        return [HomeItem("Acme: CSV export down", "sev1 · ack overdue by 20 min",
                         url="https://slack.example/archives/C1/p1")]  # fmt: skip

    deps.home_sections = HomeSections(checklist_items=my_items, escalations=my_escalations)
    text = _text(_open_home(slack))
    assert calls == [(TEAM, OWNER)]
    assert "Kickoff with &lt;!channel&gt; &amp; Acme" in text and "<!channel>" not in text
    assert ":red_circle: " in text
    assert "<https://slack.example/archives/C1/p1|Acme: CSV export down>" in text
    assert "sev1 · ack overdue by 20 min" in text
    assert "Nothing assigned to you." not in text


def test_a_failing_section_does_not_blank_the_home(slack: SlackDriver, deps: Deps) -> None:
    def broken(sessions, team_id, user_id, now):  # type: ignore[no-untyped-def]
        raise RuntimeError("table missing")

    deps.home_sections = HomeSections(checklist_items=nothing, escalations=broken)
    text = _text(_open_home(slack))
    assert "Could not load escalations right now." in text
    assert "Processes I own" in text


def test_home_stays_within_100_blocks_with_lots_of_data(slack: SlackDriver, deps: Deps) -> None:
    many = [HomeItem(f"item {i} " + "x" * 500) for i in range(300)]
    deps.home_sections = HomeSections(lambda *_: many, lambda *_: many)
    processes = "\n".join(
        f"  - key: p{i}\n    name: Process {i}\n    owner: {OWNER}" for i in range(60)
    )
    kpis = "\n".join(f"  - key: k{i}\n    name: KPI {i}\n    target: {i}" for i in range(80))
    load_small_playbook(
        deps.sessions, deps.clock(), text=f"processes:\n{processes}\nkpis:\n{kpis}\n"
    )
    view = _open_home(slack)
    assert len(view["blocks"]) <= HOME_BLOCK_LIMIT
    text = _text(view)
    assert text.count("… and 282 more") == 2
    assert "… and 48 more" in text  # processes
    assert "… and 55 more" in text  # KPIs
    for block in view["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000


def test_messages_tab_is_left_alone(slack: SlackDriver, deps: Deps) -> None:
    event = {"type": "app_home_opened", "user": OWNER, "channel": "D1", "tab": "messages",
             "event_ts": "1700000000.000100"}  # fmt: skip
    result = slack.event(event)
    assert result.status == 200 and result.of("views.publish") == []


@pytest.mark.parametrize("forged", ["<!channel>", "U0OK|<!here>", "C0CHANNEL", ""])
def test_a_user_that_is_not_a_user_id_gets_nothing_published_or_stored(
    slack: SlackDriver, deps: Deps, forged: object
) -> None:
    """Before, `"user": "<!channel>"` was published to, looked up with users.info and
    stored as a person."""
    event = {"type": "app_home_opened", "user": forged, "channel": "D1", "tab": "home",
             "event_ts": "1700000000.000100"}  # fmt: skip
    before = _counts(deps)
    result = slack.event(event)
    assert result.status == 200
    assert result.of("views.publish") == [] and result.of("users.info") == []
    assert _counts(deps) == before  # no outbox row, no person


def _counts(deps: Deps) -> tuple[int, int]:
    with deps.engine.connect() as connection:
        outbox_rows = connection.execute(text("SELECT count(*) FROM outbox")).scalar_one()
        people = connection.execute(text("SELECT count(*) FROM people")).scalar_one()
    return outbox_rows, people


def test_redelivered_event_publishes_once(slack: SlackDriver, deps: Deps) -> None:
    event = {"type": "app_home_opened", "user": OWNER, "channel": "D1", "tab": "home",
             "event_ts": "1700000000.000100"}  # fmt: skip
    assert len(slack.event(event, event_id="Ev1").of("views.publish")) == 1
    assert slack.event(event, event_id="Ev1").of("views.publish") == []


def test_an_event_whose_handling_failed_is_handled_on_slacks_retry(
    slack: SlackDriver, deps: Deps, standin: SlackStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the event id was claimed before the listener ran and kept when it failed, so
    Slack's retry was dropped and the App Home was never published. Now the listener only
    stores the Home in the outbox: storing it is what can fail."""
    failures = iter([DatabaseUnavailableError("server closed the connection")])

    def enqueue_once_failing(*args: Any, **kwargs: Any) -> int:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return enqueue_messages(*args, **kwargs)

    monkeypatch.setattr(home_handlers, "enqueue_messages", enqueue_once_failing)
    event = {"type": "app_home_opened", "user": OWNER, "channel": "D1", "tab": "home",
             "event_ts": "1700000000.000100"}  # fmt: skip
    assert slack.event(event, event_id="EvRetry1").status == 200  # storing it failed
    assert standin.calls("views.publish") == []
    assert get_entry(deps.sessions, team_id=TEAM, key=f"home:{OWNER}") is None
    slack.event(event, event_id="EvRetry1")  # Slack redelivers the same event id
    assert len(standin.calls("views.publish")) == 1  # handled this time, and published
    slack.event(event, event_id="EvRetry1")
    assert len(standin.calls("views.publish")) == 1  # handled now: a further retry is dropped


def test_a_refused_publish_is_retried_by_the_sender_not_by_slacks_retry(
    slack: SlackDriver, deps: Deps, standin: SlackStandin
) -> None:
    """The event is handled once the Home is stored; a transient refusal of views.publish is
    the sender's to retry (after a short backoff), so Slack's redelivery is still dropped."""
    standin.fail("views.publish", status=200, error="internal_error", retry_after=None)
    event = {"type": "app_home_opened", "user": OWNER, "channel": "D1", "tab": "home",
             "event_ts": "1700000000.000100"}  # fmt: skip
    result = slack.event(event, event_id="EvRetry2")
    assert result.status == 200
    [refused, published] = result.of("views.publish")
    assert not refused.response.get("ok") and published.response["ok"] is True
    assert published.params["user_id"] == OWNER
    entry = get_entry(deps.sessions, team_id=TEAM, key=f"home:{OWNER}")
    assert entry is not None and entry.state == "sent"
    assert slack.event(event, event_id="EvRetry2").of("views.publish") == []
