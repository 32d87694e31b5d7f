"""What `/feedback <text>` does before its ack, on SQLite and PostgreSQL: one short write
(the record with only its id returned, its tags in one statement, nothing read first; on
PostgreSQL no transaction around it unless it is a detractor with alerts to queue) and a
receipt written as the dicts Slack wants."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from slack_bolt.listener_matcher.builtins import BuiltinListenerMatcher
from slack_bolt.middleware import custom_middleware
from slack_sdk.models.blocks import Block
from sqlalchemy import Engine, event, select

from bot.deps import Deps
from bot.feedback import render
from bot.feedback.messages import detractor_alerts
from bot.feedback.models import LoggedFeedback, detractor_alert_keys
from bot.feedback.parse import parse_inline
from bot.feedback.service import list_feedback_records, log_command_feedback, log_feedback
from bot.org import service as directory
from bot.org import team_settings
from bot.shell.standin import SlackStandin
from bot.slack.executor import TrackingExecutor
from bot.wiring import build_app
from storage import feedback as store
from storage.db import SessionFactory, make_engine, make_session_factory, transaction
from storage.models.org import Admin
from storage.models.outbox import OutboxMessage
from storage.upsert import insert_if_absent
from tests.conftest import SIGNING_SECRET
from tests.support.slack import SlackDriver


@pytest.fixture
def in_transaction(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[tuple[str, bool]]]:
    """Every SQL statement the database is sent (transaction control left out), and whether
    a transaction was open around it. Seen at the driver, as the ack write goes to it
    without SQLAlchemy's execution events: on PostgreSQL open when psycopg's autocommit is
    off, on SQLite when the driver is in a transaction (sqlite3's trace callback)."""
    seen: list[tuple[str, bool]] = []
    control = ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")

    def record(statement: object, opened: bool) -> None:
        text = " ".join(str(statement).split()).upper()
        if not text.startswith(control):
            seen.append((text, opened))

    if engine.dialect.name == "postgresql":
        import psycopg

        sent = psycopg.Cursor.execute

        def execute(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            record(query, not cursor.connection.autocommit)
            return sent(cursor, query, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "execute", execute)
        yield seen
        return

    def trace(dbapi_connection: Any, *_args: Any) -> None:
        dbapi_connection.set_trace_callback(
            lambda statement: record(statement, dbapi_connection.in_transaction)
        )

    event.listen(engine, "checkout", trace)
    yield seen
    event.remove(engine, "checkout", trace)


@pytest.fixture
def acks_only(deps: Deps, standin: SlackStandin, executor: TrackingExecutor) -> SlackDriver:
    """The real app without the outbox sender: only what a request runs before its ack."""
    return SlackDriver(
        build_app(deps, executor=executor), standin, executor, signing_secret=SIGNING_SECRET
    )


def test_a_feedback_command_is_one_insert_of_the_record_and_one_of_its_tags(
    acks_only: SlackDriver,
    sessions: SessionFactory,
    in_transaction: list[tuple[str, bool]],
    db_url: str,
) -> None:
    slack = acks_only
    slack.command("/feedback", "Warm-up: first request of the app #x")  # team/app set-up
    in_transaction.clear()

    result = slack.command("/feedback", "Acme: export times out #billing #export nps:7")

    assert result.status == 200
    statements = [statement for statement, _ in in_transaction]
    writes = list(statements)
    if db_url.startswith("postgresql"):
        # one statement, one round trip: the record and, in it, the insert of its tags
        [write] = writes
        assert write.startswith('WITH "NEW" AS (INSERT INTO FEEDBACK ') and "RETURNING" in write
        assert "INSERT INTO FEEDBACK_TAGS " in write
        assert write.endswith('SELECT "NEW".ID FROM "NEW"')  # only the id comes back
    else:
        # the record, then one executemany of its tags (SQLite runs it once per row)
        assert len(writes) == 3, writes
        assert writes[0].startswith("INSERT INTO FEEDBACK ") and "RETURNING" in writes[0]
        assert all(w.startswith("INSERT INTO FEEDBACK_TAGS ") for w in writes[1:])
    assert not [s for s in statements if s.startswith("SELECT")]  # nothing read first
    [*_, record] = list_feedback_records(sessions, team_id=None, since=None)
    assert record.tags == ("billing", "export")
    assert record.status == "new" and record.customer == "Acme" and record.nps_score == 7


def _warm_up_with_a_feedback_channel(
    slack: SlackDriver, sessions: SessionFactory, recorded: list[tuple[str, bool]]
) -> None:
    """A feedback channel for detractor alerts, the app's first request (team and app
    set-up) done, and what it ran forgotten."""
    directory.set_team_setting(
        sessions, team_id=slack.team_id, key=team_settings.FEEDBACK_CHANNEL, value="C0FB"
    )
    slack.command("/feedback", "Warm-up: first request of the app #x")
    recorded.clear()


def test_a_feedback_command_that_is_no_detractor_commits_by_itself_on_postgresql(
    acks_only: SlackDriver,
    sessions: SessionFactory,
    in_transaction: list[tuple[str, bool]],
    db_url: str,
) -> None:
    """Nothing but the record is written for it, so on PostgreSQL its one statement runs
    without BEGIN and COMMIT around it (two round trips fewer on every ack); SQLite keeps
    its transaction, which holds the record's two statements together."""
    slack = acks_only
    _warm_up_with_a_feedback_channel(slack, sessions, in_transaction)

    result = slack.command("/feedback", "Acme: export times out #billing nps:7")

    assert result.status == 200 and "Logged" in str(result.answer.params.get("text"))
    writes = [(s, opened) for s, opened in in_transaction if "INSERT" in s]
    assert writes and all(opened is not db_url.startswith("postgresql") for _, opened in writes)
    [*_, record] = list_feedback_records(sessions, team_id=None, since=None)
    assert record.text == "export times out" and record.tags == ("billing",)


def test_a_detractor_from_the_command_is_stored_with_its_alerts_in_one_transaction(
    acks_only: SlackDriver,
    sessions: SessionFactory,
    in_transaction: list[tuple[str, bool]],
) -> None:
    """A detractor's alerts are queued with the record or not at all: both databases write
    them in one transaction, and the alert goes to the feedback channel."""
    slack = acks_only
    _warm_up_with_a_feedback_channel(slack, sessions, in_transaction)

    result = slack.command("/feedback", "Acme: the export lost our data nps:2")

    assert result.status == 200 and "Logged" in str(result.answer.params.get("text"))
    inserts = [s for s, _ in in_transaction if s.startswith(("INSERT", "WITH"))]
    assert any("INTO FEEDBACK " in s for s in inserts)
    assert any("INTO OUTBOX " in s for s in inserts)
    assert all(opened for _, opened in in_transaction)
    [*_, record] = list_feedback_records(sessions, team_id=None, since=None)
    with transaction(sessions) as session:
        keys = set(session.scalars(select(OutboxMessage.key)))
    assert detractor_alert_keys(record.id)[0] in keys


@pytest.mark.parametrize("score", [7, 2], ids=["passive", "detractor"])
def test_a_repeated_command_submission_key_returns_the_stored_record(
    deps: Deps, sessions: SessionFactory, score: int
) -> None:
    # /feedback makes a fresh key every time, so this is only a guard: should a key come
    # twice, the second store reads back the first record (tags and all) and says nothing.
    def log_once(text: str) -> LoggedFeedback:
        return log_command_feedback(
            sessions,
            team_id="T0KEY",
            reporter_id="U1",
            parsed=parse_inline(text),
            submission_key="cmd:twice",
            now=deps.clock(),
            alerts=detractor_alerts,
        )

    first = log_once(f"Acme: export times out #billing nps:{score}")
    again = log_once("Other text #other")

    assert first.created and not again.created
    assert again.feedback == first.feedback
    records = list_feedback_records(sessions, team_id="T0KEY", since=None)
    assert [(r.id, r.tags) for r in records] == [(first.feedback.id, ("billing",))]


def test_a_repeated_submission_key_stores_one_record_with_its_tags_once(
    deps: Deps, sessions: SessionFactory
) -> None:
    # The ack path's insert on both databases: a second store of the same key (Slack
    # retrying, a double click) lands on the first record and adds no tags.
    parsed = parse_inline("Acme: export times out #billing #export nps:7")
    first = log_feedback(
        sessions,
        team_id="T0KEY",
        reporter_id="U1",
        parsed=parsed,
        submission_key="cmd:same",
        now=deps.clock(),
    )
    again = log_feedback(
        sessions,
        team_id="T0KEY",
        reporter_id="U1",
        parsed=parse_inline("Other text #other"),
        submission_key="cmd:same",
        now=deps.clock(),
    )

    assert first.created and not again.created
    assert again.feedback.id == first.feedback.id
    assert again.feedback.tags == ("billing", "export")
    records = list_feedback_records(sessions, team_id="T0KEY", since=None)
    assert [(r.id, r.tags) for r in records] == [(first.feedback.id, ("billing", "export"))]


def test_a_feedback_command_is_matched_by_the_first_listener_bolt_tries(
    acks_only: SlackDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bolt tries the listeners in turn, building each matcher's arguments: the busiest
    # command is registered first (bot.wiring.LISTENER_MODULES).
    tried: list[object] = []
    matches = BuiltinListenerMatcher.matches

    def counted(self: BuiltinListenerMatcher, req: Any, resp: Any) -> bool:
        tried.append(self)
        return matches(self, req, resp)

    monkeypatch.setattr(BuiltinListenerMatcher, "matches", counted)

    result = acks_only.command("/feedback", "Acme: export times out #billing")

    assert result.status == 200 and "Logged" in str(result.answer.params.get("text"))
    assert len(tried) == 1


def test_the_receipt_is_exactly_what_slack_sdk_would_have_made(
    slack: SlackDriver, deps: Deps
) -> None:
    directory.set_team_setting(
        deps.sessions, team_id=slack.team_id, key=team_settings.FEEDBACK_CHANNEL, value="C0FB"
    )
    result = slack.command("/feedback", "Acme: export times out #billing nps:3")

    blocks = result.answer.params["blocks"]
    assert [b["type"] for b in blocks] == ["section", "context", "actions", "context"]
    for raw in blocks:
        parsed = Block.parse(raw)
        assert parsed is not None
        assert parsed.to_dict() == raw  # the same dict, emoji flags and all
    edit, menu = blocks[2]["elements"]
    assert edit["action_id"] == render.EDIT_ACTION
    assert menu["type"] == "overflow" and menu["action_id"] == render.TRIAGE_ACTION


def test_insert_if_absent_sees_rows_added_earlier_in_the_transaction(
    sessions: SessionFactory,
) -> None:
    # The insert runs on the session's connection, not through session.execute: what the
    # session still holds must be flushed first, or the conflict is found only at COMMIT.
    with transaction(sessions) as session:
        session.add(Admin(team_id="T1", user_id="U1"))
        assert (
            insert_if_absent(session, Admin.__table__, {"team_id": "T1", "user_id": "U1"}) is False
        )  # type: ignore[arg-type]
        assert (
            insert_if_absent(session, Admin.__table__, {"team_id": "T1", "user_id": "U2"}) is True
        )  # type: ignore[arg-type]
    with transaction(sessions) as session:
        assert sorted(a.user_id for a in session.query(Admin)) == ["U1", "U2"]


def test_bolt_builds_no_arguments_for_the_global_middleware(
    acks_only: SlackDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A middleware function gets its arguments built from its signature on every request;
    # Opsloop's one global middleware is a Middleware object, called with the request.
    built: list[object] = []
    real = custom_middleware.build_required_kwargs

    def counted(*args: Any, **kwargs: Any) -> Any:
        built.append(kwargs.get("required_arg_names"))
        return real(*args, **kwargs)

    monkeypatch.setattr(custom_middleware, "build_required_kwargs", counted)

    result = acks_only.command("/feedback", "Acme: export times out #billing")

    assert result.status == 200 and "Logged" in str(result.answer.params.get("text"))
    assert built == []


def test_the_new_record_is_what_reading_it_back_gives(sessions: SessionFactory) -> None:
    # The receipt is rendered from the record the insert built, not from a read-back: it
    # must be the same, down to the timezone its time is in.
    two_hours_east = timezone(timedelta(hours=2))
    logged = log_command_feedback(
        sessions,
        team_id="T0BACK",
        reporter_id="U1",
        parsed=parse_inline("Acme: export times out #billing #export #billing nps:7"),
        submission_key="cmd:back",
        now=datetime(2026, 12, 2, 12, 0, tzinfo=two_hours_east),
        alerts=detractor_alerts,
    )
    [stored] = list_feedback_records(sessions, team_id="T0BACK", since=None)
    assert logged.feedback == stored
    assert logged.feedback.created_at.utcoffset() == timedelta(0)


@pytest.mark.postgres
def test_after_an_autocommit_write_the_connection_is_transactional_again(
    engine: Engine, db_url: str
) -> None:
    """The ack write switches the driver's autocommit on for its one statement; the
    connection must go back to the pool with it off, or the next session's statements
    would each commit on their own and a rollback would undo nothing."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    one = make_engine(db_url, pool_size=1, max_overflow=0)  # one connection, reused
    try:
        sessions = make_session_factory(one)
        new_id = store.store_feedback(
            sessions,
            team_id="T1",
            submission_key="cmd:autocommit",
            tags=("billing",),
            text="export times out",
            reporter_id="U1",
            created_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
        )
        assert new_id is not None

        with pytest.raises(RuntimeError), transaction(sessions) as session:
            session.add(Admin(team_id="T1", user_id="U0ROLLBACK"))
            session.flush()
            raise RuntimeError("the command failed after its first write")

        with transaction(sessions) as session:
            assert session.scalar(select(Admin).where(Admin.user_id == "U0ROLLBACK")) is None
            stored = store.get_feedback(session, team_id="T1", feedback_id=new_id)
            assert stored is not None and [t.tag for t in stored.tags] == ["billing"]
    finally:
        one.dispose()
