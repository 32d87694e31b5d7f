"""Feedback storage on both databases: idempotency under concurrency, indexes, tag queries."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, bindparam, insert, inspect
from sqlalchemy.exc import DBAPIError

from bot.clock import FixedClock
from bot.feedback import service
from bot.feedback.parse import ParsedFeedback
from storage import feedback as store
from storage.db import SessionFactory, driver_write, make_engine, make_session_factory, transaction
from storage.errors import DatabaseUnavailableError
from storage.models.feedback import Feedback
from tests.conftest import UNREACHABLE_DATABASES


def log(
    sessions: SessionFactory, clock: FixedClock, key: str, **fields: object
) -> service.LoggedFeedback:
    parsed = ParsedFeedback(**{"text": "some feedback", **fields})  # type: ignore[arg-type]
    return service.log_feedback(
        sessions,
        team_id="T1",
        reporter_id="U1",
        parsed=parsed,
        submission_key=key,
        now=clock(),
    )


def test_concurrent_submissions_with_one_key_store_one_record(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    barrier = threading.Barrier(4)
    results: list[service.LoggedFeedback] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            barrier.wait()
            results.append(log(sessions, clock, "modal:same", tags=("a", "b")))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(r.created for r in results) == [False, False, False, True]
    assert len({r.feedback.id for r in results}) == 1
    [record] = service.list_feedback_records(sessions, team_id=None, since=None)
    assert record.tags == ("a", "b")  # tags written once, by the one that created it


def test_same_key_in_another_team_is_another_record(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    log(sessions, clock, "k")
    other = service.log_feedback(
        sessions,
        team_id="T2",
        reporter_id="U1",
        parsed=ParsedFeedback(text="x"),
        submission_key="k",
        now=clock(),
    )
    assert other.created


def test_indexes_for_time_and_tag_queries_exist(engine: Engine) -> None:
    inspector = inspect(engine)
    feedback_indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("feedback")}
    assert feedback_indexes["ix_feedback_team_id_created_at"] == ["team_id", "created_at"]
    tag_indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("feedback_tags")}
    assert tag_indexes["ix_feedback_tags_team_id_tag"] == ["team_id", "tag"]


def test_score_outside_the_range_is_refused_by_the_database(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        log(sessions, clock, "bad", nps=11)


def test_top_tags_and_nps_counts_respect_team_and_window(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    log(sessions, clock, "1", tags=("billing", "ux"), nps=10)
    log(sessions, clock, "2", tags=("billing",), nps=3)
    clock.advance(days=2)
    log(sessions, clock, "3", tags=("api",), nps=8)
    service.log_feedback(
        sessions,
        team_id="T2",
        reporter_id="U1",
        parsed=ParsedFeedback(text="x", tags=("billing",), nps=0),
        submission_key="4",
        now=clock(),
    )
    with transaction(sessions) as session:
        assert store.list_top_tags(session, team_id="T1") == [
            ("billing", 2),
            ("api", 1),
            ("ux", 1),
        ]
        assert store.list_top_tags(session, team_id="T1", since=clock() - timedelta(days=1)) == [
            ("api", 1)
        ]
        counts = store.count_nps_scores(
            session, team_id="T1", since=clock() - timedelta(days=3), until=clock()
        )
    assert counts == {10: 1, 3: 1, 8: 1}


def test_deleting_feedback_removes_its_tags(sessions: SessionFactory, clock: FixedClock) -> None:
    logged = log(sessions, clock, "1", tags=("billing",))
    with transaction(sessions) as session:
        row = store.get_feedback(session, team_id="T1", feedback_id=logged.feedback.id)
        session.delete(row)
    with transaction(sessions) as session:
        assert store.list_top_tags(session, team_id="T1") == []


def test_a_column_name_that_is_no_column_is_refused_not_dropped(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    # The ack path's insert names only the columns it is given: a misspelled one must not
    # quietly store the record without that value.
    with pytest.raises(KeyError, match="custmer"):
        store.store_feedback(
            sessions,
            team_id="T1",
            submission_key="cmd:typo",
            tags=(),
            text="some feedback",
            custmer="Acme",
            reporter_id="U1",
            created_at=clock(),
        )
    assert service.list_feedback_records(sessions, team_id="T1", since=None) == []


def store_one(
    sessions: SessionFactory, clock: FixedClock, key: str, tags: tuple[str, ...] = ()
) -> int | None:
    """`/feedback`'s ack write of one record (storage.feedback.store_feedback)."""
    return store.store_feedback(
        sessions,
        team_id="T1",
        submission_key=key,
        tags=tags,
        text="export times out",
        reporter_id="U1",
        created_at=clock(),
    )


def _tags_refuse(engine: Engine, tag: str) -> None:
    """Make the database refuse a tag row `tag` (a trigger): the record's second part fails
    after its first was written."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse_tag() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.tag = '{tag}' THEN RAISE EXCEPTION 'tag refused'; END IF; "
                "RETURN NEW; END $$"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_tag BEFORE INSERT ON feedback_tags "
                "FOR EACH ROW EXECUTE FUNCTION refuse_tag()"
            )
        else:
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_tag BEFORE INSERT ON feedback_tags "
                f"WHEN NEW.tag = '{tag}' BEGIN SELECT RAISE(ABORT, 'tag refused'); END"
            )


def test_a_write_that_fails_half_way_keeps_nothing_and_the_next_one_is_stored(
    engine: Engine, sessions: SessionFactory, clock: FixedClock
) -> None:
    """The ack write goes to the driver (storage.db.driver_write): when its tags fail after
    the record was inserted, the record goes too (SQLite rolls its transaction back,
    PostgreSQL's one statement fails whole), the error is SQLAlchemy's, and the connection
    (SQLite: the process's one write turn with it) is back in the pool for the next write."""
    _tags_refuse(engine, "refused")

    def write(key: str, tags: tuple[str, ...]) -> int | None:
        return store_one(sessions, clock, key, tags)

    with pytest.raises(DBAPIError, match="tag refused"):
        write("cmd:half", ("billing", "refused"))
    assert service.list_feedback_records(sessions, team_id="T1", since=None) == []
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]

    # From another thread: on SQLite a write turn the failed write kept would hold it up.
    written: list[int | None] = []
    other = threading.Thread(target=lambda: written.append(write("cmd:half", ("billing",))))
    other.start()
    other.join(timeout=10)
    assert not other.is_alive(), "the next write waited on the failed one's connection"
    [stored] = written  # the same key: nothing of the first was kept

    assert stored is not None
    [record] = service.list_feedback_records(sessions, team_id="T1", since=None)
    assert record.id == stored and record.tags == ("billing",)
    with pytest.raises(RuntimeError), transaction(sessions) as session:  # transactional again
        store.add_feedback(
            session,
            team_id="T1",
            submission_key="cmd:rolled",
            tags=(),
            text="x",
            reporter_id="U1",
            created_at=clock(),
        )
        raise RuntimeError("the command failed after its write")
    assert len(service.list_feedback_records(sessions, team_id="T1", since=None)) == 1


@UNREACHABLE_DATABASES
def test_a_database_that_cannot_be_reached_is_unavailable_not_a_driver_error(
    url: str, tmp_path: Path, clock: FixedClock
) -> None:
    """The ack write opens its connection from the pool itself (storage.db.driver_write): a
    database it cannot connect to is `DatabaseUnavailableError` — "nothing was saved" to
    the user — as for every other write, not the driver's own error and a traceback."""
    engine = make_engine(url.format(tmp=tmp_path))
    try:
        with pytest.raises(DatabaseUnavailableError):
            store_one(make_session_factory(engine), clock, "cmd:unreachable")
    finally:
        engine.dispose()


def test_a_statement_that_needs_sqlalchemys_execution_is_refused_on_the_driver(
    sessions: SessionFactory,
) -> None:
    """The driver write passes only the values it is given: a statement SQLAlchemy would
    have completed (here the status column's Python-side default) is refused before
    anything is written, and so is a value left out."""
    table = Feedback.__table__
    without_status = insert(table).values(
        team_id=bindparam("team_id"), submission_key=bindparam("submission_key")
    )
    refused = pytest.raises(ValueError, match="takes its values by name only")
    with refused, driver_write(sessions) as write:
        write.first_row(without_status, {"team_id": "T1", "submission_key": "k"})
    names = ("team_id", "submission_key", "status", "text", "reporter_id", "created_at")
    complete = insert(table).values({name: bindparam(name) for name in names})
    with pytest.raises(KeyError, match="created_at"), driver_write(sessions) as write:
        write.first_row(complete, {name: "x" for name in names[:-1]})
    assert service.list_feedback_records(sessions, team_id="T1", since=None) == []
