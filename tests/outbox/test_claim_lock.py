"""The claim pass's PostgreSQL advisory lock: one pass at a time on one outbox, and none
waiting on a deployment with its own outbox in another schema of the same database."""

from __future__ import annotations

import uuid

import pytest

from storage.db import make_engine, make_session_factory, transaction
from storage.errors import DatabaseUnavailableError
from storage.outbox import one_claim_pass_at_a_time
from tests.conftest import _drop_schema, with_lock_wait


@pytest.mark.postgres
def test_claim_passes_wait_on_one_outbox_and_not_on_another_schemas(
    db_url: str, engine: object
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only (SQLite's BEGIN IMMEDIATE serialises the passes)")
    here = make_engine(db_url)
    same = make_engine(with_lock_wait(db_url, "500ms"))
    other_schema = f"t_{uuid.uuid4().hex[:12]}"
    current = db_url.split("search_path%3D")[1].split("%20")[0]
    other = make_engine(with_lock_wait(db_url.replace(current, other_schema), "500ms"))
    try:
        with other.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{other_schema}"')
            # another deployment's own outbox (its shape does not matter to the lock)
            connection.exec_driver_sql(f'CREATE TABLE "{other_schema}".outbox (id int)')
        with transaction(make_session_factory(here)) as holding:
            one_claim_pass_at_a_time(holding)  # a claim pass in progress, lock held
            with transaction(make_session_factory(other)) as elsewhere:
                one_claim_pass_at_a_time(elsewhere)  # another schema's pass: no wait
            with (
                pytest.raises(DatabaseUnavailableError, match="lock timeout"),
                transaction(make_session_factory(same)) as second,
            ):
                one_claim_pass_at_a_time(second)  # the same schema's: waits its turn
    finally:
        for engine in (here, same, other):
            engine.dispose()
        _drop_schema(other_schema)
