"""Checklist templates: the YAML shape (shared with the playbook) and versioned storage.

A template is stored as a new version whenever its content changes; runs copy the items
they were started from, so editing a template never changes a run already under way.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.checklists.models import TemplateSummary
from bot.errors import UserError
from bot.ids import is_email, is_user_id
from storage import checklists as store
from storage.db import SessionFactory, transaction

# One message holds at most 50 blocks; 60 items (6 checkbox groups of 10) leave room for
# the header, progress and help lines.
MAX_ITEMS = 60
STARTER = "starter"
PROCESS_PREFIX = "process:"
_PROCESS_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ChecklistItemSpec(BaseModel):
    """One item of a template: what, who (user id, `process:<key>` or `starter`; in a
    playbook also an e-mail address, resolved to a user id at import), when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=200)
    owner: str = STARTER
    due_days: int = Field(default=0, ge=0, le=3650, strict=True)
    help_url: str | None = None
    # Count `due_days` in working days (Monday to Friday); unset: the template's setting.
    business_days: bool | None = None

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("title must not be empty")
        return value.strip()

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str) -> str:
        value = value.strip()
        if value == STARTER or is_user_id(value) or is_email(value):
            return value
        if value.startswith(PROCESS_PREFIX) and _PROCESS_KEY.match(value[len(PROCESS_PREFIX) :]):
            return value
        raise ValueError(
            f"owner {value!r} must be a Slack user id (U…), an e-mail address, "
            "`process:<key>` or `starter`"
        )

    @field_validator("help_url")
    @classmethod
    def _help_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^\s<>|]+$", value):
            raise ValueError("help_url must be an http(s) link without spaces, <, > or |")
        return value


class ChecklistTemplateSpec(BaseModel):
    """A template as written in YAML: name (one word, used in `/checklist start`), items."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    title: str | None = Field(default=None, max_length=120)
    description: str = Field(default="", max_length=1000)
    # Every item's `due_days` counts working days only (an item may say otherwise).
    business_days: bool = False
    items: list[ChecklistItemSpec]

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _TEMPLATE_NAME.match(value):
            raise ValueError(
                "name must be one word of letters, digits, '-', '_' or '.' (e.g. onboarding)"
            )
        return value.lower()

    @field_validator("items")
    @classmethod
    def _items(cls, value: list[ChecklistItemSpec]) -> list[ChecklistItemSpec]:
        if not value:
            raise ValueError("a checklist needs at least one item")
        if len(value) > MAX_ITEMS:
            raise ValueError(f"a checklist can have at most {MAX_ITEMS} items, not {len(value)}")
        return value

    @property
    def display_title(self) -> str:
        return self.title or self.name

    def fingerprint(self) -> str:
        """A hash of the content; a new version is stored only when it changes."""
        data = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(data.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SyncResult:
    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    retired: tuple[str, ...]


def describe_errors(error: ValidationError, entry: Any, *, position: int) -> str:
    """Pydantic errors as lines naming the template and the item, e.g. `'onboarding', item 3`."""
    name = entry.get("name") if isinstance(entry, dict) else None
    label_base = f"template {name!r}" if name else f"template #{position + 1}"
    lines = []
    for problem in error.errors():
        loc = list(problem["loc"])
        label = label_base
        if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
            label += f", item {loc[1] + 1}"
            loc = loc[2:]
        field = ".".join(str(part) for part in loc)
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"{label}{' ' + field if field else ''}: {message}")
    return "\n".join(lines)


def parse_template_specs(raw: Any, *, where: str = "checklists") -> list[ChecklistTemplateSpec]:
    """Validate a list of template mappings; UserError names the template and item."""
    if not isinstance(raw, list):
        raise UserError(f"{where}: expected a list of checklist templates")
    specs: list[ChecklistTemplateSpec] = []
    problems: list[str] = []
    for index, entry in enumerate(raw):
        try:
            specs.append(ChecklistTemplateSpec.model_validate(entry))
        except ValidationError as exc:
            problems.append(describe_errors(exc, entry, position=index))
    names = [spec.name for spec in specs]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"template {name!r}: the name is used more than once")
    if problems:
        raise UserError(f"Invalid checklist templates in {where}:\n" + "\n".join(problems))
    return specs


def load_template_specs(path: Path | str) -> list[ChecklistTemplateSpec]:
    """Read `{checklists: [...]}` from a YAML file and validate every template."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"{path}: cannot read checklist templates ({exc})") from exc
    if not isinstance(data, dict) or "checklists" not in data:
        raise UserError(f"{path}: expected a mapping with a `checklists:` list")
    return parse_template_specs(data["checklists"], where=str(path))


def sync_templates(
    sessions: SessionFactory,
    *,
    team_id: str,
    specs: Sequence[ChecklistTemplateSpec],
    now: datetime,
) -> SyncResult:
    """Store `specs` as the team's templates; a changed template gets a new version."""
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    with transaction(sessions) as session:
        current = {t.name: t for t in store.list_current_templates(session, team_id=team_id)}
        for spec in specs:
            existing = current.pop(spec.name, None)
            fingerprint = spec.fingerprint()
            if existing is not None and existing.fingerprint == fingerprint:
                unchanged.append(spec.name)
                continue
            version = store.next_template_version(session, team_id=team_id, name=spec.name)
            if existing is not None:
                existing.is_current = False
            store.add_template_version(
                session,
                team_id=team_id,
                name=spec.name,
                title=spec.display_title,
                description=spec.description,
                items=[_stored_item(spec, item) for item in spec.items],
                fingerprint=fingerprint,
                version=version,
                created_at=now,
            )
            (updated if version > 1 else created).append(spec.name)
        # Templates no longer in the file stop being offered; their runs keep their snapshot.
        for retired in current.values():
            retired.is_current = False
    return SyncResult(
        tuple(created), tuple(updated), tuple(unchanged), tuple(t.name for t in current.values())
    )


def _stored_item(template: ChecklistTemplateSpec, item: ChecklistItemSpec) -> dict[str, Any]:
    """An item as a run's snapshot keeps it: with the working-days rule it follows."""
    stored = item.model_dump(mode="json", exclude={"business_days"})
    business_days = template.business_days if item.business_days is None else item.business_days
    if business_days:
        stored["business_days"] = True
    return stored


def list_templates(sessions: SessionFactory, *, team_id: str) -> list[TemplateSummary]:
    """The templates a team can start, by name, with their item counts."""
    with transaction(sessions) as session:
        return [
            TemplateSummary(t.name, t.title, t.description, t.version, len(t.items))
            for t in store.list_current_templates(session, team_id=team_id)
        ]
