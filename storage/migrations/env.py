"""Alembic environment: the engine comes from `storage.schema` or from DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Engine

from storage.db import make_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine  # type: ignore[no-any-return]
    url = os.environ.get("DATABASE_URL", "sqlite:///opsloop.db")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return make_engine(url)


def run_migrations_offline() -> None:
    context.configure(
        url=os.environ.get("DATABASE_URL", "sqlite:///opsloop.db"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with _engine().connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table by copying it and dropping the old one; with
            # foreign keys on, SQLite empties the old table first, and ON DELETE CASCADE
            # would empty its children (checklist items, escalation events). The pragma
            # only takes effect outside a transaction, so it goes to the raw connection
            # before Alembic begins one; integrity is checked before it is switched back.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
                render_as_batch=True,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
