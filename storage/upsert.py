"""Insert-if-absent that works the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_if_absent(session: Session, table: Table, values: dict[str, Any]) -> bool:
    """Insert a row unless a unique constraint already holds one; True when inserted.

    ON CONFLICT DO NOTHING instead of catching IntegrityError: on PostgreSQL a failed
    INSERT aborts the whole transaction, which would lose the caller's other work.
    """
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = (
        module.insert(table)
        .values(**values)
        .on_conflict_do_nothing()
        # RETURNING rather than rowcount: psycopg reports -1 for ON CONFLICT inserts.
        .returning(*table.primary_key.columns)
    )
    return session.execute(statement).first() is not None


def insert_returning_if_absent(
    session: Session, table: Table, values: dict[str, Any]
) -> Row[Any] | None:
    """Insert a row unless a unique constraint already holds one: the new row's columns
    (defaults included), or None when it was there already. One round trip."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    statement = (
        module.insert(table).values(**values).on_conflict_do_nothing().returning(*table.columns)
    )
    return session.execute(statement).first()
