"""Migrations upgrade and downgrade cleanly and match the models (alembic check)."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import Engine, inspect, text

from storage import schema
from storage.db import make_engine, make_session_factory, transaction
from storage.models import (
    Base,
    ChecklistItem,
    ChecklistRun,
    ChecklistTemplate,
    Escalation,
    EscalationEvent,
    OutboxMessage,
)
from tests.conftest import PG_URL, _libpq, with_lock_wait


def test_upgrade_creates_every_model_table_and_check_finds_no_drift(db_url: str) -> None:
    engine = make_engine(db_url)
    schema.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert schema.is_up_to_date(engine)
    schema.check(engine)  # raises on drift between models and migrations
    engine.dispose()


def test_downgrade_to_base_and_back(db_url: str) -> None:
    engine = make_engine(db_url)
    schema.upgrade(engine)
    schema.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) - {"alembic_version"} == set()
    assert schema.current_revision(engine) is None
    schema.upgrade(engine)
    assert schema.is_up_to_date(engine)
    engine.dispose()


def test_migration_files_sort_in_chain_order() -> None:
    """`ls` shows the chain: file N is revision N, whose parent is file N-1's revision."""
    import ast

    versions = sorted((schema.MIGRATIONS_DIR / "versions").glob("*.py"))
    chain: list[tuple[str, str | None]] = []
    for path in versions:
        values = {
            node.target.id: ast.literal_eval(node.value)
            for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.value is not None
        }
        chain.append((values["revision"], values["down_revision"]))
        assert path.name.startswith(f"{len(chain):04d}_"), path.name
    assert [parent for _, parent in chain] == [None, *[rev for rev, _ in chain[:-1]]]


def _seed(engine: Engine) -> None:
    """One template, a run with an item (not yet posted: no ts), an escalation with an
    event, and a digest the outbox delivered — the rows a migration must carry."""
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    with transaction(make_session_factory(engine)) as session:
        template = ChecklistTemplate(
            team_id="T1",
            name="onboarding",
            version=1,
            title="On",
            items=[],
            fingerprint="f",
            created_at=at,
        )
        session.add(template)
        session.flush()
        run = ChecklistRun(
            team_id="T1",
            key="abc",
            template_id=template.id,
            template_name="onboarding",
            template_version=1,
            title="On",
            channel_id="C1",
            message_ts=None,
            started_by="U1",
            started_at=at,
        )
        run.items = [
            ChecklistItem(
                team_id="T1", position=0, title="Kickoff", owner_spec="starter", due_at=at
            )
        ]
        session.add(run)
        escalation = Escalation(
            team_id="T1",
            title="Down",
            severity="sev1",
            owner_id="U1",
            reporter_id="U2",
            status="open",
            created_at=at,
            ack_due_at=at,
            resolve_due_at=at,
        )
        session.add(escalation)
        session.flush()
        session.add(
            EscalationEvent(
                team_id="T1", escalation_id=escalation.id, actor_id="U2", kind="opened", at=at
            )
        )
        session.add(
            OutboxMessage(
                team_id="T1",
                key="digest:2026-W47:team",
                method="chat.postMessage",
                channel="C9",
                payload="{}",
                state="sent",
                posted_channel="C9",
                posted_ts="1.2",
                created_at=at,
                sent_at=at,
            )
        )


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)
            for table in ("checklist_runs", "checklist_items", "escalations", "escalation_events")
        }


def test_migrations_keep_every_row_down_and_up_again(db_url: str) -> None:
    """Regression: on SQLite a batch migration rebuilt checklist_runs and escalations with
    foreign keys on, and ON DELETE CASCADE emptied checklist_items and escalation_events."""
    engine = make_engine(db_url)
    schema.upgrade(engine)
    _seed(engine)
    before = _counts(engine)
    assert before == {
        "checklist_runs": 1,
        "checklist_items": 1,
        "escalations": 1,
        "escalation_events": 1,
    }
    schema.downgrade(engine, "ix01")  # before the outbox: the sent digest is back in sends
    assert _counts(engine) == before
    with engine.connect() as connection:
        sends = connection.execute(text("SELECT kind, period, target, state FROM sends")).all()
    assert [tuple(row) for row in sends] == [("digest", "2026-W47", "team", "sent")]
    schema.upgrade(engine)
    assert _counts(engine) == before
    with engine.connect() as connection:
        keys = connection.execute(text("SELECT key, state FROM outbox")).all()
    assert [tuple(row) for row in keys] == [("digest:2026-W47:team", "sent")]
    engine.dispose()


def test_triage_migration_keeps_feedback_and_kpis_down_and_up_again(db_url: str) -> None:
    """tr01 adds triage columns and the status history to feedback, cadence and bounds to
    KPIs: going down to sk01 drops only those, and back up every KPI is weekly again."""
    from storage.models import Feedback, FeedbackStatusChange, FeedbackTag, Kpi

    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    engine = make_engine(db_url)
    schema.upgrade(engine)
    with transaction(make_session_factory(engine)) as session:
        feedback = Feedback(
            team_id="T1",
            submission_key="k1",
            text="slow",
            status="triaged",
            reporter_id="U1",
            created_at=at,
            assignee_id="U2",
            escalation_id=7,
        )
        feedback.tags = [FeedbackTag(team_id="T1", tag="billing")]
        feedback.status_changes = [
            FeedbackStatusChange(team_id="T1", status="triaged", actor_id="U2", at=at, note="")
        ]
        session.add(feedback)
        session.add(Kpi(team_id="T1", key="churn", name="Churn", cadence="monthly", max_value=50))
    schema.downgrade(engine, "sk01")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT status FROM feedback")).scalar() == "triaged"
        assert connection.execute(text("SELECT tag FROM feedback_tags")).scalar() == "billing"
        assert "cadence" not in {c["name"] for c in inspect(connection).get_columns("kpis")}
        assert "feedback_status_changes" not in inspect(connection).get_table_names()
    schema.upgrade(engine)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT assignee_id, deleted_at FROM feedback")).one()
        assert tuple(row) == (None, None)
        assert connection.execute(text("SELECT cadence FROM kpis")).scalar() == "weekly"
        assert connection.execute(text("SELECT tag FROM feedback_tags")).scalar() == "billing"
    engine.dispose()


def test_a_new_postgresql_database_is_migrated_while_others_hold_transactions_open(
    db_url: str,
) -> None:
    """CREATE INDEX CONCURRENTLY waits for every transaction in the whole database, whatever
    its schema (another deployment's, another test's). A new install's outbox is empty, so
    its index is built plainly and the migration waits for nobody."""
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    # Another session mid-transaction: REPEATABLE READ keeps its snapshot until it ends.
    elsewhere = psycopg.connect(_libpq(PG_URL))
    elsewhere.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    try:
        elsewhere.execute("SELECT 1")
        impatient = make_engine(with_lock_wait(db_url, "2s"))
        try:
            schema.upgrade(
                impatient
            )  # with CONCURRENTLY: "canceling statement due to lock timeout"
            assert schema.is_up_to_date(impatient)
        finally:
            impatient.dispose()
    finally:
        elsewhere.close()
