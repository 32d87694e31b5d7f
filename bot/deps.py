"""What the app and the jobs are built from, passed in rather than read from globals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.clock import Clock, system_clock

if TYPE_CHECKING:
    from slack_sdk import WebClient
    from sqlalchemy import Engine

    from bot.digest.service import SectionProvider
    from bot.home.service import HomeSections
    from bot.nudges.service import NudgeSource
    from bot.settings import Settings
    from storage.db import SessionFactory


@dataclass
class Deps:
    """Settings, the database, the clock, the Slack client and the feature tables of one
    running Opsloop. `bot.wiring.make_deps` builds the real one; tests pass their own parts.

    The feature tables: `digest_sections` is the weekly review in order, `nudge_sources`
    every kind of overdue item, `home_sections` where the App Home's lists come from. They
    are required: a Deps without them cannot silently post an empty digest.
    """

    settings: Settings
    engine: Engine
    sessions: SessionFactory
    client: WebClient
    digest_sections: tuple[SectionProvider, ...]
    nudge_sources: tuple[NudgeSource, ...]
    home_sections: HomeSections
    clock: Clock = system_clock
