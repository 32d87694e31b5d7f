"""The digest's reads follow the week, not the history, whatever the planner knows.

With statistics (`ANALYZE`) and a few thousand old records, SQLite's planner answered "open at
the week's end" and "runs touching the week" from the created_at / started_at index, a
one-sided range over every record ever opened — 12 ms of a 70 ms digest at a million
feedback rows (`python -m bench digest`). Each test fills a history, analyses it, and checks
both what comes back and how SQLite reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, insert, text

from storage import checklists as checklist_store
from storage import escalations as escalation_store
from storage.db import SessionFactory
from storage.models.checklists import ChecklistRun, ChecklistTemplate
from storage.models.escalations import Escalation

TEAM = "T0HISTORY"
WEEK_START = datetime(2026, 11, 16, tzinfo=UTC)
WEEK_END = WEEK_START + timedelta(days=7)
# enough for SQLite, once it has statistics, to pick the wrong index before the fix
ESCALATION_HISTORY = 10_000
RUN_HISTORY = 3_000
LONG_AGO = datetime(2024, 1, 1, tzinfo=UTC)


@contextmanager
def _plans(engine: Engine) -> Iterator[list[str]]:
    """SQLite's plan line for every SELECT run inside the block (none on PostgreSQL)."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    plans: list[str] = []
    try:
        yield plans
    finally:
        event.remove(engine, "before_cursor_execute", record)
    if engine.dialect.name != "sqlite":
        return  # its planner chose the intended indexes at a million rows (bench digest)
    with engine.connect() as connection:
        for statement, parameters in seen:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            plans.extend(str(row[-1]) for row in rows)


def _analyse(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))  # both dialects: SQLite's sqlite_stat1, PG's stats


def _escalation(n: int, *, created: datetime, resolved: datetime | None) -> dict[str, Any]:
    return {
        "team_id": TEAM,
        "title": f"escalation {n}",
        "severity": "sev3",
        "owner_id": "U0OWNER",
        "reporter_id": "U0REPORTER",
        "status": "open" if resolved is None else "resolved",
        "created_at": created,
        "ack_due_at": created + timedelta(hours=1),
        "resolve_due_at": created + timedelta(days=1),
        "resolved_at": resolved,
    }


def test_open_at_reads_the_open_and_the_late_not_every_escalation(
    engine: Engine, sessions: SessionFactory
) -> None:
    history = [
        _escalation(
            n, created=LONG_AGO + timedelta(hours=n), resolved=LONG_AGO + timedelta(hours=n + 2)
        )
        for n in range(ESCALATION_HISTORY)
    ]
    week = [
        # open at the week's end
        _escalation(1, created=WEEK_START + timedelta(days=1), resolved=None),
        # opened in the week, resolved after it: open at its end
        _escalation(
            2, created=WEEK_START + timedelta(days=2), resolved=WEEK_END + timedelta(days=1)
        ),
        # opened after the week: not open at its end, resolved or not
        _escalation(
            3, created=WEEK_END + timedelta(hours=1), resolved=WEEK_END + timedelta(days=1)
        ),
        _escalation(4, created=WEEK_END + timedelta(hours=2), resolved=None),
        # resolved inside the week: not open at its end
        _escalation(5, created=WEEK_START, resolved=WEEK_START + timedelta(days=3)),
    ]
    with sessions.begin() as session:
        session.execute(insert(Escalation), history + week)
    _analyse(engine)

    with _plans(engine) as plans, sessions() as session:
        still_open = escalation_store.list_open_at(session, team_id=TEAM, at=WEEK_END)
        titles = sorted(row.title for row in still_open)

    assert titles == ["escalation 1", "escalation 2"]
    if engine.dialect.name != "sqlite":
        return
    assert plans, "no statement was captured"
    assert not [p for p in plans if "created_at<" in p.replace(" ", "")], plans
    assert all("ix_escalations_team_id_resolved_at" in p for p in plans), plans


def test_runs_touching_the_week_read_the_week_not_every_run(
    engine: Engine, sessions: SessionFactory
) -> None:
    with sessions.begin() as session:
        template_id = session.execute(
            insert(ChecklistTemplate).returning(ChecklistTemplate.id),
            {
                "team_id": TEAM,
                "name": "onboarding",
                "version": 1,
                "title": "Onboarding",
                "items": [],
                "fingerprint": "f",
                "created_at": LONG_AGO,
            },
        ).scalar_one()

        def run(key: str, started: datetime, **ended: Any) -> dict[str, Any]:
            return {
                "team_id": TEAM,
                "key": key,
                "template_id": template_id,
                "template_name": "onboarding",
                "template_version": 1,
                "title": key,
                "channel_id": "C0ONBOARD",
                "started_by": "U0OWNER",
                "started_at": started,
                "status": "active",
                **ended,
            }

        history = [
            run(
                f"old-{n}",
                LONG_AGO + timedelta(hours=n),
                status="completed",
                completed_at=LONG_AGO + timedelta(hours=n + 5),
            )
            for n in range(RUN_HISTORY)
        ]
        week = [
            run("started-in-week", WEEK_START + timedelta(days=1)),
            run("active-since-before", WEEK_START - timedelta(days=30)),
            run(
                "completed-in-week",
                WEEK_START - timedelta(days=10),
                status="completed",
                completed_at=WEEK_START + timedelta(days=2),
            ),
            run(
                "cancelled-in-week",
                WEEK_START - timedelta(days=10),
                status="cancelled",
                cancelled_at=WEEK_START + timedelta(days=2),
            ),
            # started after the week: not part of it, even though active or ended since
            run("active-started-after", WEEK_END + timedelta(hours=1)),
            run(
                "completed-started-after",
                WEEK_END + timedelta(hours=1),
                status="completed",
                completed_at=WEEK_END + timedelta(hours=3),
            ),
        ]
        session.execute(insert(ChecklistRun), history + week)
    _analyse(engine)

    with _plans(engine) as plans, sessions() as session:
        runs = checklist_store.list_runs_touching(
            session, team_id=TEAM, start=WEEK_START, end=WEEK_END
        )
        keys = [r.key for r in runs]

    assert keys == [
        "active-since-before",
        "completed-in-week",
        "cancelled-in-week",
        "started-in-week",
    ]
    if engine.dialect.name != "sqlite":
        return
    run_plans = [p for p in plans if "checklist_runs" in p]
    assert run_plans, plans
    # the only started_at read is the week's own two-sided range ("started_at>? AND started_at<?")
    one_sided = [p for p in run_plans if "started_at<" in p and "started_at>" not in p]
    assert not one_sided, run_plans
