"""The per-team settings: every key of the `team_settings` table and its default, once.

The playbook writes them (`opsloop playbook import`), Slack changes some, and the digest,
the nudges and the exports read them; each reads the key and the default from here.
"""

from __future__ import annotations

from datetime import time

# Channels (the playbook's `channels:` block).
ESCALATIONS_CHANNEL = "channel.escalations"
DIGEST_CHANNEL = "channel.digest"
FEEDBACK_CHANNEL = "channel.feedback"
# The team's IANA timezone; unset: the installation's OPSLOOP_TIMEZONE.
TEAM_TIMEZONE = "timezone"
# When the weekly review is posted (the playbook's `digest:` block).
DIGEST_WEEKDAY = "digest.weekday"  # "monday" … "sunday"
DIGEST_TIME = "digest.time"  # "09:00"
DEFAULT_DIGEST_WEEKDAY = 0  # Monday
DEFAULT_DIGEST_TIME = time(9, 0)
# When owners are nudged (the playbook's `nudge:` block), each in their own timezone.
NUDGE_TIME = "nudge.time"  # "10:00" or "10"
NUDGE_WEEKDAYS = "nudge.weekdays"  # "monday,tuesday,…"
NUDGE_THRESHOLD_DAYS = "nudge.overdue_threshold_days"  # past this, the process owner hears
DEFAULT_NUDGE_TIME = time(10, 0)
DEFAULT_NUDGE_WEEKDAYS = (0, 1, 2, 3, 4)
DEFAULT_NUDGE_THRESHOLD_DAYS = 3
# Reaction capture (the playbook's `capture:` block): emoji names, comma-separated; unset
# means the defaults, "" means off.
CAPTURE_FEEDBACK = "capture.feedback"
CAPTURE_ESCALATE = "capture.escalate"
DEFAULT_CAPTURE_FEEDBACK = ("memo",)
DEFAULT_CAPTURE_ESCALATE = ("rotating_light",)
# The fingerprint of the playbook last imported (so an unchanged file is not re-applied).
PLAYBOOK_HASH = "playbook.sha256"
# How many days before an SOP review falls due its process owner is reminded (the
# playbook's `reviews.remind_days_before`; models.DEFAULT_REVIEW_REMINDER_DAYS when unset).
REVIEW_REMINDER_DAYS = "reviews.remind_days_before"
# The escalation policy (the playbook's `escalation_policy:` block) as JSON; unset: defaults.
ESCALATION_POLICY = "escalation.policy"
