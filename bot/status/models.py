"""The health of the operation, as data. No storage here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class StaleSop:
    key: str
    name: str
    due: date | None  # None: never reviewed
    sop_url: str | None


@dataclass(frozen=True)
class DeactivatedOwner:
    user_id: str
    display_name: str
    owns: tuple[str, ...]


@dataclass(frozen=True)
class StatusReport:
    process_count: int
    kpi_count: int
    processes_without_owner: tuple[str, ...]
    deactivated_owners: tuple[DeactivatedOwner, ...]
    kpis_without_data: tuple[str, ...]
    stale_sops: tuple[StaleSop, ...]

    @property
    def healthy(self) -> bool:
        return not (
            self.processes_without_owner
            or self.deactivated_owners
            or self.kpis_without_data
            or self.stale_sops
        )
