"""The three-way merge of a playbook import: the last imported file (the base), the state as
changed in Slack since (current) and the new file.

Per field: a field the file did not change keeps what Slack set; a field only the file
changed takes the file's value; a field both changed takes the file's value and is
reported as an `Override`, so the import can say which Slack-made change it replaced.
Values are compared in the playbook's own JSON form (owners as user ids, dates as
`2026-10-01`, numbers as floats where the schema says float).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Override:
    """A change made in Slack that the new file replaced."""

    kind: str  # "process", "kpi"
    key: str
    field: str
    base: Any  # what the last imported file said
    slack: Any  # what Slack had changed it to
    file: Any  # what the new file says, and the field now holds

    def describe(self) -> str:
        return (
            f"{self.kind} {self.key}: {self.field} {_shown(self.slack)} (set in Slack) "
            f"replaced by the file's {_shown(self.file)} (the last imported file had "
            f"{_shown(self.base)})"
        )

    def detail(self) -> dict[str, Any]:
        """The audit log's record of it."""
        return {"field": self.field, "base": self.base, "slack": self.slack, "file": self.file}


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def merge_fields(
    *,
    kind: str,
    key: str,
    base: Mapping[str, Any] | None,
    current: Mapping[str, Any] | None,
    new: Mapping[str, Any],
) -> tuple[dict[str, Any], list[Override]]:
    """The values to store for one record, and the Slack changes the file overrode.

    Without a base (the record was never imported, or nothing was imported since Opsloop
    kept the imported file) or without a current record (new), the file's values apply.
    """
    if base is None or current is None:
        return dict(new), []
    merged: dict[str, Any] = {}
    overrides: list[Override] = []
    for field, file_value in new.items():
        base_value, slack_value = base.get(field), current.get(field)
        if file_value == base_value:
            merged[field] = slack_value  # the file left it alone: Slack's value stays
            continue
        merged[field] = file_value
        if slack_value != base_value and slack_value != file_value:
            overrides.append(Override(kind, key, field, base_value, slack_value, file_value))
    return merged, overrides
