"""Import a validated playbook into the database, and export the current state as YAML.

Import is idempotent: processes and KPIs are matched by key and updated in place, admins
and per-team settings replaced, nothing is deleted (records may refer to old processes).
At start (`apply_playbook_if_changed`) the playbook is imported only when it differs from the
last one imported for the team, so owners and targets changed from Slack since are kept
until the file itself changes; `opsloop playbook import` always applies the file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from bot import periods
from bot.checklists.templates import sync_templates
from bot.escalations.sla import DEFAULT_POLICY, SeverityPolicy, SeveritySla
from bot.escalations.slas import set_escalation_policy, set_severity_slas
from bot.ids import USER_ID_PATTERN, USER_ID_WORD
from bot.org import service as directory
from bot.org.people import get_people
from bot.org.team_settings import (
    DEFAULT_DIGEST_TIME,
    DEFAULT_DIGEST_WEEKDAY,
    DEFAULT_NUDGE_THRESHOLD_DAYS,
    DEFAULT_NUDGE_TIME,
    DEFAULT_NUDGE_WEEKDAYS,
    DIGEST_CHANNEL,
    DIGEST_TIME,
    DIGEST_WEEKDAY,
    ESCALATIONS_CHANNEL,
    FEEDBACK_CHANNEL,
    NUDGE_THRESHOLD_DAYS,
    NUDGE_TIME,
    NUDGE_WEEKDAYS,
    PLAYBOOK_HASH,
    TEAM_TIMEZONE,
)
from bot.playbook.schema import (
    EscalationPolicySpec,
    Playbook,
    PlaybookInvalidError,
    SlaSpec,
    parse_playbook,
)
from storage import kpis as kpi_store
from storage import org
from storage.core import add_audit_entry
from storage.db import SessionFactory, transaction

log = logging.getLogger(__name__)

CHECKLISTS = "playbook.checklists"
SEVERITY_SLAS = "playbook.severity_slas"
ESCALATION_POLICY = "playbook.escalation_policy"
PLAYBOOK_ACTOR = "playbook"


@dataclass(frozen=True)
class ImportSummary:
    team_id: str
    processes_created: int = 0
    processes_updated: int = 0
    kpis_created: int = 0
    kpis_updated: int = 0
    admins: int = 0
    templates_changed: int = 0
    skipped: bool = False

    def describe(self) -> str:
        if self.skipped:
            return f"playbook unchanged since the last import for {self.team_id}; kept as is"
        return (
            f"team {self.team_id}: processes {self.processes_created} new, "
            f"{self.processes_updated} updated; KPIs {self.kpis_created} new, "
            f"{self.kpis_updated} updated; checklist templates {self.templates_changed} "
            f"new or changed; {self.admins} admin(s)"
        )


def load_playbook_file(path: Path) -> Playbook:
    """Read and validate a playbook file; `PlaybookInvalidError` names file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookInvalidError(str(path), [(1, f"cannot read the file: {exc}")]) from None
    return parse_playbook(text, str(path))


def playbook_fingerprint(playbook: Playbook) -> str:
    """A hash of the playbook's content (comments and layout do not count)."""
    return hashlib.sha256(playbook.model_dump_json().encode()).hexdigest()


def _reviewed_at(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(0), tzinfo=UTC)


def import_playbook(
    sessions: SessionFactory,
    team_id: str,
    playbook: Playbook,
    now: datetime,
    *,
    actor_id: str = PLAYBOOK_ACTOR,
) -> ImportSummary:
    """Write the playbook's processes, KPIs, admins and settings for a team, in one go."""
    counts = {"pc": 0, "pu": 0, "kc": 0, "ku": 0}
    with transaction(sessions) as session:
        settings = _settings_of(playbook)
        for key, value in settings.items():
            org.set_team_setting(session, team_id=team_id, key=key, value=value)
        org.set_admins(session, team_id=team_id, user_ids=list(playbook.admins))
        for spec in playbook.processes:
            existed = org.get_process(session, team_id=team_id, key=spec.key) is not None
            process = org.add_or_get_process(session, team_id=team_id, key=spec.key, name=spec.name)
            if process.owner_id != spec.owner:
                add_audit_entry(
                    session,
                    team_id=team_id,
                    actor_id=actor_id,
                    action="process.owner_changed",
                    subject=spec.key,
                    at=now,
                    detail={"from": process.owner_id, "to": spec.owner, "via": "playbook"},
                )
            changed = _apply(
                process,
                {
                    "name": spec.name,
                    "description": spec.description,
                    "owner_id": spec.owner,
                    "sop_url": spec.sop_url,
                    "review_every_days": spec.review_every_days,
                    "last_reviewed_at": _reviewed_at(spec.last_reviewed),
                },
            )
            counts["pu" if existed else "pc"] += int(changed or not existed)
        for kpi_spec in playbook.kpis:
            existed = kpi_store.get_kpi(session, team_id=team_id, key=kpi_spec.key) is not None
            kpi = kpi_store.add_or_get_kpi(
                session, team_id=team_id, key=kpi_spec.key, name=kpi_spec.name
            )
            changed = _apply(
                kpi,
                {
                    "name": kpi_spec.name,
                    "description": kpi_spec.description,
                    "unit": kpi_spec.unit,
                    "target": kpi_spec.target,
                    "direction": kpi_spec.direction,
                    "owner_ref": kpi_spec.owner,
                    "kind": kpi_spec.kind,
                },
            )
            counts["ku" if existed else "kc"] += int(changed or not existed)
    if playbook.severity_slas:
        # The escalation capability's SLA table is what opening an escalation reads.
        set_severity_slas(
            sessions,
            team_id=team_id,
            slas={
                severity: SeveritySla(
                    ack_within=timedelta(minutes=spec.ack_minutes),
                    resolve_within=timedelta(minutes=spec.resolve_minutes),
                )
                for severity, spec in playbook.severity_slas.items()
            },
        )
    # Always written: a severity the file no longer lists goes back to its default.
    set_escalation_policy(
        sessions,
        team_id=team_id,
        policies={
            severity: _severity_policy(severity, spec)
            for severity, spec in playbook.escalation_policy.items()
        },
    )
    templates_changed = 0
    if "checklists" in playbook.model_fields_set:
        # Only a playbook that lists checklists manages them: templates it drops are retired.
        synced = sync_templates(sessions, team_id=team_id, specs=playbook.checklists, now=now)
        templates_changed = len(synced.created) + len(synced.updated)
    return ImportSummary(
        team_id,
        templates_changed=templates_changed,
        processes_created=counts["pc"],
        processes_updated=counts["pu"],
        kpis_created=counts["kc"],
        kpis_updated=counts["ku"],
        admins=len(playbook.admins),
    )


def _severity_policy(severity: str, spec: EscalationPolicySpec) -> SeverityPolicy:
    """The file's policy of one severity over its default (a field left out keeps it)."""
    default = DEFAULT_POLICY.for_severity(severity)
    given = spec.model_fields_set
    changes: dict[str, Any] = {}
    for field, name in (
        ("process_owner_after_minutes", "process_owner_after"),
        ("admins_after_minutes", "admins_after"),
    ):
        if field in given:
            minutes = getattr(spec, field)
            changes[name] = None if minutes is None else timedelta(minutes=minutes)
    if spec.weekdays_only is not None:
        changes["weekdays_only"] = spec.weekdays_only
    return default.model_copy(update=changes)


def _apply(row: object, wanted: dict[str, Any]) -> bool:
    """Set `wanted` attributes on a row; True when any of them changed."""
    changed = any(getattr(row, name) != value for name, value in wanted.items())
    for name, value in wanted.items():
        setattr(row, name, value)
    return changed


def _settings_of(playbook: Playbook) -> dict[str, str]:
    settings = {
        PLAYBOOK_HASH: playbook_fingerprint(playbook),
        DIGEST_WEEKDAY: playbook.digest.weekday,
        DIGEST_TIME: playbook.digest.time,
        NUDGE_TIME: playbook.nudge.time,
        NUDGE_WEEKDAYS: ",".join(playbook.nudge.weekdays),
        NUDGE_THRESHOLD_DAYS: str(playbook.nudge.overdue_threshold_days),
        # Kept as the playbook wrote them, so export writes them back unchanged (templates
        # are also synced into the checklist capability's versioned tables).
        CHECKLISTS: json.dumps(
            [c.model_dump(mode="json", exclude_none=True) for c in playbook.checklists]
        ),
        SEVERITY_SLAS: json.dumps(
            {sev: sla.model_dump(mode="json") for sev, sla in playbook.severity_slas.items()}
        ),
        ESCALATION_POLICY: json.dumps(
            {
                sev: spec.model_dump(mode="json", exclude_unset=True)
                for sev, spec in playbook.escalation_policy.items()
            }
        ),
    }
    if playbook.timezone:
        settings[TEAM_TIMEZONE] = playbook.timezone
    for name, key in (
        ("escalations", ESCALATIONS_CHANNEL),
        ("digest", DIGEST_CHANNEL),
        ("feedback", FEEDBACK_CHANNEL),
    ):
        channel = getattr(playbook.channels, name)
        if channel:
            settings[key] = channel
    return settings


def get_severity_slas(sessions: SessionFactory, *, team_id: str) -> dict[str, SlaSpec]:
    """The severity SLAs of the last imported playbook (`sev1` → ack/resolve minutes)."""
    stored = directory.get_team_setting(sessions, team_id=team_id, key=SEVERITY_SLAS)
    return {sev: SlaSpec.model_validate(sla) for sev, sla in json.loads(stored or "{}").items()}


def apply_playbook_if_changed(
    sessions: SessionFactory, *, playbook: Playbook, team_id: str, now: datetime
) -> ImportSummary:
    """Import `playbook` for `team_id` unless it is the one last imported for the team."""
    stored = directory.get_team_setting(sessions, team_id=team_id, key=PLAYBOOK_HASH)
    if stored == playbook_fingerprint(playbook):
        return ImportSummary(team_id, skipped=True)
    return import_playbook(sessions, team_id, playbook, now)


def export_playbook(sessions: SessionFactory, *, team_id: str) -> str:
    """The team's current operating model as playbook YAML (names as comments)."""
    with transaction(sessions) as session:

        def get(key: str) -> str | None:
            return org.get_team_setting(session, team_id=team_id, key=key)

        data: dict[str, Any] = {"version": 1}
        if get(TEAM_TIMEZONE):
            data["timezone"] = get(TEAM_TIMEZONE)
        channels = {
            name: get(key)
            for name, key in (
                ("escalations", ESCALATIONS_CHANNEL),
                ("digest", DIGEST_CHANNEL),
                ("feedback", FEEDBACK_CHANNEL),
            )
            if get(key)
        }
        if channels:
            data["channels"] = channels
        data["admins"] = org.list_admins(session, team_id=team_id)
        data["processes"] = [
            _drop_empty(
                {
                    "key": p.key,
                    "name": p.name,
                    "description": p.description,
                    "owner": p.owner_id,
                    "sop_url": p.sop_url,
                    "review_every_days": p.review_every_days,
                    "last_reviewed": p.last_reviewed_at.date() if p.last_reviewed_at else None,
                }
            )
            for p in org.list_processes(session, team_id=team_id)
        ]
        data["kpis"] = [
            _drop_empty(
                {
                    "key": k.key,
                    "name": k.name,
                    "description": k.description,
                    "kind": k.kind,
                    "unit": k.unit,
                    "target": _number(k.target),
                    "direction": k.direction,
                    "owner": k.owner_ref,
                }
            )
            for k in kpi_store.list_kpis(session, team_id=team_id)
        ]
        data["checklists"] = json.loads(get(CHECKLISTS) or "[]")
        data["severity_slas"] = json.loads(get(SEVERITY_SLAS) or "{}")
        policy = json.loads(get(ESCALATION_POLICY) or "{}")
        if policy:
            data["escalation_policy"] = policy
        data["digest"] = {
            "weekday": get(DIGEST_WEEKDAY) or periods.WEEKDAYS[DEFAULT_DIGEST_WEEKDAY],
            "time": get(DIGEST_TIME) or f"{DEFAULT_DIGEST_TIME:%H:%M}",
        }
        nudge_days = get(NUDGE_WEEKDAYS)
        data["nudge"] = {
            "time": get(NUDGE_TIME) or f"{DEFAULT_NUDGE_TIME:%H:%M}",
            "weekdays": nudge_days.split(",")
            if nudge_days
            else [periods.WEEKDAYS[day] for day in DEFAULT_NUDGE_WEEKDAYS],
            "overdue_threshold_days": int(
                get(NUDGE_THRESHOLD_DAYS) or DEFAULT_NUDGE_THRESHOLD_DAYS
            ),
        }
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    user_ids = set(USER_ID_WORD.findall(text))
    names = get_people(sessions, team_id=team_id, user_ids=user_ids)
    header = "# Opsloop playbook, exported by `opsloop playbook export`; names are comments.\n"
    return header + _with_name_comments(
        text, {uid: info.display_name for uid, info in names.items()}
    )


def _number(value: float | None) -> float | int | None:
    return int(value) if value is not None and value.is_integer() else value


def _drop_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "")}


def _with_name_comments(text: str, names: dict[str, str]) -> str:
    def comment(match: re.Match[str]) -> str:
        name = " ".join(names.get(match.group(2), "").split())  # one line, whatever Slack says
        return match.group(0) + (f"  # {name}" if name else "")

    return re.sub(rf"^(\s*(?:- |owner: |- owner: ))({USER_ID_PATTERN})$", comment, text, flags=re.M)
