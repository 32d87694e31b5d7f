"""Where digest sections and nudge sources come from.

Capabilities register their digest section (`bot.services.digest.register_digest_section`)
and nudge source (`bot.services.nudges.register_nudge_source`) when their module is
imported. Listing the module here makes sure every entry point that posts or previews a
digest or nudge (the scheduler, `opsloop digest|nudge`, `/ops … preview`) sees them.
"""

from __future__ import annotations

import importlib

CAPABILITY_MODULES: list[str] = [
    "bot.services.accountability",
    "bot.services.checklist_nudges",
    "bot.services.feedback_digest",
    "bot.services.kpi_digest",
]


def load_capabilities() -> None:
    """Import every module that registers digest sections or nudge sources (idempotent)."""
    for name in CAPABILITY_MODULES:
        importlib.import_module(name)
