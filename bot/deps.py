"""What the app and the jobs are built from, passed in rather than read from globals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.clock import Clock, system_clock
from bot.settings import Settings
from storage.db import SessionFactory


@dataclass
class Deps:
    """Settings, the database, the clock and the Slack client of one running Opsloop."""

    settings: Settings
    engine: Engine
    sessions: SessionFactory
    client: WebClient
    clock: Clock = system_clock
    extras: dict[str, Any] = field(default_factory=dict)
