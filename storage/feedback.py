"""Query functions for feedback and its tags."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ARRAY, Connection, String, Table, bindparam, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import Insert, Select

from storage.db import SessionFactory, driver_write
from storage.models.feedback import Feedback, FeedbackStatusChange, FeedbackTag

# Core, not the ORM's bulk insert: one statement for all of a record's tags for a fraction
# of the Python (nothing is tracked in a session for these rows). Parameters named, so the
# driver can run it too (`store_feedback`).
_INSERT_TAGS = insert(FeedbackTag.__table__).values(  # type: ignore[arg-type]
    team_id=bindparam("team_id"), feedback_id=bindparam("feedback_id"), tag=bindparam("tag")
)


def store_feedback(
    sessions: SessionFactory,
    *,
    team_id: str,
    submission_key: str,
    tags: Sequence[str],
    **values: Any,
) -> int | None:
    """`insert_feedback` committed by itself, outside any session, on the driver
    (`storage.db.driver_write`): on PostgreSQL its one statement in autocommit, on SQLite
    its two in one transaction. The new record's id, or None when its submission key is
    stored already."""
    columns, names, wanted = _new_record(team_id, submission_key, tags, values)
    with driver_write(sessions) as write:
        if write.dialect_name == "postgresql":
            row = write.first_row(_insert_with_tags(names), {**columns, "tags": wanted})
            return None if row is None else int(row[0])
        row = write.first_row(_insert_record(names), columns)
        if row is None:
            return None
        if wanted:
            write.run_many(_INSERT_TAGS, _tag_rows(team_id, int(row[0]), wanted))
        return int(row[0])


def insert_feedback(
    connection: Connection,
    *,
    team_id: str,
    submission_key: str,
    tags: Sequence[str],
    **values: Any,
) -> int | None:
    """Store one feedback item and its tags unless its submission key was seen: the new
    record's id, or None when that key is stored already.

    The unique (team_id, submission_key) constraint makes a repeated submission — a double
    click, or Slack retrying — land on the first row instead of adding another, without a
    read first. This is the ack path of every `/feedback`, so a new record costs one
    statement on PostgreSQL, where the tags are inserted by the same statement (so that
    `store_feedback` can run it without a transaction around it), and two on
    SQLite (the insert, then one insert of all its tags). Only the id comes back: the
    caller has every other column already, and returning all 22 cost psycopg and
    SQLAlchemy a description and a row to build for each.
    """
    columns, names, wanted = _new_record(team_id, submission_key, tags, values)
    if connection.dialect.name == "postgresql":
        row = connection.execute(_insert_with_tags(names), {**columns, "tags": wanted}).first()
        return None if row is None else int(row.id)
    row = connection.execute(_insert_record(names), columns).first()
    if row is None:
        return None
    if wanted:
        connection.execute(_INSERT_TAGS, _tag_rows(team_id, int(row.id), wanted))
    return int(row.id)


def _new_record(
    team_id: str, submission_key: str, tags: Sequence[str], values: dict[str, Any]
) -> tuple[dict[str, Any], tuple[str, ...], list[str]]:
    """A new record's columns (its status new), their names checked and sorted (the key of
    its insert statement), and its tags once each in the order given."""
    columns = {"team_id": team_id, "submission_key": submission_key, "status": "new", **values}
    return columns, _column_names(tuple(sorted(columns))), list(dict.fromkeys(tags))


def _tag_rows(team_id: str, feedback_id: int, tags: list[str]) -> list[dict[str, Any]]:
    return [{"team_id": team_id, "feedback_id": feedback_id, "tag": tag} for tag in tags]


def add_feedback(
    session: Session, *, team_id: str, submission_key: str, tags: Sequence[str], **values: Any
) -> tuple[int, bool]:
    """`insert_feedback` in `session`'s transaction: (the id of the record stored for this
    submission key, True when it is new)."""
    session.flush()  # as session.execute would: the new row may refer to pending ones
    new_id = insert_feedback(
        session.connection(), team_id=team_id, submission_key=submission_key, tags=tags, **values
    )
    if new_id is not None:
        return new_id, True
    stored = get_feedback_by_key(session, team_id=team_id, submission_key=submission_key)
    assert stored is not None
    return stored.id, False


@cache
def _column_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """`names`, each a column of the feedback table: a misspelled one raises instead of
    being dropped (SQLite's insert would ignore the parameter, storing the row without it)."""
    unknown = set(names) - set(Feedback.__table__.columns.keys())
    if unknown:
        raise KeyError(f"not columns of feedback: {sorted(unknown)}")
    return names


@cache
def _insert_record(names: tuple[str, ...]) -> Insert:
    """SQLite: a record of the columns `names` unless its submission key is stored; the
    new record's id, or no row. One statement per set of column names (the ON CONFLICT
    DO NOTHING of `storage.upsert`, with only these columns as parameters)."""
    table: Table = Feedback.__table__  # type: ignore[assignment]
    return (
        sqlite.insert(table)
        .values({name: bindparam(name, type_=table.columns[name].type) for name in names})
        .on_conflict_do_nothing()
        .returning(table.c.id)
    )


@cache
def _insert_with_tags(names: tuple[str, ...]) -> Select[Any]:
    """PostgreSQL: a record of the columns `names` unless its submission key is stored, and
    its tags (the `tags` array parameter) in the same statement; the new record's id, or
    no row. One statement per set of column names.

        WITH new AS (INSERT INTO feedback (…names) VALUES (…) ON CONFLICT DO NOTHING
                     RETURNING id, team_id),
             tagged AS (INSERT INTO feedback_tags SELECT new.team_id, new.id, unnest(:tags)
                        FROM new)
        SELECT new.id FROM new

    Only the given columns are parameters (the others are left to the table's defaults):
    each parameter costs SQLAlchemy and psycopg Python to process on every execution.
    """
    table: Table = Feedback.__table__  # type: ignore[assignment]
    tags_table: Table = FeedbackTag.__table__  # type: ignore[assignment]
    new = (
        postgresql.insert(table)
        .values({name: bindparam(name, type_=table.columns[name].type) for name in names})
        .on_conflict_do_nothing()
        .returning(table.c.id, table.c.team_id)
        .cte("new")
    )
    tagged = insert(tags_table).from_select(
        ["team_id", "feedback_id", "tag"],
        select(new.c.team_id, new.c.id, func.unnest(bindparam("tags", type_=ARRAY(String)))),
    )
    return select(new.c.id).add_cte(tagged.cte("tagged"))


def get_feedback(session: Session, *, team_id: str, feedback_id: int) -> Feedback | None:
    """One feedback item of a team by id."""
    return session.scalar(
        select(Feedback).where(Feedback.team_id == team_id, Feedback.id == feedback_id)
    )


def get_feedback_by_key(session: Session, *, team_id: str, submission_key: str) -> Feedback | None:
    """The feedback item stored for one submission key."""
    return session.scalar(
        select(Feedback).where(
            Feedback.team_id == team_id, Feedback.submission_key == submission_key
        )
    )


def set_feedback_tags(session: Session, feedback: Feedback, tags: Iterable[str]) -> None:
    """Replace the tags of `feedback` (already normalised by the caller)."""
    wanted = list(dict.fromkeys(tags))
    feedback.tags = [t for t in feedback.tags if t.tag in wanted]
    have = {t.tag for t in feedback.tags}
    for tag in wanted:
        if tag not in have:
            feedback.tags.append(FeedbackTag(team_id=feedback.team_id, tag=tag))
    session.flush()


def list_recent_feedback(
    session: Session,
    *,
    team_id: str,
    tag: str | None = None,
    customer_contains: str | None = None,
    status: str | None = None,
    limit: int = 10,
    offset: int = 0,
) -> list[Feedback]:
    """Newest first, deleted ones left out; only those with `tag`, in `status`, or whose
    customer contains the (casefolded) text."""
    statement = select(Feedback).where(Feedback.team_id == team_id, Feedback.deleted_at.is_(None))
    if status is not None:
        statement = statement.where(Feedback.status == status)
    if tag is not None:
        statement = statement.where(
            select(FeedbackTag.id)
            .where(
                FeedbackTag.feedback_id == Feedback.id,
                FeedbackTag.team_id == team_id,
                FeedbackTag.tag == tag,
            )
            .exists()
        )
    if customer_contains is not None:
        pattern = "%" + _escape_like(customer_contains) + "%"
        statement = statement.where(Feedback.customer_key.like(pattern, escape="\\"))
    statement = statement.order_by(Feedback.created_at.desc(), Feedback.id.desc())
    return list(session.scalars(statement.offset(offset).limit(limit)))


def count_nps_scores(
    session: Session, *, team_id: str, since: datetime, until: datetime
) -> dict[int, int]:
    """Score → number of responses created after `since`, up to and including `until`."""
    statement = (
        select(Feedback.nps_score, func.count())
        .where(
            Feedback.team_id == team_id,
            Feedback.created_at > since,
            Feedback.created_at <= until,
            Feedback.nps_score.is_not(None),
            Feedback.deleted_at.is_(None),
        )
        .group_by(Feedback.nps_score)
    )
    return {
        int(score): int(count) for score, count in session.execute(statement) if score is not None
    }


def list_top_tags(
    session: Session, *, team_id: str, limit: int = 100, since: datetime | None = None
) -> list[tuple[str, int]]:
    """The team's most used tags with their counts, most used first (ties by name)."""
    used = func.count(FeedbackTag.id).label("used")
    statement = select(FeedbackTag.tag, used).where(FeedbackTag.team_id == team_id)
    statement = statement.join(Feedback, Feedback.id == FeedbackTag.feedback_id).where(
        Feedback.deleted_at.is_(None)
    )
    if since is not None:
        statement = statement.where(Feedback.created_at >= since)
    statement = statement.group_by(FeedbackTag.tag).order_by(used.desc(), FeedbackTag.tag)
    return [(tag, int(count)) for tag, count in session.execute(statement.limit(limit))]


def list_feedback(
    session: Session,
    *,
    team_id: str | None = None,
    since: datetime | None = None,
    include_deleted: bool = False,
) -> list[Feedback]:
    """Every feedback item (of one team, or all), oldest first, for exports; deleted ones
    only when asked."""
    statement = select(Feedback)
    if not include_deleted:
        statement = statement.where(Feedback.deleted_at.is_(None))
    if team_id is not None:
        statement = statement.where(Feedback.team_id == team_id)
    if since is not None:
        statement = statement.where(Feedback.created_at >= since)
    return list(session.scalars(statement.order_by(Feedback.created_at, Feedback.id)))


def add_status_change(
    session: Session, *, feedback: Feedback, status: str, actor_id: str, at: datetime, note: str
) -> FeedbackStatusChange:
    """Set `feedback`'s status and record the step (who, when, why)."""
    feedback.status = status
    change = FeedbackStatusChange(
        team_id=feedback.team_id, status=status, actor_id=actor_id, at=at, note=note
    )
    feedback.status_changes.append(change)
    session.flush()
    return change


def list_linked_feedback_ids(session: Session, *, team_id: str, escalation_id: int) -> list[int]:
    """Feedback items (not deleted) linked to one escalation, oldest first."""
    statement = (
        select(Feedback.id)
        .where(
            Feedback.team_id == team_id,
            Feedback.escalation_id == escalation_id,
            Feedback.deleted_at.is_(None),
        )
        .order_by(Feedback.id)
    )
    return [int(i) for i in session.scalars(statement)]


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def delete_feedback(session: Session, feedback: Feedback) -> None:
    """Remove one feedback item and its tags (an undone capture; the caller audits it)."""
    session.delete(feedback)
    session.flush()
