"""NPS the standard way: promoters 9-10, passives 7-8, detractors 0-6.

NPS = % promoters - % detractors, from -100 to 100.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.errors import UserError

PERIODS: dict[str, int] = {"7d": 7, "30d": 30, "90d": 90}
DEFAULT_PERIOD = "30d"


def category_of(score: int | None) -> str | None:
    """promoter, passive, detractor, or None without a score."""
    if score is None:
        return None
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


def is_detractor(score: int | None) -> bool:
    return category_of(score) == "detractor"


def parse_period(word: str | None) -> int:
    """Days in a period written 7d, 30d or 90d (default 30d)."""
    key = (word or DEFAULT_PERIOD).strip().lower()
    if key not in PERIODS:
        raise UserError(
            f"I can show NPS for {', '.join(PERIODS)} (the default is {DEFAULT_PERIOD}).",
            example="/feedback nps 90d",
        )
    return PERIODS[key]


@dataclass(frozen=True)
class NpsSummary:
    promoters: int
    passives: int
    detractors: int

    @property
    def responses(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        """From -100 to 100, or None without responses."""
        if not self.responses:
            return None
        return 100.0 * (self.promoters - self.detractors) / self.responses


def summarize_scores(counts: Mapping[int, int]) -> NpsSummary:
    """Count promoters, passives and detractors in score → count."""
    totals = {"promoter": 0, "passive": 0, "detractor": 0}
    for score, count in counts.items():
        category = category_of(score)
        if category is not None:
            totals[category] += count
    return NpsSummary(totals["promoter"], totals["passive"], totals["detractor"])


@dataclass(frozen=True)
class NpsReport:
    days: int
    since: datetime
    until: datetime
    current: NpsSummary
    previous: NpsSummary

    @property
    def change(self) -> float | None:
        """NPS now minus NPS in the previous period of equal length (None if either is empty)."""
        if self.current.score is None or self.previous.score is None:
            return None
        return self.current.score - self.previous.score
