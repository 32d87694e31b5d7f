"""The App Home shows every KPI's status as one picture, uploaded once and reused."""

from __future__ import annotations

from typing import Any

from bot.deps import Deps
from tests.support.playbook import OWNER, load_small_playbook
from tests.support.slack import SlackDriver, SlackStandin


def _open_home(slack: SlackDriver, event_id: str) -> tuple[dict[str, Any], Any]:
    event = {
        "type": "app_home_opened",
        "user": OWNER,
        "channel": "D1",
        "tab": "home",
        "event_ts": "1700000000.000100",
    }
    result = slack.event(event, event_id=event_id)
    [call] = result.of("views.publish")
    return call.params["view"], result


def test_home_shows_the_kpi_overview_uploaded_once(
    deps: Deps, slack: SlackDriver, standin: SlackStandin
) -> None:
    load_small_playbook(deps.sessions, deps.clock())
    slack.command("/kpi", "log activation 27%", user=OWNER)
    view, _ = _open_home(slack, "Ev1")
    [uploaded] = standin.uploaded_files()
    assert uploaded.data is not None and uploaded.data[:4] == b"\x89PNG"
    [image] = [b for b in view["blocks"] if b["type"] == "image"]
    assert image["slack_file"] == {"id": uploaded.id}
    assert image["alt_text"].startswith("3 KPIs in 2026-W47: 1 on track, 2 no data.")
    again, result = _open_home(slack, "Ev2")
    assert [b for b in again["blocks"] if b["type"] == "image"] == [image]
    assert not result.of("files.getUploadURLExternal")  # same data: the same file
    assert len(again["blocks"]) <= 100


def test_home_without_kpis_has_no_picture(
    deps: Deps, slack: SlackDriver, standin: SlackStandin
) -> None:
    view, _ = _open_home(slack, "Ev3")
    assert not [b for b in view["blocks"] if b["type"] == "image"]
    assert not standin.calls("files.getUploadURLExternal")
