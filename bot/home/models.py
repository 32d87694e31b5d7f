"""What the App Home shows, as data. No storage here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.kpis.models import KpiReport


@dataclass(frozen=True)
class HomeItem:
    """One line of a home section. `title`/`detail` are plain text (escaped when rendered)."""

    title: str
    detail: str = ""
    url: str | None = None
    overdue: bool = False


@dataclass(frozen=True)
class OwnedProcess:
    key: str
    name: str
    sop_url: str | None
    review_due: date | None
    review_overdue: bool


@dataclass(frozen=True)
class HomeData:
    user_id: str
    checklist_items: tuple[HomeItem, ...]
    escalations: tuple[HomeItem, ...]
    processes: tuple[OwnedProcess, ...]
    kpis: tuple[KpiReport, ...]
    unavailable: tuple[str, ...] = ()
