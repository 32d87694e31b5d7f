"""All mapped tables. Import this package so `Base.metadata` knows every table."""

from storage.models.base import Base
from storage.models.core import AuditEntry, Person, ProcessedEvent
from storage.models.kpis import Kpi, KpiMeasurement
from storage.models.org import Admin, Process, TeamSetting

__all__ = [
    "Admin",
    "AuditEntry",
    "Base",
    "Kpi",
    "KpiMeasurement",
    "Person",
    "Process",
    "ProcessedEvent",
    "TeamSetting",
]
