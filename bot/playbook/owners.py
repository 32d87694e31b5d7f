"""Owners written as e-mail addresses in the playbook, resolved to Slack user ids.

The lookup is a port (`LookupEmail`; the Slack adapter is `bot.org.messages`), asked once
per address before anything is written: an unknown address or an unreachable Slack stops
the import whole, with one line naming every address that failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.ids import is_email
from bot.playbook.schema import Playbook
from bot.settings import SettingsError

# email -> user id, None when no Slack user has it; raises `OwnerLookupError` when Slack
# cannot answer.
LookupEmail = Callable[[str], str | None]


class OwnerLookupError(SettingsError):
    """An owner's e-mail address could not be resolved; nothing was imported."""


def _owner_emails(playbook: Playbook) -> dict[str, list[str]]:
    """Each e-mail address the playbook names as an owner → where it does (for messages)."""
    found: dict[str, list[str]] = {}

    def note(owner: str | None, where: str) -> None:
        if owner and is_email(owner):
            found.setdefault(owner, []).append(where)

    for process in playbook.processes:
        note(process.owner, f"process {process.key}")
    for kpi in playbook.kpis:
        note(kpi.owner, f"KPI {kpi.key}")
    for checklist in playbook.checklists:
        for item in checklist.items:
            note(item.owner, f"checklist {checklist.name} item {item.title!r}")
    return found


def resolve_owner_emails(playbook: Playbook, lookup: LookupEmail, *, source: str) -> Playbook:
    """`playbook` with every owner e-mail address replaced by its Slack user id."""
    emails = _owner_emails(playbook)
    if not emails:
        return playbook
    resolved: dict[str, str] = {}
    unknown: list[str] = []
    for email, places in emails.items():
        try:
            user_id = lookup(email)
        except OwnerLookupError as exc:
            raise OwnerLookupError(
                f"{source}: cannot look up the owner {email} ({places[0]}) in Slack: {exc}; "
                "nothing was imported"
            ) from None
        if user_id is None:
            unknown.append(f"{email} ({', '.join(places)})")
        else:
            resolved[email] = user_id
    if unknown:
        raise OwnerLookupError(
            f"{source}: no Slack user has the e-mail address {'; '.join(unknown)}; "
            "nothing was imported"
        )

    def swap(owner: Any) -> Any:
        return resolved.get(owner, owner) if isinstance(owner, str) else owner

    # Only what the file set is dumped: whether it names `checklists:` at all decides if
    # the import manages templates, and that must survive the round trip.
    data = playbook.model_dump(include=set(playbook.model_fields_set))
    for section in ("processes", "kpis"):
        for entry in data.get(section, []):
            entry["owner"] = swap(entry["owner"])
    for checklist in data.get("checklists", []):
        for item in checklist["items"]:
            item["owner"] = swap(item["owner"])
    return Playbook.model_validate(data)
