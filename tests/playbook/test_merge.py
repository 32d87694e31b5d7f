"""Playbook and Slack agree: an import merges three ways (last imported file, Slack, new file),
owners may be e-mail addresses, and new owners are told by DM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.deps import Deps
from bot.org import owners
from bot.org.reviews import mark_reviewed
from bot.playbook.merge import Override, merge_fields
from bot.playbook.owners import OwnerLookupError, resolve_owner_emails
from bot.playbook.schema import PlaybookInvalidError, parse_playbook
from bot.wiring import import_playbook_at_start
from storage import kpis as kpi_store
from storage import org
from storage.core import list_audit_entries
from storage.db import transaction
from tests.support.playbook import ADMIN, OWNER, SMALL_PLAYBOOK, TEAM
from tests.support.slack import SlackDriver, SlackStandin

NEW = "UNEW1"


@pytest.fixture
def cli_run(db_url: str, standin: SlackStandin, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "OPSLOOP_PLAYBOOK", "SLACK_API_URL"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def invoke(*args: str, **env: str) -> Result:
        return runner.invoke(cli, list(args), env={"DATABASE_URL": db_url, **env})

    return invoke


def _write(tmp_path: Path, text: str, name: str = "playbook.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _import(cli_run: Any, path: Path, **env: str) -> str:
    result = cli_run("playbook", "import", str(path), "--team", TEAM, **env)
    assert result.exit_code == 0, result.output
    return str(result.output)


def _exported(cli_run: Any) -> dict[str, Any]:
    result = cli_run("playbook", "export", "--team", TEAM)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = yaml.safe_load(result.stdout)
    return data


def _kpi(deps: Deps, key: str) -> tuple[float | None, str | None]:
    """(target, owner reference) of a KPI as stored."""
    with transaction(deps.sessions) as session:
        kpi = kpi_store.get_kpi(session, team_id=TEAM, key=key)
        assert kpi is not None
        return kpi.target, kpi.owner_ref


def _owner_of(deps: Deps, key: str) -> str | None:
    return {r.key: r.owner_id for r in owners.list_owners(deps.sessions, team_id=TEAM)}[key]


def test_changes_made_in_slack_survive_an_import_of_an_unrelated_edit(
    cli_run: Any, slack: SlackDriver, deps: Deps, tmp_path: Path
) -> None:
    path = _write(tmp_path, SMALL_PLAYBOOK)
    _import(cli_run, path)
    # in Slack: a new owner, a new KPI target, a review
    assert "now owns" in slack.command("/ops", f"owner renewals <@{NEW}>", user=ADMIN).reply_text
    assert "30" in slack.command("/kpi", "target activation 30", user=ADMIN).reply_text
    mark_reviewed(
        deps.sessions,
        team_id=TEAM,
        actor_id=OWNER,
        process_key="onboarding",
        note="",
        now=deps.clock(),
        default_timezone="UTC",
    )
    # the file: one checklist title edited, nothing else
    edited = SMALL_PLAYBOOK.replace("title: Kickoff call", "title: Kick-off call")
    output = _import(cli_run, _write(tmp_path, edited))
    assert "overrode" not in output
    assert _owner_of(deps, "renewals") == NEW
    assert _kpi(deps, "activation")[0] == 30
    data = _exported(cli_run)
    processes = {p["key"]: p for p in data["processes"]}
    assert processes["renewals"]["owner"] == NEW
    assert processes["onboarding"]["last_reviewed"].isoformat() == "2026-11-18"
    assert data["checklists"][0]["items"][0]["title"] == "Kick-off call"
    # importing the same file again changes nothing and reports nothing
    again = _import(cli_run, _write(tmp_path, edited))
    assert "processes 0 new, 0 updated; KPIs 0 new, 0 updated" in again
    assert _owner_of(deps, "renewals") == NEW


def test_a_field_both_changed_takes_the_files_value_and_each_override_is_reported(
    cli_run: Any, slack: SlackDriver, deps: Deps, tmp_path: Path
) -> None:
    _import(cli_run, _write(tmp_path, SMALL_PLAYBOOK))
    slack.command("/ops", f"owner onboarding <@{NEW}>", user=ADMIN)
    slack.command("/ops", f"owner renewals <@{NEW}>", user=ADMIN)
    slack.command("/kpi", "target activation 30", user=ADMIN)
    edited = (
        SMALL_PLAYBOOK.replace(f"owner: {OWNER}  # Dana", "owner: U0FILE1")
        .replace("target: 25", "target: 27")
        .replace("name: Renewal risk review", "name: Renewal risk review\n    owner: U0FILE2")
    )
    output = _import(cli_run, _write(tmp_path, edited))
    assert "The file overrode 3 change(s) made in Slack since the last import" in output
    assert (
        f"process onboarding: owner {NEW} (set in Slack) replaced by the file's U0FILE1 "
        f"(the last imported file had {OWNER})" in output
    )
    assert (
        f"process renewals: owner {NEW} (set in Slack) replaced by the file's U0FILE2 "
        "(the last imported file had (none))" in output
    )
    assert (
        "kpi activation: target 30 (set in Slack) replaced by the file's 27 "
        "(the last imported file had 25)" in output
    )
    assert _owner_of(deps, "onboarding") == "U0FILE1"
    assert _kpi(deps, "activation")[0] == 27
    with transaction(deps.sessions) as session:
        entries = [e for e in list_audit_entries(session, team_id=TEAM)]
    overrides = {e.subject: e.detail for e in entries if e.action == "playbook.override"}
    assert overrides["kpi:activation"] == {
        "field": "target",
        "base": 25.0,
        "slack": 30.0,
        "file": 27.0,
    }
    assert overrides["process:onboarding"]["slack"] == NEW


def test_merge_rules_field_by_field() -> None:
    base = {"owner": "U1", "target": 25.0, "name": "A"}
    current = {"owner": "U2", "target": 25.0, "name": "A"}
    # the file changed only the target: Slack's owner stays, the file's target applies
    merged, overrides = merge_fields(
        kind="kpi", key="k", base=base, current=current, new={**base, "target": 30.0}
    )
    assert merged == {"owner": "U2", "target": 30.0, "name": "A"} and overrides == []
    # both changed the owner to the same value: no conflict to report
    merged, overrides = merge_fields(
        kind="kpi", key="k", base=base, current=current, new={**base, "owner": "U2"}
    )
    assert merged["owner"] == "U2" and overrides == []
    # both changed it differently: the file wins, reported
    merged, overrides = merge_fields(
        kind="kpi", key="k", base=base, current=current, new={**base, "owner": "U3"}
    )
    assert merged["owner"] == "U3"
    assert overrides == [Override("kpi", "k", "owner", "U1", "U2", "U3")]
    # nothing imported before (or a new record): the file applies as written
    assert merge_fields(kind="kpi", key="k", base=None, current=current, new=base) == (base, [])


def test_owners_given_as_e_mail_addresses_are_resolved_in_slack(
    cli_run: Any, deps: Deps, standin: SlackStandin, tmp_path: Path
) -> None:
    standin.add_user("U0DANA", "Dana", email="dana@example.com")
    standin.add_user("U0KAI", "Kai", email="Kai@Example.com")
    text = (
        SMALL_PLAYBOOK.replace(f"owner: {OWNER}  # Dana", "owner: dana@example.com")
        .replace(f"    owner: {OWNER}\n", "    owner: kai@example.com\n")
        .replace(
            "owner: process:onboarding\n        due_days",
            "owner: dana@example.com\n        due_days",
        )
    )
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": standin.base_url}
    output = _import(cli_run, _write(tmp_path, text), **env)
    assert "imported" in output
    lookups = sorted(c.params["email"] for c in standin.calls("users.lookupByEmail"))
    assert lookups == ["dana@example.com", "kai@example.com"]  # once per address
    assert _owner_of(deps, "onboarding") == "U0DANA"
    assert _kpi(deps, "time_to_first_value")[1] == "U0KAI"
    data = _exported(cli_run)
    assert data["checklists"][0]["items"][0]["owner"] == "U0DANA"
    # the same file again: nothing changed, so no new-owner DMs
    assert "new owner" not in _import(cli_run, _write(tmp_path, text), **env)


def test_an_unknown_address_or_unreachable_slack_imports_nothing_and_says_so_in_one_line(
    cli_run: Any, deps: Deps, standin: SlackStandin, tmp_path: Path
) -> None:
    standin.add_user("U0DANA", "Dana", email="dana@example.com")
    text = SMALL_PLAYBOOK.replace(f"owner: {OWNER}  # Dana", "owner: nobody@example.com")
    text = text.replace("name: Customer onboarding", "name: Onboarding (renamed)")
    path = _write(tmp_path, text)
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": standin.base_url}
    result = cli_run("playbook", "import", str(path), "--team", TEAM, **env)
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0, result.output
    assert "no Slack user has the e-mail address nobody@example.com (process onboarding)" in (
        result.output
    )
    assert "nothing was imported" in result.output and "Traceback" not in result.output
    with transaction(deps.sessions) as session:
        assert org.list_processes(session, team_id=TEAM) == []

    unreachable = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": "http://127.0.0.1:9/api/"}
    result = cli_run("playbook", "import", str(path), "--team", TEAM, **unreachable)
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0, result.output
    assert "cannot look up the owner nobody@example.com (process onboarding) in Slack" in (
        result.output
    )
    result = cli_run("playbook", "import", str(path), "--team", TEAM)  # no token at all
    assert result.exit_code == 2 and "SLACK_BOT_TOKEN is not set" in result.output


def test_e_mail_owners_are_validated_in_the_file() -> None:
    for bad in ("dana@", "<mailto:dana@example.com>", "dana@example", "da na@example.com"):
        text = SMALL_PLAYBOOK.replace(f"owner: {OWNER}  # Dana", f"owner: {bad!r}")
        with pytest.raises(PlaybookInvalidError) as raised:
            parse_playbook(text, "p.yaml")
        assert "processes[0].owner" in str(raised.value)
        assert "is not a Slack user id (like U0123ABCD) or an e-mail address" in str(raised.value)
    with pytest.raises(PlaybookInvalidError) as raised:
        parse_playbook(SMALL_PLAYBOOK + "reviews:\n  remind_days_before: -1\n", "p.yaml")
    assert "reviews.remind_days_before" in str(raised.value)


def test_resolution_keeps_whether_the_file_manages_checklists() -> None:
    without = SMALL_PLAYBOOK.split("checklists:")[0].replace(
        f"owner: {OWNER}  # Dana", "owner: dana@example.com"
    )
    playbook = parse_playbook(without, "p.yaml")
    resolved = resolve_owner_emails(playbook, lambda email: "U0DANA", source="p.yaml")
    assert resolved.processes[0].owner == "U0DANA"
    assert "checklists" not in resolved.model_fields_set

    def down(email: str) -> str | None:
        raise OwnerLookupError("Slack answered missing_scope")

    with pytest.raises(OwnerLookupError, match="missing_scope; nothing was imported"):
        resolve_owner_emails(playbook, down, source="p.yaml")


def _dms_to(standin: SlackStandin, user: str) -> list[str]:
    return [
        str(c.params["text"])
        for c in standin.calls("chat.postMessage")
        if c.params.get("channel") == user
    ]


def test_new_owners_are_told_by_dm_from_slack_and_from_an_import(
    cli_run: Any, slack: SlackDriver, deps: Deps, standin: SlackStandin, tmp_path: Path
) -> None:
    _import(cli_run, _write(tmp_path, SMALL_PLAYBOOK))
    slack.deliver()
    [told] = _dms_to(standin, OWNER)  # one DM listing everything they now own
    assert "You are now the owner of these in Opsloop (set by the playbook):" in told
    assert "\n• the process *Customer onboarding* (`onboarding`)" in told
    assert "\n• the KPI *Time to first value* (`time_to_first_value`)" in told
    standin.clear()

    result = slack.command("/ops", f"owner renewals <@{NEW}>", user=ADMIN)
    [dm] = [c for c in result.of("chat.postMessage") if c.params["channel"] == NEW]
    assert "You are now the owner of the process *Renewal risk review* (`renewals`)" in str(
        dm.params["text"]
    )
    assert f"set by <@{ADMIN}>" in str(dm.params["text"])
    # an admin making themselves owner is not told what they just did
    result = slack.command("/ops", f"owner renewals <@{ADMIN}>", user=ADMIN)
    assert result.of("chat.postMessage") == []

    edited = SMALL_PLAYBOOK.replace(
        "owner: process:onboarding\n        due_days", "owner: U0CSM\n        due_days"
    ).replace(f"    owner: {OWNER}\n", "    owner: U0KPI\n")
    output = _import(cli_run, _write(tmp_path, edited))
    assert "2 new owner(s) told by DM" in output
    slack.deliver()
    [item_dm] = _dms_to(standin, "U0CSM")
    assert "the item *Kickoff call* of the checklist `customer-onboarding`" in item_dm
    assert "set by the playbook" in item_dm
    [kpi_dm] = _dms_to(standin, "U0KPI")
    assert "the KPI *Time to first value*" in kpi_dm


def test_start_up_resolves_e_mail_owners_and_refuses_an_unknown_one(
    deps: Deps, standin: SlackStandin, tmp_path: Path
) -> None:
    standin.add_user("U0DANA", "Dana", email="dana@example.com")
    path = _write(
        tmp_path, SMALL_PLAYBOOK.replace(f"owner: {OWNER}  # Dana", "owner: dana@example.com")
    )
    deps.settings = deps.settings.model_copy(update={"opsloop_playbook": path})
    summary = import_playbook_at_start(deps, team_id=TEAM)
    assert summary is not None and not summary.skipped
    assert _owner_of(deps, "onboarding") == "U0DANA"
    standin.clear()
    assert import_playbook_at_start(deps, team_id=TEAM).skipped  # type: ignore[union-attr]
    assert standin.calls("users.lookupByEmail") == []  # unchanged: Slack is not asked

    _write(tmp_path, SMALL_PLAYBOOK.replace(f"owner: {OWNER}  # Dana", "owner: gone@example.com"))
    with pytest.raises(OwnerLookupError, match="no Slack user has the e-mail address gone@"):
        import_playbook_at_start(deps, team_id=TEAM)
    assert _owner_of(deps, "onboarding") == "U0DANA"
