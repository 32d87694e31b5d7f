"""Import a validated playbook into the database, and export the current state as YAML.

Import is idempotent: processes and KPIs are matched by key and merged in place, admins
and per-team settings replaced, nothing is deleted (records may refer to old processes).
Each import keeps the file as imported (normalised, owners as user ids): the next import
merges three ways against it (`bot.playbook.merge`), so an owner, target or review set in
Slack survives an edit of something else in the file, and a field both changed takes the
file's value and is reported. At start (`apply_playbook_if_changed`) the playbook is
imported only when it differs from the last one imported for the team.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from bot import periods
from bot.checklists.templates import sync_templates
from bot.escalations.sla import DEFAULT_POLICY, SeverityPolicy, SeveritySla
from bot.escalations.slas import set_escalation_policy, set_severity_slas
from bot.ids import USER_ID_PATTERN, USER_ID_WORD, is_user_id
from bot.org import service as directory
from bot.org.models import DEFAULT_REVIEW_REMINDER_DAYS
from bot.org.people import get_people
from bot.org.service import new_owner_notice
from bot.org.team_settings import (
    CAPTURE_ESCALATE,
    CAPTURE_FEEDBACK,
    DEFAULT_CAPTURE_ESCALATE,
    DEFAULT_CAPTURE_FEEDBACK,
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
    REVIEW_REMINDER_DAYS,
    TEAM_TIMEZONE,
)
from bot.outbox.service import enqueue
from bot.playbook.merge import Override, merge_fields
from bot.playbook.schema import (
    EscalationPolicySpec,
    Playbook,
    PlaybookInvalidError,
    SlaSpec,
    parse_playbook,
)
from bot.slack.mrkdwn import escape
from storage import kpis as kpi_store
from storage import org
from storage.core import add_audit_entry
from storage.db import SessionFactory, transaction
from storage.models.kpis import Kpi
from storage.models.org import Process

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
    # Changes made in Slack since the last import that the file replaced (both changed).
    overrides: tuple[Override, ...] = ()
    new_owners_told: int = 0

    def describe(self) -> str:
        if self.skipped:
            return f"playbook unchanged since the last import for {self.team_id}; kept as is"
        text = (
            f"team {self.team_id}: processes {self.processes_created} new, "
            f"{self.processes_updated} updated; KPIs {self.kpis_created} new, "
            f"{self.kpis_updated} updated; checklist templates {self.templates_changed} "
            f"new or changed; {self.admins} admin(s)"
        )
        if self.new_owners_told:
            text += f"; {self.new_owners_told} new owner(s) told by DM"
        if self.overrides:
            text += (
                f"\nThe file overrode {len(self.overrides)} change(s) made in Slack since the "
                "last import (also in the audit log):"
            )
            text += "".join(f"\n  - {override.describe()}" for override in self.overrides)
        return text


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


def _reviewed_at(day: str | None) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(date.fromisoformat(day), time(0), tzinfo=UTC)


def _process_state(process: Process) -> dict[str, Any]:
    """A stored process in the playbook's JSON form, to merge against the files."""
    return {
        "name": process.name,
        "description": process.description,
        "owner": process.owner_id,
        "sop_url": process.sop_url,
        "review_every_days": process.review_every_days,
        "last_reviewed": process.last_reviewed_at.date().isoformat()
        if process.last_reviewed_at
        else None,
    }


def _kpi_state(kpi: Kpi) -> dict[str, Any]:
    return {
        "name": kpi.name,
        "description": kpi.description,
        "kind": kpi.kind,
        "unit": kpi.unit,
        "target": kpi.target,
        "direction": kpi.direction,
        "owner": kpi.owner_ref,
    }


def _by_key(snapshot: dict[str, Any] | None, section: str) -> dict[str, dict[str, Any]]:
    entries = (snapshot or {}).get(section) or []
    return {str(e.get("key")): e for e in entries if isinstance(e, dict)}


def _last_imported(session: Session, team_id: str) -> dict[str, Any] | None:
    stored = org.last_playbook_import(session, team_id=team_id)
    if stored is None:
        return None
    try:
        data = json.loads(stored)
    except ValueError:
        log.warning("the stored last import of %s is unreadable; the file wins", team_id)
        return None
    return data if isinstance(data, dict) else None


def _checklist_item_owners(checklists: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(template, item title) → owner, for the items owned by a person."""
    return {
        (str(c.get("name")), str(i.get("title"))): str(i.get("owner"))
        for c in checklists
        for i in c.get("items") or []
        if is_user_id(i.get("owner"))
    }


def import_playbook(
    sessions: SessionFactory,
    team_id: str,
    playbook: Playbook,
    now: datetime,
    *,
    actor_id: str = PLAYBOOK_ACTOR,
    fingerprint: str | None = None,
) -> ImportSummary:
    """Merge the playbook's processes, KPIs, admins and settings into the team's, in one go.

    Processes and KPIs merge three ways against the last imported file (see
    `bot.playbook.merge`), so owners, targets and reviews set in Slack since survive a file
    edit elsewhere; owners must already be user ids (`resolve_owner_emails`). Everyone who
    becomes the owner of a process, KPI or checklist item is told by DM, queued with the
    change. `fingerprint` is the file's as written (before e-mail owners were resolved).
    """
    counts = {"pc": 0, "pu": 0, "kc": 0, "ku": 0}
    overrides: list[Override] = []
    # Each new owner's things, so one import sends each of them one DM.
    newly_owned: dict[str, list[str]] = {}
    with transaction(sessions) as session:
        base = _last_imported(session, team_id)
        base_processes, base_kpis = _by_key(base, "processes"), _by_key(base, "kpis")
        previous_checklists = json.loads(
            org.get_team_setting(session, team_id=team_id, key=CHECKLISTS) or "[]"
        )
        settings = _settings_of(playbook, fingerprint)
        for key, value in settings.items():
            org.set_team_setting(session, team_id=team_id, key=key, value=value)
        org.set_admins(session, team_id=team_id, user_ids=list(playbook.admins))
        for spec in playbook.processes:
            existing = org.get_process(session, team_id=team_id, key=spec.key)
            process = org.add_or_get_process(session, team_id=team_id, key=spec.key, name=spec.name)
            merged, found = merge_fields(
                kind="process",
                key=spec.key,
                base=base_processes.get(spec.key),
                current=_process_state(existing) if existing is not None else None,
                new=spec.model_dump(mode="json", exclude={"key"}),
            )
            overrides += found
            if process.owner_id != merged["owner"]:
                add_audit_entry(
                    session,
                    team_id=team_id,
                    actor_id=actor_id,
                    action="process.owner_changed",
                    subject=spec.key,
                    at=now,
                    detail={"from": process.owner_id, "to": merged["owner"], "via": "playbook"},
                )
                if merged["owner"]:
                    what = f"the process *{escape(merged['name'])}* (`{escape(spec.key)}`)"
                    newly_owned.setdefault(merged["owner"], []).append(what)
            changed = _apply(
                process,
                {
                    "name": merged["name"],
                    "description": merged["description"],
                    "owner_id": merged["owner"],
                    "sop_url": merged["sop_url"],
                    "review_every_days": merged["review_every_days"],
                    "last_reviewed_at": _reviewed_at(merged["last_reviewed"]),
                },
            )
            counts["pu" if existing is not None else "pc"] += int(changed or existing is None)
        for kpi_spec in playbook.kpis:
            existing_kpi = kpi_store.get_kpi(session, team_id=team_id, key=kpi_spec.key)
            kpi = kpi_store.add_or_get_kpi(
                session, team_id=team_id, key=kpi_spec.key, name=kpi_spec.name
            )
            merged, found = merge_fields(
                kind="kpi",
                key=kpi_spec.key,
                base=base_kpis.get(kpi_spec.key),
                current=_kpi_state(existing_kpi) if existing_kpi is not None else None,
                new=kpi_spec.model_dump(mode="json", exclude={"key"}),
            )
            overrides += found
            owner = merged["owner"]
            if is_user_id(owner) and owner != kpi.owner_ref:
                what = f"the KPI *{escape(merged['name'])}* (`{escape(kpi_spec.key)}`)"
                newly_owned.setdefault(owner, []).append(what)
            changed = _apply(
                kpi,
                {
                    "name": merged["name"],
                    "description": merged["description"],
                    "unit": merged["unit"],
                    "target": merged["target"],
                    "direction": merged["direction"],
                    "owner_ref": owner,
                    "kind": merged["kind"],
                    # Not changed from Slack, so the file's value is the value.
                    "cadence": kpi_spec.cadence,
                    "min_value": kpi_spec.min,
                    "max_value": kpi_spec.max,
                },
            )
            counts["ku" if existing_kpi is not None else "kc"] += int(
                changed or existing_kpi is None
            )
        if "checklists" in playbook.model_fields_set:
            before = _checklist_item_owners(previous_checklists)
            after = _checklist_item_owners(json.loads(settings[CHECKLISTS]))
            for (template, title), owner in sorted(after.items()):
                if before.get((template, title)) != owner:
                    what = f"the item *{escape(title)}* of the checklist `{escape(template)}`"
                    newly_owned.setdefault(owner, []).append(what)
        for override in overrides:
            add_audit_entry(
                session,
                team_id=team_id,
                actor_id=actor_id,
                action="playbook.override",
                subject=f"{override.kind}:{override.key}",
                at=now,
                detail=override.detail(),
            )
        org.add_playbook_import(
            session,
            team_id=team_id,
            imported_at=now,
            actor_id=actor_id,
            snapshot=json.dumps(playbook.model_dump(mode="json"), ensure_ascii=False),
        )
        notices = [
            new_owner_notice(user_id=user_id, what=things, actor_id=actor_id)
            for user_id, things in newly_owned.items()
        ]
        enqueue(session, team_id=team_id, messages=notices, now=now)
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
        overrides=tuple(overrides),
        new_owners_told=len(notices),
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


def _settings_of(playbook: Playbook, fingerprint: str | None = None) -> dict[str, str]:
    settings = {
        PLAYBOOK_HASH: fingerprint or playbook_fingerprint(playbook),
        DIGEST_WEEKDAY: playbook.digest.weekday,
        DIGEST_TIME: playbook.digest.time,
        NUDGE_TIME: playbook.nudge.time,
        NUDGE_WEEKDAYS: ",".join(playbook.nudge.weekdays),
        NUDGE_THRESHOLD_DAYS: str(playbook.nudge.overdue_threshold_days),
        CAPTURE_FEEDBACK: ",".join(playbook.capture.feedback),
        CAPTURE_ESCALATE: ",".join(playbook.capture.escalate),
        REVIEW_REMINDER_DAYS: str(playbook.reviews.remind_days_before),
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
    sessions: SessionFactory,
    *,
    playbook: Playbook,
    team_id: str,
    now: datetime,
    resolve: Callable[[Playbook], Playbook] = lambda playbook: playbook,
) -> ImportSummary:
    """Import `playbook` for `team_id` unless it is the one last imported for the team.

    `resolve` turns owner e-mail addresses into user ids (it may ask Slack); it is only
    called when the file changed.
    """
    stored = directory.get_team_setting(sessions, team_id=team_id, key=PLAYBOOK_HASH)
    fingerprint = playbook_fingerprint(playbook)
    if stored == fingerprint:
        return ImportSummary(team_id, skipped=True)
    return import_playbook(sessions, team_id, resolve(playbook), now, fingerprint=fingerprint)


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
                    "cadence": k.cadence if k.cadence != "weekly" else None,
                    "min": _number(k.min_value),
                    "max": _number(k.max_value),
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
        data["capture"] = {
            "feedback": _emoji_list(get(CAPTURE_FEEDBACK), DEFAULT_CAPTURE_FEEDBACK),
            "escalate": _emoji_list(get(CAPTURE_ESCALATE), DEFAULT_CAPTURE_ESCALATE),
        }
        data["reviews"] = {
            "remind_days_before": int(get(REVIEW_REMINDER_DAYS) or DEFAULT_REVIEW_REMINDER_DAYS)
        }
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    user_ids = set(USER_ID_WORD.findall(text))
    names = get_people(sessions, team_id=team_id, user_ids=user_ids)
    header = "# Opsloop playbook, exported by `opsloop playbook export`; names are comments.\n"
    return header + _with_name_comments(
        text, {uid: info.display_name for uid, info in names.items()}
    )


def _emoji_list(stored: str | None, default: tuple[str, ...]) -> list[str]:
    if stored is None:
        return list(default)
    return [name for name in stored.split(",") if name]


def _number(value: float | None) -> float | int | None:
    return int(value) if value is not None and value.is_integer() else value


def _drop_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "")}


def _with_name_comments(text: str, names: dict[str, str]) -> str:
    def comment(match: re.Match[str]) -> str:
        name = " ".join(names.get(match.group(2), "").split())  # one line, whatever Slack says
        return match.group(0) + (f"  # {name}" if name else "")

    return re.sub(rf"^(\s*(?:- |owner: |- owner: ))({USER_ID_PATTERN})$", comment, text, flags=re.M)
