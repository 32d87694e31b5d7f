"""A small playbook and helpers shared by the playbook, KPI, owner and home tests."""

from __future__ import annotations

from datetime import datetime

from bot.playbook.schema import parse_playbook
from bot.playbook.service import ImportSummary, import_playbook
from storage.db import SessionFactory

TEAM = "T0001"  # the SlackDriver's team
ADMIN = "UADMIN1"
OWNER = "UOWNER1"
OTHER = "U0001"  # the SlackDriver's default user: neither admin nor owner

SMALL_PLAYBOOK = f"""\
timezone: Europe/Berlin
channels:
  escalations: C0ESC
  digest: C0DIGEST
admins:
  - {ADMIN}  # Priya
processes:
  - key: onboarding
    name: Customer onboarding
    owner: {OWNER}  # Dana
    sop_url: https://wiki.example/onboarding
    review_every_days: 90
    last_reviewed: 2026-10-01
  - key: escalations
    name: Escalation handling
    owner: {ADMIN}
    last_reviewed: 2026-01-05
  - key: renewals
    name: Renewal risk review
kpis:
  - key: activation
    name: Trial-to-paid activation
    unit: "%"
    target: 25
    direction: higher
    owner: process:onboarding
  - key: time_to_first_value
    name: Time to first value
    unit: days
    target: 10
    direction: lower
    owner: {OWNER}
  - key: nps
    name: NPS
    kind: nps_30d
    target: 40
    owner: process:onboarding
checklists:
  - name: customer-onboarding
    items:
      - title: Kickoff call
        owner: process:onboarding
        due_days: 1
severity_slas:
  sev1: {{ack_minutes: 15, resolve_minutes: 240}}
digest:
  weekday: monday
  time: "09:00"
nudge:
  time: 10:00
"""


def load_small_playbook(
    sessions: SessionFactory, now: datetime, text: str = SMALL_PLAYBOOK, team: str = TEAM
) -> ImportSummary:
    return import_playbook(sessions, team, parse_playbook(text, "small.yaml"), now)
