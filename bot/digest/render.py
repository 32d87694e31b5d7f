"""The weekly review digest as Block Kit, from Jinja2 templates a team can override.

Templates live in `bot/digest/templates/` (`header.j2`, `intro.j2`, one per section key,
`section.j2` for any other key). A folder given as `templates_dir` (OPSLOOP_TEMPLATES_DIR)
is searched first, so a team overrides any one file by dropping a file of the same name
there. Autoescape is off (HTML entities such as `&#39;` would show in Slack); instead every
user-derived value goes through the `slack` filter, which escapes `&`, `<` and `>`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.digest.models import Digest, DigestSection
from bot.kpis.charts import ChartRef
from bot.kpis.models import plain_value, trend_of
from bot.kpis.render import chart_block
from bot.slack.help import CommandHelp
from bot.slack.limits import HEADER_TEXT_LIMIT, MESSAGE_MAX_BLOCKS
from bot.slack.mrkdwn import (
    MESSAGE_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    escape,
    local_time,
    truncate,
    user_ref,
)

DIGEST_HELP = CommandHelp(
    "/ops digest",
    "The weekly review digest (posted to the digest channel every week).",
    (
        "`/ops digest preview` — last week's digest, only for you",
        "`/ops digest preview 2026-W47` — the digest of another week",
    ),
)

log = logging.getLogger(__name__)

BUILT_IN_TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_BLOCKS = MESSAGE_MAX_BLOCKS  # (names kept for their importers)
HEADER_LIMIT = HEADER_TEXT_LIMIT
_ONE_SECOND = timedelta(seconds=1)
_STATUS = {
    "on_track": (":large_green_circle:", "on track"),
    "at_risk": (":large_yellow_circle:", "at risk"),
    "off_track": (":red_circle:", "off track"),
}


def _owner(user_id: Any) -> str:
    return user_ref(user_id, otherwise="no owner")


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"
    return escape(value)


def _signed(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return _num(value)
    return ("+" if value > 0 else "") + _num(value)


def _arrow(current: Any, previous: Any) -> str:
    if not isinstance(current, int | float) or not isinstance(previous, int | float):
        return ""
    return "↑" if current > previous else "↓" if current < previous else "→"


def _trend(current: Any, previous: Any, direction: Any = "higher") -> str:
    """`↑ better` / `↓ worse` / `→ unchanged`: the change from the week before, judged by
    the KPI's direction (a falling resolution time is better)."""
    if not isinstance(current, int | float) or not isinstance(previous, int | float):
        return ""
    trend = trend_of(float(current), float(previous), str(direction or "higher"))
    return "" if trend is None else f"{trend.arrow} {trend.word}"


def _minutes(value: Any) -> str:
    """A duration in minutes written as the KPI section writes a KPI in minutes (`3.46 min`,
    not `3 min` beside a KPI line saying 3.46 minutes for the same median); hours from 2 h."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return _num(value)
    return plain_value(value, "min") if value < 120 else f"{value / 60:.1f} h"


def _oneline(value: str, limit: int = 280) -> str:
    return truncate(" ".join(value.split()), limit)


def make_environment(templates_dir: Path | None = None) -> Environment:
    """The Jinja2 environment: the override folder first, then the built-in templates."""
    loaders = [FileSystemLoader(str(templates_dir))] if templates_dir else []
    loaders.append(FileSystemLoader(str(BUILT_IN_TEMPLATES)))
    # Slack is not HTML: autoescape would show &#39;; values go through `slack` instead.
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=False,  # noqa: S701
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        slack=escape,
        num=_num,
        signed=_signed,
        arrow=_arrow,
        trend=_trend,
        mention=_owner,
        minutes=_minutes,
        oneline=_oneline,
        unit=lambda unit: "" if not unit else ("%" if unit == "%" else " " + escape(unit)),
        status_icon=lambda status: _STATUS.get(str(status), (":white_circle:", ""))[0],
        status_label=lambda status: _STATUS.get(str(status), ("", "no data"))[1],
    )
    return env


def _render(envs: tuple[Environment, ...], name: str, **context: Any) -> str:
    """`name` from the first environment that renders it: a team's override, else the
    built-in template. A broken override is logged and the built-in one is used, so the
    digest still reads as designed."""
    for index, env in enumerate(envs):
        try:
            return env.get_template(name).render(**context)
        except TemplateError:
            if index == len(envs) - 1:
                raise
            log.exception("digest template override %s failed; using the built-in one", name)
    raise AssertionError("no environment")  # pragma: no cover - envs is never empty


def _section_body(
    envs: tuple[Environment, ...], section: DigestSection, context: dict[str, Any]
) -> str:
    name = f"{section.key}.j2"
    if not any(name in env.list_templates() for env in envs):
        name = "section.j2"
    values = {"section": section, "facts": section.facts, **context}
    try:
        body = _render(envs, name, **values)
    except TemplateError:
        # A provider missing a fact must not cost the whole digest: StrictUndefined makes
        # the mistake loud in the log, the generic layout shows the data.
        log.exception("digest template %s failed; using section.j2", name)
        body = _render(envs[-1:], "section.j2", **values)
    return body.strip() or (section.empty_text or "Nothing to report.")


def _chunks(text: str, limit: int) -> list[str]:
    """Split at line ends into pieces of at most `limit` characters."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines():
        line = truncate(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        pieces.append(current)
    return pieces or [""]


def _local(moment: datetime, digest: Digest) -> str:
    return moment.astimezone(ZoneInfo(digest.timezone)).strftime("%a %d %b %Y")


def render_digest(
    digest: Digest,
    *,
    templates_dir: Path | None = None,
    images: Mapping[str, Sequence[ChartRef]] | None = None,
) -> tuple[str, list[Block]]:
    """(text fallback, blocks) of one weekly digest; at most 50 blocks, text < 4000 chars.

    `images` are the pictures shown under a section (by section key): the KPI overview."""
    # The team's overrides (if any), then the built-in templates alone as the fallback.
    envs = (
        (make_environment(templates_dir), make_environment())
        if templates_dir
        else (make_environment(),)
    )
    last_day = digest.week_end.replace(microsecond=0) - _ONE_SECOND
    context = {
        "week": digest.week,
        "team_id": digest.team_id,
        "timezone": digest.timezone,
        "start_local": _local(digest.week_start, digest),
        "end_local": _local(last_day, digest),
        # A week still running: its numbers so far, as each reader's clock shows the moment.
        "running_as_of": local_time(digest.running_as_of) if digest.running_as_of else None,
    }
    header = truncate(_render(envs, "header.j2", **context).strip(), HEADER_LIMIT)
    intro = _render(envs, "intro.j2", **context).strip()
    blocks: list[Block] = [HeaderBlock(text=header)]
    if intro:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=intro)]))
    text_parts = [f"*{header}*", intro]
    sections = digest.sections or (
        DigestSection("none", "Nothing yet", empty_text="No capability reports to the digest yet."),
    )
    for index, section in enumerate(sections):
        body = _section_body(envs, section, context)
        title = f"*{escape(section.title)}*"
        text_parts.append(f"{title}\n{body}")
        if index:
            blocks.append(DividerBlock())
        for piece in _chunks(f"{title}\n{body}", SECTION_TEXT_LIMIT):
            blocks.append(SectionBlock(text=MarkdownTextObject(text=piece)))
        blocks += [chart_block(ref) for ref in (images or {}).get(section.key, ())]
    if len(blocks) > MAX_BLOCKS:
        left_out = len(blocks) - (MAX_BLOCKS - 1)
        blocks = blocks[: MAX_BLOCKS - 1]
        note = f"…{left_out} more part(s) did not fit; run `opsloop digest --dry-run` for all."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    text = truncate("\n\n".join(part for part in text_parts if part), MESSAGE_TEXT_LIMIT)
    return text, blocks


# One picture per KPI in the digest's thread: the most a message holds, with a header.
MAX_THREAD_CHARTS = MESSAGE_MAX_BLOCKS - 2


def render_chart_thread(week: str, refs: Sequence[ChartRef]) -> tuple[str, list[Block]]:
    """The digest's thread reply: one trend chart per KPI (the overview is in the digest)."""
    intro = f"*KPI trends up to {week}*, the last weeks of each KPI against its target band."
    shown = list(refs[:MAX_THREAD_CHARTS])
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=intro))]
    blocks += [chart_block(ref) for ref in shown]
    if len(refs) > len(shown):
        more = f"…and {len(refs) - len(shown)} more: `/kpi show <kpi>` shows any of them."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    words = "\n".join(f"• {escape(ref.alt_text)}" for ref in shown)
    return truncate(f"{intro}\n{words}", MESSAGE_TEXT_LIMIT), blocks
