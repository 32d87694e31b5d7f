"""The operating model's people and owners, as data. No storage here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OwnerRow:
    key: str
    name: str
    owner_id: str | None
    owner_name: str | None
    owner_deleted: bool


@dataclass(frozen=True)
class OwnerChange:
    key: str
    name: str
    previous_id: str | None
    owner_id: str


@dataclass(frozen=True)
class PersonInfo:
    user_id: str
    display_name: str
    timezone: str | None
    is_deleted: bool


@dataclass(frozen=True)
class ProcessOwner:
    key: str
    name: str
    owner_id: str | None
