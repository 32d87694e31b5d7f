"""The digest's feedback section: count, NPS and its change, top tags, detractor quotes."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from bot.services.digest import DigestSection, register_digest_section
from bot.services.feedback import FeedbackRecord, list_feedback_records
from bot.services.feedback_nps import is_detractor, summarize_scores
from storage.db import SessionFactory

FEEDBACK_SECTION = "feedback"
TOP_TAGS = 3
QUOTES = 3


def _nps(records: list[FeedbackRecord]) -> float | None:
    scores = Counter(r.nps_score for r in records if r.nps_score is not None)
    return summarize_scores(scores).score


def feedback_section(
    sessions: SessionFactory, team_id: str, week_start: datetime, week_end: datetime, now: datetime
) -> DigestSection:
    """Feedback logged in [week_start, week_end), NPS against the week before."""
    previous_start = week_start - (week_end - week_start)
    records = list_feedback_records(sessions, team_id=team_id, since=previous_start)
    week = [r for r in records if week_start <= r.created_at < week_end]
    before = [r for r in records if previous_start <= r.created_at < week_start]
    if not week:
        return DigestSection(FEEDBACK_SECTION, "Feedback", empty_text="No feedback this week")
    nps, previous_nps = _nps(week), _nps(before)
    tags = Counter(tag for r in week for tag in r.tags)
    # Lowest scores first: the quotes a product-ops lead most needs to read.
    detractors = sorted(
        (r for r in week if is_detractor(r.nps_score)), key=lambda r: r.nps_score or 0
    )
    facts = {
        "count": len(week),
        "nps": None if nps is None else round(nps),
        "nps_change": None if nps is None or previous_nps is None else round(nps - previous_nps),
        "top_tags": [{"tag": t, "count": c} for t, c in tags.most_common(TOP_TAGS)],
        "detractor_quotes": [
            {"text": r.text, "customer": r.customer or ""} for r in detractors[:QUOTES]
        ],
    }
    return DigestSection(FEEDBACK_SECTION, "Feedback", facts)


register_digest_section(FEEDBACK_SECTION, feedback_section)
