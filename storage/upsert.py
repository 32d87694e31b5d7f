"""Insert-if-absent that works the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def _insert_unless_present(session: Session, table: Table, values: dict[str, Any]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the session's dialect.

    ON CONFLICT DO NOTHING instead of catching IntegrityError: on PostgreSQL a failed
    INSERT aborts the whole transaction, which would lose the caller's other work.
    RETURNING rather than rowcount tells whether it inserted: psycopg reports -1 for ON
    CONFLICT inserts.
    """
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).values(**values).on_conflict_do_nothing()


def insert_if_absent(session: Session, table: Table, values: dict[str, Any]) -> bool:
    """Insert a row unless a unique constraint already holds one; True when inserted."""
    statement = _insert_unless_present(session, table, values)
    return session.execute(statement.returning(*table.primary_key.columns)).first() is not None


def insert_returning_if_absent(
    session: Session, table: Table, values: dict[str, Any]
) -> Row[Any] | None:
    """Insert a row unless a unique constraint already holds one: the new row's columns
    (defaults included), or None when it was there already. One round trip."""
    statement = _insert_unless_present(session, table, values)
    return session.execute(statement.returning(*table.columns)).first()
