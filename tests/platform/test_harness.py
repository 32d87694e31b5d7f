"""The test harness itself: a PostgreSQL test that leaves a connection inside a transaction
on its schema errors at teardown, naming that connection, instead of hanging the run."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.conftest import PG_URL, _drop_schema, _libpq, postgres_available


@pytest.mark.postgres
def test_a_transaction_left_open_on_a_schema_is_ended_and_named() -> None:
    if not postgres_available():
        pytest.skip(f"PostgreSQL does not answer at {PG_URL}")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(PG_URL), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
        admin.execute(f'CREATE TABLE "{name}".held (id int)')
    left_open = psycopg.connect(_libpq(PG_URL))  # not autocommit: the SELECT opens a transaction
    try:
        left_open.execute(f'SELECT * FROM "{name}".held')
        with pytest.raises(AssertionError, match=r"idle in transaction: SELECT \* FROM"):
            _drop_schema(name, wait="200ms")
        with psycopg.connect(_libpq(PG_URL), autocommit=True) as admin:
            gone = admin.execute(
                "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (name,)
            ).fetchone()
        assert gone == (0,)  # dropped all the same
        with pytest.raises(psycopg.OperationalError):
            left_open.execute("SELECT 1")  # the server ended the connection left open
    finally:
        left_open.close()
