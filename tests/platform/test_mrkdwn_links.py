"""Links Opsloop writes from stored URLs (playbook SOPs, checklist guides, nudge items):
only an http(s) address Slack can link becomes `<url|label>`; anything else shows the label
alone, so a stored value can never break the markup or outgrow its block."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slack_sdk.models.blocks import SectionBlock

from bot.nudges.models import Nudge, OverdueItem
from bot.nudges.render import render_owner_report
from bot.slack.limits import SECTION_TEXT_LIMIT
from bot.slack.mrkdwn import link


def test_an_http_address_is_linked_with_its_ampersands_escaped() -> None:
    assert link("https://wiki.example/sop?a=1&b=2", "*SOP*") == (
        "<https://wiki.example/sop?a=1&amp;b=2|*SOP*>"
    )


@pytest.mark.parametrize(
    "url",
    ["https://x.io/a%20b#part", "http://wiki.example/Übersicht", "https://x.io/?q='1'"],
)
def test_addresses_slack_links_stay_links(url: str) -> None:
    assert link(url, "SOP") == f"<{url}|SOP>"


@pytest.mark.parametrize(
    "url",
    [
        "https://x.io/?" + "\n" * 900,  # a pasted URL with line breaks
        "https://x.io/a b",
        "https://x.io/a\tb",
        "https://x.io/a|<!channel>",  # `|` would start a label of the writer's choosing
        "https://x.io/a>b",
        "https://x.io/\x00",
        "https://x.io/a\u00a0b",  # a no-break space
        "https://x.io/a\u2028b",  # a line separator
        "https://x.io/a\x85b",  # a C1 control (next line)
        "javascript:alert(1)",
        "ftp://x.io/file",
        "",
        None,
        "https://x.io/" + "a" * 2000,  # longer than a section can carry
    ],
)
def test_anything_else_shows_the_label_alone(url: str | None) -> None:
    assert link(url, "*SOP*") == "*SOP*"


def test_an_owner_report_with_a_link_full_of_line_breaks_fits_its_sections() -> None:
    """Found by the Block Kit property test: each line break of an item's link became ' — '
    in the report line, tripling it past Slack's 3,000 characters a section."""
    due = datetime(2020, 1, 1, tzinfo=UTC)
    plain = OverdueItem("checklist", "1", "", "U0123ABCD", due, can_mark_done=False)
    pasted = OverdueItem(
        "checklist",
        "1",
        "",
        "U0123ABCD",
        due,
        link="https://x.io/?" + "\n" * 990,
        can_mark_done=False,
    )
    items = (*[plain] * 7, pasted)
    nudge = Nudge("T1", "owner", "U0123ABCD", "2026-11-23", items, escalate_after_days=1)
    _, blocks = render_owner_report(nudge, now=datetime(2026, 11, 23, tzinfo=UTC))
    sections = [b for b in blocks if isinstance(b, SectionBlock)]
    for section in sections:
        section.to_dict()  # slack_sdk's own validation: raises past 3,000 characters
        assert section.text is not None and len(section.text.text) <= SECTION_TEXT_LIMIT
    assert "x.io" not in "".join(s.text.text for s in sections if s.text)
