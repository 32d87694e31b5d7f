"""All mapped tables. Import this package so `Base.metadata` knows every table."""

from storage.models.base import Base
from storage.models.core import AuditEntry, Person, ProcessedEvent

__all__ = ["AuditEntry", "Base", "Person", "ProcessedEvent"]
