"""The playbook file: its pydantic schema, and parsing with file:line error messages.

`parse_playbook(text, source)` returns a validated `Playbook` or raises
`PlaybookInvalidError`, whose message lists every problem as `file:line: where: what`.
Checks pydantic cannot express per field (duplicate keys, owner references to processes
that do not exist) run after the schema, with the same line lookup.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.checklists.templates import ChecklistTemplateSpec
from bot.ids import is_channel_id, is_email, is_user_id
from bot.kpis.models import COMPUTED_KIND_UNITS, KPI_KINDS, MANUAL_KIND
from bot.kpis.parse import value_bounds
from bot.org.models import DEFAULT_REVIEW_REMINDER_DAYS
from bot.playbook.yaml_lines import LineMap, Path, YamlSyntaxError, load_with_lines
from bot.settings import SettingsError

KEY = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
PROCESS_REF = "process:"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WORKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday")
Key = Annotated[str, Field(pattern=KEY.pattern, description="lower-case slug")]


class PlaybookInvalidError(SettingsError):
    """The playbook file is broken; the message names file, line and problem for each error."""

    def __init__(self, source: str, problems: list[tuple[int, str]]) -> None:
        self.source = source
        self.problems = sorted(problems)
        lines = [f"{source}:{line}: {what}" for line, what in self.problems]
        super().__init__(f"the playbook {source} is invalid:\n" + "\n".join(lines))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _owner_ref(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if is_user_id(value) or is_email(value) or value.startswith(PROCESS_REF):
        return value
    raise ValueError(
        f"{value!r} is not a Slack user id (like U0123ABCD), an e-mail address or a "
        "process:<key> reference"
    )


def _clock_time(value: Any) -> Any:
    # YAML 1.1 reads an unquoted 10:00 as the base-60 integer 600; turn it back into 10:00.
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value // 60:02d}:{value % 60:02d}"
    if isinstance(value, str) and re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value.strip()):
        hours, minutes = value.strip().split(":")
        return f"{int(hours):02d}:{minutes}"
    raise ValueError(f"{value!r} is not a time of day like 09:00")


class Channels(_Strict):
    escalations: str | None = None
    digest: str | None = None
    feedback: str | None = None

    @field_validator("escalations", "digest", "feedback")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and not is_channel_id(value):
            raise ValueError(f"{value!r} is not a Slack channel id (like C0123ABCD)")
        return value


class ProcessSpec(_Strict):
    key: Key
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    owner: str | None = None
    sop_url: str | None = None
    review_every_days: int = Field(default=90, ge=1, le=3650)
    last_reviewed: date | None = None

    @field_validator("owner")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        if value is not None and value != "" and not (is_user_id(value) or is_email(value)):
            raise ValueError(
                f"{value!r} is not a Slack user id (like U0123ABCD) or an e-mail address"
            )
        return value or None

    @field_validator("sop_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("an SOP link must start with https://")
        return value or None


class KpiSpec(_Strict):
    key: Key
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    kind: str = MANUAL_KIND
    # after `kind`, so the unit check can see it: a computed kind fixes the unit
    unit: str = Field(default="", max_length=32, validate_default=True)
    target: float | None = Field(default=None, allow_inf_nan=False)
    direction: Literal["higher", "lower"] = "higher"
    owner: str | None = None
    # `monthly`: owed, nudged and shown once a month instead of every week
    cadence: Literal["weekly", "monthly"] = "weekly"
    # bounds of a value and the target (default: 0..100 for %, -100..100 for NPS)
    min: float | None = Field(default=None, allow_inf_nan=False)
    max: float | None = Field(default=None, allow_inf_nan=False)

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str | None) -> str | None:
        return _owner_ref(value)

    @model_validator(mode="after")
    def _target_within_bounds(self) -> KpiSpec:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(f"min ({self.min:g}) must be below max ({self.max:g})")
        bounds = value_bounds(
            unit=self.unit, kind=self.kind, min_value=self.min, max_value=self.max
        )
        if self.target is None or bounds is None:
            return self
        if (bounds.low is not None and self.target < bounds.low) or (
            bounds.high is not None and self.target > bounds.high
        ):
            raise ValueError(
                f"target {self.target:g} is outside what this KPI can be ({bounds.what}: "
                f"{bounds.describe()}); set min/max if it really can"
            )
        return self

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in KPI_KINDS:
            raise ValueError(f"unknown KPI kind {value!r}; choose one of: {', '.join(KPI_KINDS)}")
        return value

    @field_validator("unit")
    @classmethod
    def _unit_of_kind(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        expected = COMPUTED_KIND_UNITS.get(kind) if isinstance(kind, str) else None
        if expected is None:
            return value
        if value and value != expected:
            raise ValueError(
                f"a {kind} KPI is computed in {expected}; remove unit or write {expected}"
            )
        return expected


class SlaSpec(_Strict):
    ack_minutes: int = Field(gt=0)
    resolve_minutes: int = Field(gt=0)

    @model_validator(mode="after")
    def _ack_before_resolve(self) -> SlaSpec:
        if self.ack_minutes > self.resolve_minutes:
            raise ValueError("ack_minutes must not be longer than resolve_minutes")
        return self


class EscalationPolicySpec(_Strict):
    """Who is brought in when a severity's SLA clock is breached and still running.

    Minutes count from the deadline (the owner is told at once). A field left out keeps the
    severity's default; `null` never brings that level in.
    """

    process_owner_after_minutes: int | None = Field(default=None, ge=0, le=525_600)
    admins_after_minutes: int | None = Field(default=None, ge=0, le=525_600)
    weekdays_only: bool | None = None


class Sev1PolicySpec(EscalationPolicySpec):
    @field_validator("weekdays_only")
    @classmethod
    def _never_waits(cls, value: bool | None) -> bool | None:
        if value:
            raise ValueError("a SEV1 never waits for a weekday: remove weekdays_only")
        return value


class EscalationPolicyBlock(_Strict):
    """`escalation_policy:` — the severities the file sets (the others keep the defaults)."""

    sev1: Sev1PolicySpec | None = None
    sev2: EscalationPolicySpec | None = None
    sev3: EscalationPolicySpec | None = None
    sev4: EscalationPolicySpec | None = None

    def items(self) -> list[tuple[str, EscalationPolicySpec]]:
        """(severity, its policy) for every severity the file sets."""
        return [
            (severity, spec)
            for severity in SEVERITIES
            if (spec := getattr(self, severity)) is not None
        ]


class DigestSchedule(_Strict):
    weekday: Weekday = "monday"
    time: str = "09:00"

    @field_validator("time", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        return _clock_time(value)


class NudgeSchedule(_Strict):
    time: str = "10:00"
    weekdays: list[Weekday] = Field(
        default_factory=lambda: list(WORKDAYS),
        min_length=1,
    )
    overdue_threshold_days: int = Field(default=3, ge=1, le=365)

    @field_validator("time", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        return _clock_time(value)


EMOJI_NAME = re.compile(r"^[a-z0-9_+'-]{1,100}$")


def _emoji_names(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    names = []
    for item in value:
        name = str(item).strip().strip(":").lower() if isinstance(item, str) else item
        if not isinstance(name, str) or not EMOJI_NAME.fullmatch(name):
            raise ValueError(
                f"{item!r} is not an emoji name like memo or :rotating_light: "
                "(letters, digits, _ + - ')"
            )
        names.append(name)
    return list(dict.fromkeys(names))


class CaptureSpec(_Strict):
    """Which reactions capture a message: as feedback, or as an offer to escalate it. An
    empty list turns that capture off."""

    feedback: list[str] = Field(default_factory=lambda: ["memo"])
    escalate: list[str] = Field(default_factory=lambda: ["rotating_light"])

    @field_validator("feedback", "escalate", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return _emoji_names(value)

    @model_validator(mode="after")
    def _distinct(self) -> CaptureSpec:
        both = sorted(set(self.feedback) & set(self.escalate))
        if both:
            raise ValueError(
                f"{', '.join(both)} cannot both log feedback and offer an escalation: "
                "use a different emoji for each"
            )
        return self


class ReviewSettings(_Strict):
    # Process owners are reminded this many days before an SOP review falls due.
    remind_days_before: int = Field(default=DEFAULT_REVIEW_REMINDER_DAYS, ge=0, le=365)


class Playbook(_Strict):
    """A team's operating model as written in the playbook file."""

    version: Literal[1] = 1
    timezone: str | None = None
    channels: Channels = Field(default_factory=Channels)
    admins: list[str] = Field(default_factory=list)
    processes: list[ProcessSpec] = Field(default_factory=list)
    kpis: list[KpiSpec] = Field(default_factory=list)
    # the checklist capability's own template schema, so both always accept the same YAML
    checklists: list[ChecklistTemplateSpec] = Field(default_factory=list)
    severity_slas: dict[Literal["sev1", "sev2", "sev3", "sev4"], SlaSpec] = Field(
        default_factory=dict
    )
    escalation_policy: EscalationPolicyBlock = Field(default_factory=EscalationPolicyBlock)
    digest: DigestSchedule = Field(default_factory=DigestSchedule)
    nudge: NudgeSchedule = Field(default_factory=NudgeSchedule)
    capture: CaptureSpec = Field(default_factory=CaptureSpec)
    reviews: ReviewSettings = Field(default_factory=ReviewSettings)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA timezone like Europe/Berlin") from None
        return value

    @field_validator("admins")
    @classmethod
    def _admin_ids(cls, value: list[str]) -> list[str]:
        for user in value:
            if not is_user_id(user):
                raise ValueError(f"{user!r} is not a Slack user id (like U0123ABCD)")
        return value


def parse_playbook(text: str, source: str = "playbook") -> Playbook:
    """Validate playbook YAML; raise `PlaybookInvalidError` naming file and line per problem."""
    try:
        data, line_map = load_with_lines(text)
    except YamlSyntaxError as exc:
        raise PlaybookInvalidError(source, [(exc.line, f"not valid YAML: {exc.message}")]) from None
    problems = [
        (line, f"{_where(path)}: {path[-1]!s} appears twice") for path, line in line_map.duplicates
    ]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PlaybookInvalidError(source, [(1, "the playbook must be a mapping (key: value)")])
    # Cross-references are checked on the raw data, so they are reported together with
    # schema errors rather than only once those are fixed.
    problems += _cross_check(data, line_map)
    try:
        playbook = Playbook.model_validate(data)
    except ValidationError as exc:
        problems += [_problem(error, line_map) for error in exc.errors()]
    if problems:
        raise PlaybookInvalidError(source, problems)
    return playbook


def _where(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "top level"


def _problem(error: Any, line_map: LineMap) -> tuple[int, str]:
    path: Path = tuple(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    message = message.replace("Input should be", "must be")
    if path and path[-1] == "[key]":
        path = path[:-1]
        message = f"{path[-1]!r} is not allowed here: {message}"
    elif error["type"] == "missing":
        message = f"{path[-1]} is required"
    elif error["type"] == "extra_forbidden":
        message = f"unknown setting {path[-1]!r} (check the spelling)"
    elif error["type"] == "literal_error":
        message = f"{error.get('input')!r} is not allowed: {message}"
    return line_map.line_of(path), f"{_where(path)}: {message}"


def _entries(data: dict[str, Any], section: str) -> list[tuple[int, dict[str, Any]]]:
    items = data.get(section)
    if not isinstance(items, list):
        return []
    return [(index, item) for index, item in enumerate(items) if isinstance(item, dict)]


def _cross_check(data: dict[str, Any], line_map: LineMap) -> list[tuple[int, str]]:
    problems: list[tuple[int, str]] = []

    def report(path: Path, message: str) -> None:
        problems.append((line_map.line_of(path), f"{_where(path)}: {message}"))

    for section, field, noun in (
        ("processes", "key", "process"),
        ("kpis", "key", "KPI"),
        ("checklists", "name", "checklist"),
    ):
        first: dict[str, int] = {}
        for index, item in _entries(data, section):
            key = str(item.get(field, ""))
            if key and key in first:
                earlier = line_map.line_of((section, first[key]))
                report(
                    (section, index, field),
                    f"duplicate {noun} {key!r} (first defined on line {earlier})",
                )
            elif key:
                first[key] = index
    process_keys = {str(item.get("key")) for _, item in _entries(data, "processes")}

    def check_ref(path: Path, ref: Any) -> None:
        if not isinstance(ref, str) or not ref.startswith(PROCESS_REF):
            return
        if ref[len(PROCESS_REF) :] not in process_keys:
            known = ", ".join(sorted(process_keys)) or "none defined"
            report(path, f"unknown owner {ref!r}: no process has that key (processes: {known})")

    for index, kpi in _entries(data, "kpis"):
        check_ref(("kpis", index, "owner"), kpi.get("owner"))
    for c_index, checklist in _entries(data, "checklists"):
        for i_index, item in _entries(checklist, "items"):
            check_ref(("checklists", c_index, "items", i_index, "owner"), item.get("owner"))
    return problems
