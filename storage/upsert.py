"""Insert-if-absent that works the same on SQLite and PostgreSQL.

These inserts sit on the ack path of every command (a feedback record, an outbox row, an
audit entry), so each statement is built once per table and dialect and executed with its
values as parameters on the session's (or the caller's) connection: building
`insert(...).values(**row)` anew costs more Python than the round trip itself (coercing
every value, a new cache key).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection, Row, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert


@cache
def _insert_unless_present(table: Table, dialect: str) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING RETURNING <primary key> in `dialect`, without values.

    ON CONFLICT DO NOTHING instead of catching IntegrityError: on PostgreSQL a failed
    INSERT aborts the whole transaction, which would lose the caller's other work.
    RETURNING rather than rowcount tells whether it inserted: psycopg reports -1 for ON
    CONFLICT inserts.
    """
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).on_conflict_do_nothing()
    return statement.returning(*table.primary_key.columns)  # type: ignore[no-any-return]


def insert_unless_present(
    connection: Connection, table: Table, values: dict[str, Any]
) -> Row[Any] | None:
    """Insert a row unless a unique constraint already holds one: the new row's primary
    key, or None when it was there already. One statement."""
    statement = _insert_unless_present(table, connection.dialect.name)
    return connection.execute(statement, values).first()


def insert_if_absent(session: Session, table: Table, values: dict[str, Any]) -> bool:
    """Insert a row in `session`'s transaction unless a unique constraint already holds
    one; True when inserted."""
    # What the session still holds goes first, as session.execute would autoflush it: the
    # new row may refer to it.
    session.flush()
    return insert_unless_present(session.connection(), table, values) is not None
