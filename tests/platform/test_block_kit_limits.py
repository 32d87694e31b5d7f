"""Every rendered surface stays within Slack's Block Kit limits, whatever people typed.

Hypothesis builds the domain models directly (the frozen dataclasses the services return)
with adversarial text: any characters, up to 10,000 of them, `<!channel>`, `&<>` (escaping
`&` makes text five times longer), emoji, hundreds of short lines. Each surface is turned
into dicts with `as_dicts` (slack_sdk validates its models in `to_dict`), each dict is parsed
back with slack_sdk and validated again, and `check_blocks` checks what slack_sdk does not:
context texts, option descriptions, checkbox counts, initial values, unique block ids.

Field bounds the services and the playbook enforce (an escalation title of 150 characters,
tags of 50, a checklist of 60 items) are respected; everything else is unbounded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.checklists.models import ACTIVE, CANCELLED, COMPLETED, ItemView, RunView
from bot.checklists.render import run_message
from bot.digest.models import Digest, DigestSection
from bot.digest.render import render_digest
from bot.escalations.modals import render_new_escalation_modal
from bot.escalations.models import (
    CUSTOMER_LIMIT,
    LINK_LIMIT,
    TITLE_LIMIT,
    EscalationView,
    TimelineEvent,
)
from bot.escalations.render import (
    render_escalation_list,
    render_escalation_message,
    render_event,
    render_owner_dm,
)
from bot.escalations.sla import ClockState, SlaClock
from bot.feedback.modal import FeedbackModalMeta, ModalPrefill, build_feedback_modal
from bot.feedback.modals import TriageModalMeta, build_delete_modal, build_triage_modal
from bot.feedback.models import (
    MAX_NOTE_LENGTH,
    STATUSES,
    FeedbackRecord,
    RecentFeedback,
    StatusStep,
    TriagedFeedback,
)
from bot.feedback.parse import MAX_CUSTOMER_LENGTH, MAX_PAGE, MAX_TAG_LENGTH, MAX_TAGS, SOURCES
from bot.feedback.render import (
    render_assignment_dm,
    render_deleted,
    render_detractor_alert,
    render_logged,
    render_recent,
    render_triaged,
)
from bot.home.models import HomeData, HomeItem, OwnedProcess
from bot.home.render import render_home
from bot.kpis.modals import LogFormMeta, build_log_modal
from bot.kpis.models import (
    KPI_KINDS,
    KpiInfo,
    KpiReport,
    LogForm,
    LoggedValue,
    Measurement,
    WeekValue,
)
from bot.kpis.render import render_kpi_list, render_kpi_logged, render_kpi_report
from bot.nudges.models import Nudge, OverdueItem
from bot.nudges.render import render_nudge, render_owner_report
from bot.periods import CADENCES
from bot.reactions.models import Capture, CapturedMessage, CaptureKind, CaptureState, MessageContent
from bot.reactions.render import (
    render_already_captured,
    render_capture_in_progress,
    render_escalation_offer,
    render_feedback_receipt,
    render_undone,
    render_unreadable,
)
from bot.slack import limits as L
from bot.slack.blocks import as_dicts
from bot.status.models import DeactivatedOwner, StaleSop, StatusReport
from bot.status.render import render_status

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)

# -- strategies -------------------------------------------------------------------------------
_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
# Pieces that are short as typed and long once escaped or quoted.
_PIECES = ["&", "<!channel>", "&<>", "x\n", "\n", "> ", "😀", "<@U0123ABCD>", "<https://a|b>"]


def text(max_size: int = 10_000, min_size: int = 0) -> st.SearchStrategy[str]:
    """Any text (no lone surrogates, no NUL), or one nasty piece repeated up to max_size."""
    repeated = st.sampled_from(_PIECES).flatmap(
        lambda p: st.integers(max(1, min_size), max(1, max_size // len(p))).map(lambda n: p * n)
    )
    lines = st.lists(st.text(_CHARS, max_size=3), max_size=max_size // 4).map("\n".join)
    return st.one_of(
        st.text(_CHARS, min_size=min_size, max_size=min(max_size, 200)),
        st.text(_CHARS, min_size=min_size, max_size=max_size),
        repeated.map(lambda s: s[:max_size]),
        lines.map(lambda s: s[:max_size]),
    ).filter(lambda s: len(s) >= min_size)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


user_ids = st.sampled_from(["U0123ABCD", "W0999ZZZZ", "not-an-id", "<!channel>", ""])
channel_ids = st.sampled_from(["C0123ABCD", "G0123ABCD", "#general", "<!here>"])
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)
ids = st.integers(1, 2**31 - 1)
permalinks = st.builds(
    lambda c, ts: f"https://acme.slack.com/archives/{c}/p{ts}",
    st.sampled_from(["C0123ABCD", "C9"]),
    st.integers(10**15, 10**16),
)
urls = st.one_of(
    permalinks,
    text(1000).map(lambda s: "https://x.io/?" + s),
    st.integers(1, 1000).map(lambda n: "https://x.io/?" + "a=1&" * n),
)
tags = st.text(st.sampled_from("abcxyz-_0189é"), min_size=1, max_size=MAX_TAG_LENGTH)


@st.composite
def feedback_records(draw: st.DrawFn) -> FeedbackRecord:
    return FeedbackRecord(
        id=draw(ids),
        team_id="T1",
        text=draw(text()),
        customer=draw(optional(text(MAX_CUSTOMER_LENGTH, 1))),
        source=draw(optional(st.sampled_from([*SOURCES, "<!channel>&"]))),
        tags=tuple(draw(st.lists(tags, max_size=MAX_TAGS, unique=True))),
        nps_score=draw(optional(st.integers(0, 10))),
        status=draw(st.sampled_from(STATUSES)),
        reporter_id=draw(user_ids),
        author_id=draw(optional(user_ids)),
        channel_id=draw(optional(channel_ids)),
        message_ts=None,
        permalink=draw(optional(permalinks)),  # from chat.getPermalink
        created_at=draw(moments),
        updated_at=None,
        submission_key="modal:ab12",
        captured_by_id=draw(optional(user_ids)),
        captured_by_team_id=draw(optional(st.sampled_from(["T0PARTNER", "<!channel>&"]))),
        assignee_id=draw(optional(user_ids)),
        escalation_id=draw(optional(ids)),
        history=tuple(
            draw(
                st.lists(
                    st.builds(
                        StatusStep,
                        status=st.sampled_from(STATUSES),
                        actor_id=user_ids,
                        at=moments,
                        note=text(MAX_NOTE_LENGTH),
                    ),
                    max_size=3,
                )
            )
        ),
    )


@st.composite
def clocks(draw: st.DrawFn, kind: str) -> SlaClock:
    started = draw(moments)
    due = started + timedelta(minutes=draw(st.integers(1, 60 * 24 * 30)))
    stopped = draw(optional(st.just(started + timedelta(minutes=draw(st.integers(0, 10**6))))))
    return SlaClock(
        kind=kind,  # type: ignore[arg-type]
        started_at=started,
        due_at=due,
        stopped_at=stopped,
        state=draw(st.sampled_from(list(ClockState))),
        as_of=draw(moments),
    )


@st.composite
def escalations(draw: st.DrawFn) -> EscalationView:
    status = draw(st.sampled_from(["open", "acknowledged", "resolved"]))
    created = draw(moments)
    return EscalationView(
        id=draw(ids),
        team_id="T1",
        title=draw(text(TITLE_LIMIT, 1)),
        customer=draw(text(CUSTOMER_LIMIT)),
        severity=draw(st.sampled_from(["sev1", "sev2", "sev3", "sev4"])),
        description=draw(text()),
        link=draw(optional(st.one_of(urls.map(lambda u: u[:LINK_LIMIT]), text(LINK_LIMIT)))),
        owner_id=draw(user_ids),
        reporter_id=draw(user_ids),
        status=status,
        version=1,
        created_at=created,
        ack_due_at=created,
        resolve_due_at=created,
        acknowledged_at=None,
        acknowledged_by=draw(optional(user_ids)),
        resolved_at=None,
        resolved_by=draw(optional(user_ids)),
        root_cause=draw(optional(text())),
        corrective_action=draw(optional(text())),
        channel_id=None,
        message_ts=None,
        permalink=draw(optional(permalinks)),
        ack_clock=draw(clocks("ack")),
        resolve_clock=draw(clocks("resolve")),
        is_resolved=status == "resolved",
    )


@st.composite
def runs(draw: st.DrawFn) -> RunView:
    count = draw(st.integers(1, 60))  # the playbook's MAX_ITEMS
    items = tuple(
        ItemView(
            id=position + 1,
            position=position,
            title=draw(text(200, 1).filter(str.strip)),  # written in the playbook
            owner_spec=draw(text(200)),
            owner_id=draw(optional(user_ids)),
            due_at=draw(moments),
            help_url=draw(optional(urls)),
            done_by=draw(optional(user_ids)),
            done_at=draw(optional(moments)),
        )
        for position in range(count)
    )
    return RunView(
        key="ab12cd",
        team_id="T1",
        title=draw(text(120, 1).filter(str.strip)),
        subject=draw(text(4000)),
        template_name="onboarding",
        template_version=draw(st.integers(1, 10**6)),
        channel_id="C0123ABCD",
        message_ts=None,
        started_by=draw(user_ids),
        started_at=draw(moments),
        status=draw(st.sampled_from([ACTIVE, COMPLETED, CANCELLED])),
        completed_at=None,
        duration_seconds=draw(optional(st.integers(0, 10**8))),
        cancelled_by=draw(optional(user_ids)),
        cancelled_at=None,
        revision=1,
        items=items,
    )


overdue_items = st.builds(
    OverdueItem,
    source=st.sampled_from(["checklist", "escalation", "kpi"]),
    item_id=st.integers(1, 10**9).map(str),
    title=text(),
    owner_id=user_ids,
    due_at=moments,
    link=optional(urls),
    can_mark_done=st.booleans(),
)
nudges = st.builds(
    Nudge,
    team_id=st.just("T1"),
    kind=st.just("owner"),
    user_id=user_ids,
    period=st.just("2026-11-23"),
    items=st.lists(overdue_items, max_size=300).map(tuple),
    escalate_after_days=st.integers(1, 30),
)

kpi_infos = st.builds(
    KpiInfo,
    key=st.from_regex(r"[a-z][a-z0-9_]{0,40}", fullmatch=True),
    name=text(200, 1),
    description=text(),
    unit=text(32),
    target=optional(st.floats(allow_nan=False, allow_infinity=False)),
    direction=st.sampled_from(["higher", "lower"]),
    owner_ref=optional(user_ids),
    owner_id=optional(user_ids),
    kind=st.sampled_from(KPI_KINDS),
    cadence=st.sampled_from(CADENCES),
)
week_values = st.builds(
    WeekValue,
    week=st.sampled_from(["2026-W40", "2026-W47", "2026-W48"]),
    value=optional(st.floats(allow_nan=False, allow_infinity=False)),
)
kpi_reports = st.builds(
    KpiReport,
    kpi=kpi_infos,
    weeks=st.lists(week_values, max_size=8).map(tuple),
    current=week_values,
    status=st.sampled_from(["on track", "at risk", "off track", "no data", "no target"]),
)

home_items = st.builds(
    HomeItem, title=text(), detail=text(), url=optional(urls), overdue=st.booleans()
)
processes = st.builds(
    OwnedProcess,
    key=st.from_regex(r"[a-z][a-z0-9_]{0,40}", fullmatch=True),
    name=text(200, 1),
    sop_url=optional(urls),
    review_due=optional(st.dates(date(2020, 1, 1), date(2030, 1, 1))),
    review_overdue=st.booleans(),
)
homes = st.builds(
    HomeData,
    user_id=user_ids,
    checklist_items=st.lists(home_items, max_size=200).map(tuple),
    escalations=st.lists(home_items, max_size=200).map(tuple),
    processes=st.lists(processes, max_size=200).map(tuple),
    kpis=st.lists(kpi_reports, max_size=200).map(tuple),
    unavailable=st.lists(st.sampled_from(["kpis", "checklist items"]), max_size=3).map(tuple),
)

names = st.lists(text(200, 1), max_size=300).map(tuple)
statuses = st.builds(
    StatusReport,
    process_count=st.integers(0, 10**6),
    kpi_count=st.integers(0, 10**6),
    processes_without_owner=names,
    deactivated_owners=st.lists(
        st.builds(DeactivatedOwner, user_id=user_ids, display_name=text(1000), owns=names),
        max_size=50,
    ).map(tuple),
    kpis_without_data=names,
    stale_sops=st.lists(
        st.builds(
            StaleSop,
            key=st.just("sop"),
            name=text(200, 1),
            due=optional(st.dates()),
            sop_url=optional(urls),
        ),
        max_size=300,
    ).map(tuple),
)

numbers = st.one_of(st.none(), st.integers(-(10**12), 10**12), st.floats(allow_nan=False))


@st.composite
def digests(draw: st.DrawFn) -> Digest:
    kpis = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "name": text(200, 1),
                    "unit": text(32),
                    "this_week": numbers,
                    "last_week": numbers,
                    "target": numbers,
                    "status": st.sampled_from(["on_track", "at_risk", "off_track", "no_data"]),
                    "owner_id": optional(user_ids),
                    "week": st.just("2026-W47"),
                }
            ),
            max_size=300,
        )
    )
    feedback = {
        "count": draw(st.integers(0, 10**6)),
        "nps": draw(optional(st.integers(-100, 100))),
        "nps_change": draw(optional(st.integers(-200, 200))),
        "top_tags": draw(
            st.lists(st.fixed_dictionaries({"tag": tags, "count": st.integers(1, 10**6)}))
        ),
        "detractor_quotes": draw(
            st.lists(st.fixed_dictionaries({"text": text(), "customer": text(200)}), max_size=5)
        ),
    }
    breach = st.fixed_dictionaries(
        {
            "id": ids,
            "title": text(TITLE_LIMIT, 1),
            "severity": st.sampled_from(["sev1", "sev2"]),
            "kind": st.sampled_from(["ack", "resolve"]),
        }
    )
    escalation_facts = {
        "opened": draw(st.integers(0, 10**6)),
        "resolved": draw(st.integers(0, 10**6)),
        "open_by_severity": {"sev1": draw(st.integers(0, 99)), "sev2": 0},
        "sla_breaches": draw(st.integers(0, 10**6)),
        "median_ack_minutes": draw(numbers),
        "breaches": draw(st.lists(breach, max_size=50)),
    }
    onboarding = {
        "started": draw(st.integers(0, 10**6)),
        "completed": draw(st.integers(0, 10**6)),
        "median_days_to_complete": draw(numbers),
        "stuck": draw(
            st.lists(
                st.fixed_dictionaries({"subject": text(4000), "days": st.integers(0, 10**4)}),
                max_size=20,
            )
        ),
        "stuck_count": draw(st.integers(0, 10**4)),
    }
    accountability = {
        "overdue_by_owner": draw(
            st.lists(
                st.fixed_dictionaries({"owner_id": user_ids, "count": st.integers(1, 10**4)}),
                max_size=300,
            )
        ),
        "total": 1,
    }
    empty = optional(text(1000, 1))
    sections = [
        DigestSection("kpis", draw(text(200)), {"kpis": kpis}, draw(empty)),
        DigestSection("feedback", "Feedback", feedback, draw(empty)),
        DigestSection("escalations", "Escalations", escalation_facts, draw(empty)),
        DigestSection("onboarding", "Onboarding", onboarding, draw(empty)),
        DigestSection("accountability", "Accountability", accountability, draw(empty)),
        DigestSection(
            "custom",
            draw(text(200)),
            draw(st.dictionaries(text(200, 1), numbers | text(1000), max_size=100)),
        ),
    ]
    start = datetime(2026, 11, 16, tzinfo=UTC)
    return Digest(
        team_id="T1",
        week="2026-W47",
        week_start=start,
        week_end=start + timedelta(days=7),
        timezone=draw(st.sampled_from(["UTC", "Pacific/Kiritimati", "America/St_Johns"])),
        channel="C0123ABCD",
        sections=tuple(draw(st.permutations(sections))),
    )


# -- the checker ------------------------------------------------------------------------------
def _text_of(obj: Any) -> str:
    """A text object's text (or a plain string, which slack_sdk would wrap)."""
    if isinstance(obj, str):
        return obj
    assert isinstance(obj, dict) and obj.get("type") in ("plain_text", "mrkdwn"), obj
    value = obj["text"]
    assert isinstance(value, str)
    return value


def _within(obj: Any, limit: int, what: str) -> None:
    value = _text_of(obj)
    assert value.strip(), f"{what} is empty"
    assert len(value) <= limit, f"{what}: {len(value)} characters > {limit}"


def _check_option(option: dict[str, Any]) -> None:
    _within(option["text"], L.OPTION_TEXT_LIMIT, "option text")
    if "description" in option:
        _within(option["description"], L.OPTION_TEXT_LIMIT, "option description")
    assert len(option["value"]) <= L.OPTION_VALUE_LIMIT, "option value"


def _check_options(element: dict[str, Any], most: int) -> None:
    options = element.get("options", [])
    assert 0 < len(options) <= most, f"{element['type']}: {len(options)} options > {most}"
    values = [o["value"] for o in options]
    assert len(set(values)) == len(values), "duplicate option values"
    for option in options:
        _check_option(option)
    initial = element.get("initial_options", [])
    if "initial_option" in element:
        initial = [element["initial_option"]]
    for chosen in initial:
        assert chosen in options, "an initial option that is not one of the options"


def _check_element(element: dict[str, Any]) -> None:
    kind = element["type"]
    assert len(element.get("action_id", "")) <= L.ACTION_ID_LIMIT
    if "placeholder" in element:
        _within(element["placeholder"], L.PLACEHOLDER_LIMIT, "placeholder")
    if kind == "button":
        _within(element["text"], L.BUTTON_TEXT_LIMIT, "button text")
        assert len(element.get("value", "")) <= L.BUTTON_VALUE_LIMIT, "button value"
        assert len(element.get("url", "")) <= L.BUTTON_URL_LIMIT, "button url"
    elif kind in ("static_select", "multi_static_select"):
        _check_options(element, L.SELECT_MAX_OPTIONS)
    elif kind in ("checkboxes", "radio_buttons"):
        _check_options(element, L.CHECKBOXES_MAX_OPTIONS)
    elif kind == "overflow":
        _check_options(element, 5)
    elif kind == "plain_text_input":
        most = min(element.get("max_length", L.TEXT_INPUT_LIMIT), L.TEXT_INPUT_LIMIT)
        assert len(element.get("initial_value", "")) <= most, "initial value over max_length"
    elif kind in ("mrkdwn", "plain_text"):
        _within(element, L.CONTEXT_TEXT_LIMIT, "context text")


def check_blocks(blocks: list[dict[str, Any]], most: int) -> None:
    """Slack's limits on one surface's blocks, including those slack_sdk does not check."""
    assert 0 < len(blocks) <= most, f"{len(blocks)} blocks > {most}"
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(set(block_ids)) == len(block_ids), "duplicate block ids"
    for raw in blocks:
        parsed = Block.parse(raw)  # slack_sdk's own reading of the dict, validated again
        assert parsed is not None, raw
        parsed.to_dict()
        kind = raw["type"]
        assert len(raw.get("block_id", "")) <= L.BLOCK_ID_LIMIT
        if kind == "section":
            if "text" in raw:
                _within(raw["text"], L.SECTION_TEXT_LIMIT, "section text")
            fields = raw.get("fields", [])
            assert len(fields) <= L.SECTION_FIELDS_MAX
            for f in fields:
                _within(f, L.SECTION_FIELD_TEXT_LIMIT, "section field")
            if "accessory" in raw:
                _check_element(raw["accessory"])
        elif kind == "header":
            _within(raw["text"], L.HEADER_TEXT_LIMIT, "header text")
        elif kind == "context":
            assert 0 < len(raw["elements"]) <= L.CONTEXT_MAX_ELEMENTS
            for element in raw["elements"]:
                _check_element(element)
        elif kind == "actions":
            assert 0 < len(raw["elements"]) <= L.ACTIONS_MAX_ELEMENTS
            for element in raw["elements"]:
                _check_element(element)
        elif kind == "input":
            _within(raw["label"], L.INPUT_LABEL_LIMIT, "input label")
            if "hint" in raw:
                _within(raw["hint"], L.INPUT_HINT_LIMIT, "input hint")
            _check_element(raw["element"])
        else:
            assert kind == "divider", f"unexpected block type {kind}"


def check_message(
    rendered: tuple[str, list[Block]], *, posted: bool = True
) -> list[dict[str, Any]]:
    """A message: its blocks within limits and (when posted through the outbox rather than
    answered through `bot.slack.replies.answer`, which trims it) its fallback text."""
    text, blocks = rendered
    dicts = as_dicts(blocks)
    check_blocks(dicts, L.MESSAGE_MAX_BLOCKS)
    if posted:
        assert text.strip()
        assert len(text) <= L.MESSAGE_TEXT_LIMIT, f"fallback text of {len(text)} characters"
    return dicts


def check_line(line: str) -> None:
    """A message that is only text (a thread line, a DM)."""
    assert line.strip()
    assert len(line) <= L.MESSAGE_TEXT_LIMIT, f"message text of {len(line)} characters"


def check_view(view: dict[str, Any]) -> None:
    View(**view).to_dict()  # slack_sdk's validation of the view itself
    if view["type"] == "modal":
        assert len(_text_of(view["title"])) <= L.VIEW_TITLE_LIMIT
    assert len(view.get("private_metadata", "")) <= L.PRIVATE_METADATA_LIMIT
    check_blocks(view["blocks"], L.VIEW_MAX_BLOCKS)


def _given(*strategies: st.SearchStrategy[Any]) -> Callable[[Callable[..., None]], Any]:
    def wrap(test: Callable[..., None]) -> Any:
        return PROPERTY(given(*strategies)(test))

    return wrap


# -- feedback ---------------------------------------------------------------------------------
@_given(feedback_records(), st.booleans(), st.lists(text(300), max_size=3))
def test_feedback_receipt(record: FeedbackRecord, edited: bool, notes: list[str]) -> None:
    check_message(render_logged(record, edited=edited, notes=[n for n in notes if n.strip()]))


@_given(feedback_records())
def test_detractor_alert(record: FeedbackRecord) -> None:
    check_message(render_detractor_alert(record))


@_given(
    optional(tags),
    optional(text(200, 1)),
    st.lists(feedback_records(), max_size=10),  # RECENT_LIMIT
)
def test_feedback_recent(
    tag: str | None, customer: str | None, items: list[FeedbackRecord]
) -> None:
    check_message(render_recent(RecentFeedback(tag, customer, tuple(items))), posted=False)
    paged = RecentFeedback(
        tag, customer, tuple(items), status="triaged", page=MAX_PAGE - 1, has_more=True
    )
    check_message(render_recent(paged), posted=False)


@_given(feedback_records(), st.lists(st.sampled_from(["status", "note", "assignee"])))
def test_feedback_triage_surfaces(record: FeedbackRecord, changed: list[str]) -> None:
    check_message(render_triaged(TriagedFeedback(record, "U0123ABCD", tuple(changed))))
    check_message(render_assignment_dm(record, by="U0123ABCD"))
    check_message(render_deleted(record))
    meta = TriageModalMeta(feedback_id=record.id, channel="C0123ABCD", ts="1.2")
    check_view(build_triage_modal(record, meta).to_dict())
    check_view(build_delete_modal(record, meta).to_dict())


@_given(
    st.lists(tags, max_size=300, unique=True),
    st.builds(
        ModalPrefill,
        text=text(),
        customer=optional(text(MAX_CUSTOMER_LENGTH, 1)),
        nps=optional(st.integers(0, 10)),
        tags=st.lists(tags, max_size=MAX_TAGS, unique=True).map(tuple),
        source=optional(st.sampled_from([*SOURCES, "nonsense"])),
        text_locked=st.booleans(),
    ),
    optional(ids),
    st.lists(text(3000).filter(str.strip), max_size=3),  # Opsloop's notes, never blank
)
def test_feedback_modal(
    known: list[str], prefill: ModalPrefill, feedback_id: int | None, notes: list[str]
) -> None:
    meta = FeedbackModalMeta(submission_key="modal:ab12", feedback_id=feedback_id)
    view = build_feedback_modal(meta=meta, known_tags=known, prefill=prefill, notes=notes)
    check_view(view.to_dict())


# -- escalations ------------------------------------------------------------------------------
@_given(escalations())
def test_escalation_message(e: EscalationView) -> None:
    check_message(render_escalation_message(e))


@_given(st.lists(escalations(), max_size=20), st.sampled_from(["open", "mine", "all"]))
def test_escalation_list(found: list[EscalationView], scope: str) -> None:
    check_message(render_escalation_list(found, scope=scope), posted=False)


@_given(escalations(), optional(user_ids))
def test_owner_dm(e: EscalationView, by: str | None) -> None:
    check_line(render_owner_dm(e, assigned_by=by))


@_given(
    st.builds(
        TimelineEvent,
        escalation_id=ids,
        actor_id=user_ids,
        kind=st.sampled_from(["acknowledged", "reassigned", "resolved", "reopened", "opened"]),
        at=moments,
        detail=st.fixed_dictionaries(
            {},
            optional={
                "from": user_ids,
                "to": user_ids,
                "root_cause": text(),
                "corrective_action": text(),
            },
        ),
    )
)
def test_thread_event_line(event: TimelineEvent) -> None:
    check_line(render_event(event))


# -- checklists, nudges, digest ---------------------------------------------------------------
@_given(runs(), moments, st.sampled_from(["UTC", "Pacific/Kiritimati", "America/St_Johns"]))
def test_checklist_run_message(run: RunView, now: datetime, tz: str) -> None:
    check_message(run_message(run, now=now, tz=tz))


@_given(nudges, optional(text(1000).filter(str.strip)))  # Opsloop's note, never blank
def test_nudge_dm(nudge: Nudge, note: str | None) -> None:
    check_message(render_nudge(nudge, now=NOW, note=note))


@_given(nudges)
def test_owner_report(nudge: Nudge) -> None:
    if nudge.items:
        check_message(render_owner_report(nudge, now=NOW))


@_given(digests())
def test_digest(digest: Digest) -> None:
    check_message(render_digest(digest))


# -- home, status, KPIs -----------------------------------------------------------------------
@_given(homes)
def test_app_home(data: HomeData) -> None:
    check_view(render_home(data))


@_given(statuses)
def test_ops_status(report: StatusReport) -> None:
    check_message(render_status(report), posted=False)


@_given(kpi_reports)
def test_kpi_report(report: KpiReport) -> None:
    check_message(render_kpi_report(report), posted=False)


@_given(st.lists(kpi_reports, max_size=300))
def test_kpi_list(reports: list[KpiReport]) -> None:
    check_message(render_kpi_list(reports), posted=False)


# -- reaction capture -------------------------------------------------------------------------
@st.composite
def captured_messages(draw: st.DrawFn, kind: CaptureKind) -> CapturedMessage:
    text_of = draw(text())
    capture = Capture(
        id=draw(ids),
        team_id="T1",
        kind=kind,
        state=draw(st.sampled_from(list(CaptureState))),
        channel_id=draw(channel_ids),
        message_ts="1700000000.000100",
        reactor_id=draw(user_ids),
        reactor_team_id=draw(optional(st.sampled_from(["T0PARTNER", "<!here>&"]))),
        notify_id=draw(optional(user_ids)),
        emoji=draw(st.sampled_from(["memo", "rotating_light", "a" * 100, "<!channel>"])),
        shared_channel=draw(st.booleans()),
        attempt=1,
        text=text_of,
        author_id=draw(optional(user_ids)),
        thread_ts=None,
        permalink=draw(optional(urls)),
        error=draw(optional(st.sampled_from(["not_in_channel", "message_not_found", "x<&>"]))),
        feedback_id=draw(ids),
        created_at=NOW,
        captured_at=NOW,
    )
    content = MessageContent(
        text=text_of,
        author_id=capture.author_id,
        bot_name=draw(optional(text(200, 1))),
        author_team_id=draw(optional(st.just("T0PARTNER"))),
        thread_ts=draw(optional(st.just("1.2"))),
        edited=draw(st.booleans()),
        file_names=tuple(draw(st.lists(text(300, 1), max_size=20))),
        had_text=draw(st.booleans()),
    )
    return CapturedMessage(capture, content, capture.feedback_id, True)


@_given(captured_messages(CaptureKind.FEEDBACK))
def test_reaction_feedback_receipt(captured: CapturedMessage) -> None:
    check_message(render_feedback_receipt(captured))
    check_message(render_unreadable(captured.capture))
    check_message(render_already_captured(captured.capture))
    check_message(render_capture_in_progress(captured.capture))
    check_message(render_undone(captured.capture), posted=False)


@_given(captured_messages(CaptureKind.ESCALATE))
def test_reaction_escalation_offer_and_its_form(captured: CapturedMessage) -> None:
    check_message(render_escalation_offer(captured))
    text_of = captured.capture.text or ""
    check_view(
        render_new_escalation_modal(
            typed=text_of.splitlines()[0] if text_of.strip() else "",
            owner_id="U0123ABCD",
            channel_id=None,
            description=text_of,
            link=captured.capture.permalink,
        )
    )


measurements = st.builds(
    Measurement,
    value=st.floats(allow_nan=False, allow_infinity=False),
    by_id=user_ids,
    at=moments,
    note=text(1000),
)


@_given(kpi_infos, optional(measurements), optional(text(1000)), optional(text(60)))
def test_kpi_log_form_and_receipt(
    kpi: KpiInfo, current: Measurement | None, note: str | None, typed: str | None
) -> None:
    form = LogForm(kpi, "2026-11", current)
    meta = LogFormMeta(kpi="activation", channel="D0123ABCD", ts="1.2")
    check_view(build_log_modal(form, meta, note=note, typed_value=typed, typed_note=note).to_dict())
    check_message(render_kpi_logged(LoggedValue(kpi, 42.0, "2026-W47", "on track", current)))
