"""All mapped tables. Import this package so `Base.metadata` knows every table."""

from storage.models.base import Base
from storage.models.charts import KpiChart
from storage.models.checklists import ChecklistItem, ChecklistRun, ChecklistTemplate
from storage.models.core import AuditEntry, Person, ProcessedEvent
from storage.models.escalations import Escalation, EscalationEvent, SeveritySlaOverride
from storage.models.feedback import Feedback as Feedback
from storage.models.feedback import FeedbackStatusChange as FeedbackStatusChange
from storage.models.feedback import FeedbackTag as FeedbackTag
from storage.models.kpis import Kpi, KpiMeasurement
from storage.models.org import Admin, PlaybookImport, Process, ProcessReview, TeamSetting
from storage.models.outbox import OutboxMessage
from storage.models.reactions import ReactionCapture
from storage.models.sends import NudgeSnooze, SchedulerLease

__all__ = ["Admin", "AuditEntry", "Base", "Person", "Process", "ProcessedEvent", "TeamSetting"]
__all__ += ["ChecklistItem", "ChecklistRun", "ChecklistTemplate"]
__all__ += ["Escalation", "EscalationEvent", "SeveritySlaOverride"]
__all__ += ["Kpi", "KpiChart", "KpiMeasurement"]
__all__ += ["NudgeSnooze", "OutboxMessage", "SchedulerLease"]
__all__ += ["ReactionCapture"]
__all__ += ["PlaybookImport", "ProcessReview"]
