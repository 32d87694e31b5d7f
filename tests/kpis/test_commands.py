"""`/kpi log|show|list|target` end to end through the real app, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.clock import FixedClock
from bot.deps import Deps
from bot.kpis import compute as kpi_compute
from storage import kpis as kpi_store
from storage.core import list_audit_entries
from storage.db import transaction
from tests.support.playbook import ADMIN, OTHER, OWNER, TEAM, load_small_playbook
from tests.support.slack import SlackDriver


@pytest.fixture
def team(deps: Deps) -> Deps:
    load_small_playbook(deps.sessions, deps.clock())
    return deps


def _reply(result: object) -> str:
    text: str = result.reply_text  # type: ignore[attr-defined]
    return text


def test_owner_logs_a_value_with_a_unit(slack: SlackDriver, team: Deps) -> None:
    result = slack.command("/kpi", "log activation 27% after the pricing change", user=OWNER)
    reply = result.answer
    assert reply.params["response_type"] == "ephemeral"
    assert "Logged 27% for *Trial-to-paid activation* (2026-W47)" in reply.params["text"]
    assert "on track" in reply.params["text"]
    shown = _reply(slack.command("/kpi", "show activation", user=OTHER))
    assert "2026-W47  27%" in shown


@pytest.mark.parametrize(
    ("typed", "logged", "note"),
    [
        ("27 % after the pricing change", "Logged 27% for", "after the pricing change"),
        ("27 percent", "Logged 27% for", ""),
        ("-0", "Logged 0% for", ""),
    ],
)
def test_a_unit_typed_apart_from_the_value_is_read_as_its_unit(
    slack: SlackDriver, team: Deps, typed: str, logged: str, note: str
) -> None:
    """Before, `27 %` stored 27 with the note "%", and `-0` answered "Logged -0%"."""
    reply = _reply(slack.command("/kpi", f"log activation {typed}", user=OWNER))
    assert logged in reply
    with transaction(team.sessions) as session:
        [kpi] = [k for k in kpi_store.list_kpis(session, team_id=TEAM) if k.key == "activation"]
        latest = kpi_store.get_latest_measurement(session, kpi_id=kpi.id)
        assert latest is not None
        assert (latest.note or "") == note
        assert str(latest.value) != "-0.0"


def test_admin_may_log_others_may_not(slack: SlackDriver, team: Deps) -> None:
    refused = _reply(slack.command("/kpi", "log activation 20", user=OTHER))
    assert "Only the owner of Trial-to-paid activation" in refused
    assert f"<@{OWNER}>" in refused
    accepted = _reply(slack.command("/kpi", "log time_to_first_value 3.5d", user=ADMIN))
    assert "Logged 3.5 days" in accepted and "on track" in accepted
    assert "2026-W47  —" in _reply(slack.command("/kpi", "show activation"))


def test_unknown_kpi_suggests_the_closest_names(slack: SlackDriver, team: Deps) -> None:
    reply = _reply(slack.command("/kpi", "log activaton 20", user=ADMIN))
    assert "There is no KPI called `activaton`" in reply
    assert "Did you mean `activation`?" in reply
    assert "Example: `/kpi show activation`" in reply


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("lots", "`lots` is not a number"),
        ("3.5d", "is a duration, but activation is measured in %"),
        ("27,5", "ambiguous"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_stored(
    slack: SlackDriver, team: Deps, value: str, says: str
) -> None:
    reply = _reply(slack.command("/kpi", f"log activation {value}", user=OWNER))
    assert says in reply
    assert "Example:" in reply
    assert "2026-W47  —" in _reply(slack.command("/kpi", "show activation"))


def test_percent_for_a_kpi_in_days_is_refused(slack: SlackDriver, team: Deps) -> None:
    reply = _reply(slack.command("/kpi", "log time_to_first_value 42%", user=OWNER))
    assert "is a percentage, but time_to_first_value is measured in days" in reply


def test_computed_kpi_cannot_be_logged(slack: SlackDriver, team: Deps) -> None:
    reply = _reply(slack.command("/kpi", "log nps 42", user=ADMIN))
    assert "computed by Opsloop" in reply


def test_show_covers_eight_weeks_in_the_team_timezone(
    slack: SlackDriver, team: Deps, clock: FixedClock
) -> None:
    # Sunday 23:30 UTC is Monday 00:30 in Berlin: it counts for the next week.
    clock.now = datetime(2026, 11, 8, 23, 30, tzinfo=UTC)
    slack.command("/kpi", "log activation 18", user=OWNER)
    clock.now = datetime(2026, 9, 24, 12, 0, tzinfo=UTC)  # W39: older than 8 weeks
    slack.command("/kpi", "log activation 99", user=OWNER)
    clock.now = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
    slack.command("/kpi", "log activation 23.5 first log", user=OWNER)
    slack.command("/kpi", "log activation 24 corrected", user=OWNER)
    text = _reply(slack.command("/kpi", "show Trial-to-paid activation"))
    assert "2026-W39" not in text and "99" not in text
    assert "2026-W40  —" in text
    assert "2026-W45  —" in text  # the Sunday-night value is not in W45…
    assert "2026-W46  18%" in text  # …but in W46, Berlin time
    assert "2026-W47  24%" in text  # the last value of the week counts
    assert "at risk" in text  # 24 vs 25: within 10%
    assert "target ≥ 25%" in text
    assert "Trend: ↑ better, from 18% (2026-W46)" in text


def test_list_shows_every_kpi_with_status(slack: SlackDriver, team: Deps) -> None:
    slack.command("/kpi", "log time_to_first_value 14", user=OWNER)
    text = _reply(slack.command("/kpi", "list"))
    assert "Trial-to-paid activation" in text and "no data" in text
    assert "Time to first value" in text and "14 days" in text and "off track" in text
    assert "NPS" in text and f"<@{OWNER}>" in text
    assert _reply(slack.command("/kpi", "show")) == text


def test_computed_kpi_is_computed_for_each_week_in_team_time(
    slack: SlackDriver, team: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[datetime, datetime]] = []

    def fake_nps(session, team_id, start, end):  # type: ignore[no-untyped-def]
        seen.append((start, end))
        return 38.0 if team_id == "T0001" else None

    monkeypatch.setitem(kpi_compute.COMPUTED_KPIS, "nps_30d", fake_nps)
    text = _reply(slack.command("/kpi", "show nps"))
    assert "2026-W47  38" in text and "at risk" in text
    # The 8 weeks shown, and the one before for a chart ending at last week.
    assert len(seen) == 9
    assert seen[-2] == (
        datetime(2026, 11, 8, 23, 0, tzinfo=UTC),
        datetime(2026, 11, 15, 23, 0, tzinfo=UTC),
    )
    # the running week is computed up to now (Wed 18 Nov 10:00 UTC), not to its end
    assert seen[-1] == (
        datetime(2026, 11, 15, 23, 0, tzinfo=UTC),
        datetime(2026, 11, 18, 10, 0, tzinfo=UTC),
    )


def test_unwired_computed_kpi_says_no_data(slack: SlackDriver, team: Deps) -> None:
    text = _reply(slack.command("/kpi", "show nps"))
    assert "no data" in text and "computed (nps_30d)" in text


def test_target_changes_are_for_admins_and_audited(slack: SlackDriver, team: Deps) -> None:
    refused = _reply(slack.command("/kpi", "target activation 30", user=OWNER))
    assert "Only Opsloop admins" in refused
    done = _reply(slack.command("/kpi", "target activation 30%", user=ADMIN))
    assert "target ≥ 30%" in done
    with transaction(team.sessions) as session:
        [entry] = [e for e in list_audit_entries(session, team_id="T0001") if "kpi" in e.action]
    assert (entry.actor_id, entry.subject, entry.detail) == (
        ADMIN,
        "activation",
        {"from": 25.0, "to": 30.0},
    )


@pytest.mark.parametrize("text", ["log", "log activation", "frobnicate", "target nps"])
def test_incomplete_commands_explain_themselves(slack: SlackDriver, team: Deps, text: str) -> None:
    reply = _reply(slack.command("/kpi", text, user=ADMIN))
    assert "Example:" in reply


def test_kpi_help_and_a_note_that_mentions_payload(slack: SlackDriver, team: Deps) -> None:
    assert "/kpi log <kpi> <value>" in _reply(slack.command("/kpi", "help"))
    reply = _reply(slack.command("/kpi", "log activation 26 payload <!channel>", user=OWNER))
    assert "Logged 26%" in reply


def test_kpi_names_are_escaped(slack: SlackDriver, deps: Deps) -> None:
    text = (
        "kpis:\n  - key: evil\n    name: '<!channel> & co'\n    owner: UADMIN1\nadmins: [UADMIN1]\n"
    )
    load_small_playbook(deps.sessions, deps.clock(), text=text)
    reply = _reply(slack.command("/kpi", "list"))
    assert "<!channel>" not in reply and "&lt;!channel&gt; &amp; co" in reply
