"""Digest at scale: build last week's digest over 10 k and 1 M feedback rows.

The database holds `size` feedback rows (one tag each) spread over about two years, plus
size/20 escalations, size/100 checklist runs of 8 items and 10 KPIs measured weekly. The
two most recent weeks (the digest's week and the week it is compared with) hold a fixed,
realistic amount whatever the size, so a digest whose queries use the (team_id, created_at)
style indexes should cost the same at every size. Rows are generated inside the database
(PostgreSQL `generate_series`, SQLite a recursive CTE) in one transaction.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text

from bench import report, servers
from bot.digest import service as digests
from bot.digest.render import render_digest
from bot.digest.sections import SECTIONS
from storage.db import make_engine, make_session_factory

TEAM = "TBENCH"
TZ = "UTC"
# Monday of the digest's week; `NOW` is the Monday after, when the digest goes out.
WEEK_START = datetime(2026, 11, 9, tzinfo=UTC)
NOW = WEEK_START + timedelta(days=7, hours=10)
HISTORY_DAYS = 730
RECENT_WEEKS = 2  # the digest's week and the week before, for "change vs last week"
PER_WEEK = {"feedback": 200, "escalations": 30, "runs": 5}
ITEMS_PER_RUN = 8
KPIS = 10
RUNS = 5
TABLES = ("feedback", "feedback_tags", "escalations", "checklist_runs", "checklist_items")


def _series(dialect: str, n: int) -> tuple[str, str]:
    """(prefix, from-clause) yielding i = 1..n."""
    if dialect == "sqlite":
        return (
            f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) ",
            "s",
        )
    return "", f"generate_series(1, {n}) AS s(i)"


def _at(dialect: str, base: datetime | str, seconds: str) -> str:
    """SQL for `base` + `seconds` (an SQL expression) as the column type stores it."""
    if isinstance(base, datetime):
        literal = base.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        base = f"'{literal}'"
    if dialect == "sqlite":
        # The text format SQLAlchemy's DateTime stores on SQLite, so comparisons order.
        return f"(strftime('%Y-%m-%d %H:%M:%f', {base}, '+' || ({seconds}) || ' seconds') || '000')"
    if base.startswith("'"):
        base = f"CAST({base[:-1]}+00' AS TIMESTAMPTZ)"
    return f"({base} + ({seconds}) * INTERVAL '1 second')"


def _insert(
    conn: Any, dialect: str, table: str, columns: str, n: int, select: str, offset: int
) -> None:
    if n <= 0:
        return
    prefix, source = _series(dialect, n)
    select = select.replace("{i}", f"(i + {offset})")
    conn.execute(text(f"{prefix}INSERT INTO {table} ({columns}) SELECT {select} FROM {source}"))


def _spread(dialect: str, n: int, start: datetime, days: float) -> str:
    """created_at of row i of n, evenly spread over `days` from `start`."""
    step = days * 86400 / max(n, 1)
    return _at(dialect, start, f"CAST((i - 1) * {step:.3f} AS INTEGER)")


def load(engine: Engine, size: int) -> dict[str, int]:
    """Fill the database for `size` feedback rows; returns the row count per table."""
    dialect = engine.dialect.name
    recent_start = WEEK_START - timedelta(weeks=RECENT_WEEKS - 1)
    history_start = recent_start - timedelta(days=HISTORY_DAYS)
    recent_days = 7.0 * RECENT_WEEKS
    with engine.begin() as conn:
        # feedback: the history, then the two recent weeks
        fb_recent = PER_WEEK["feedback"] * RECENT_WEEKS
        fb_cols = (
            "team_id, submission_key, text, customer, customer_key, source, nps_score, "
            "status, reporter_id, created_at"
        )

        def fb_select(n: int, start: datetime, days: float) -> str:
            return (
                f"'{TEAM}', 'bench-' || {{i}}, 'Feedback number ' || {{i}} || ' about onboarding',"
                " 'Customer ' || ({i} % 500), 'customer ' || ({i} % 500), 'slack',"
                " ({i} * 7) % 11, 'new', 'U' || (1000 + {i} % 40), "
                + _spread(dialect, n, start, days)
            )

        history = max(size - fb_recent, 0)
        _insert(
            conn,
            dialect,
            "feedback",
            fb_cols,
            history,
            fb_select(history, history_start, HISTORY_DAYS),
            0,
        )
        _insert(
            conn,
            dialect,
            "feedback",
            fb_cols,
            fb_recent,
            fb_select(fb_recent, recent_start, recent_days),
            history,
        )
        conn.execute(
            text(
                "INSERT INTO feedback_tags (feedback_id, team_id, tag) "
                "SELECT id, team_id, 'tag' || (id % 12) FROM feedback"
            )
        )
        # escalations
        es_cols = (
            "team_id, title, customer, severity, description, owner_id, reporter_id, status, "
            "version, created_at, ack_due_at, resolve_due_at, acknowledged_at, resolved_at"
        )

        def es_select(n: int, start: datetime, days: float, status: str) -> str:
            created = _spread(dialect, n, start, days)
            return (
                "'" + TEAM + "', 'Escalation ' || {i}, 'Customer ' || ({i} % 500),"
                " 'sev' || (1 + {i} % 3), '', 'U' || (1000 + {i} % 40), 'U1000',"
                f" '{status}', 1, {created}, "
                + _at(dialect, created, "900")
                + ", "
                + _at(dialect, created, "86400")
                + ", "
                + _at(dialect, created, "600")
                + ", "
                + (_at(dialect, created, "7200") if status == "resolved" else "NULL")
            )

        es_recent = PER_WEEK["escalations"] * RECENT_WEEKS
        es_history = max(size // 20 - es_recent, 0)
        _insert(
            conn,
            dialect,
            "escalations",
            es_cols,
            es_history,
            es_select(es_history, history_start, HISTORY_DAYS, "resolved"),
            0,
        )
        _insert(
            conn,
            dialect,
            "escalations",
            es_cols,
            es_recent,
            es_select(es_recent, recent_start, recent_days, "acknowledged"),
            0,
        )
        # checklist runs (completed in the history, active in the recent weeks) and items
        conn.execute(
            text(
                "INSERT INTO checklist_templates (team_id, name, version, title, description,"
                " items, fingerprint, is_current, created_at) VALUES (:t, 'onboarding', 1,"
                f" 'Onboarding', '', '[]', 'f', :true, {_at(dialect, history_start, '0')})"
            ),
            {"t": TEAM, "true": True},
        )
        template_id = conn.execute(text("SELECT max(id) FROM checklist_templates")).scalar_one()
        run_cols = (
            "team_id, key, template_id, template_name, template_version, title, subject,"
            " channel_id, message_ts, started_by, started_at, status, completed_at, revision"
        )

        def run_select(n: int, start: datetime, days: float, status: str) -> str:
            started = _spread(dialect, n, start, days)
            done = _at(dialect, started, str(9 * 86400)) if status == "completed" else "NULL"
            return (
                f"'{TEAM}', 'run' || {{i}} || '{status[0]}', {template_id}, 'onboarding', 1,"
                " 'Onboarding', 'New hire ' || {i}, 'C0BENCH', '1.' || {i}, 'U1000',"
                f" {started}, '{status}', {done}, 0"
            )

        run_recent = PER_WEEK["runs"] * RECENT_WEEKS
        run_history = max(size // 100 - run_recent, 0)
        _insert(
            conn,
            dialect,
            "checklist_runs",
            run_cols,
            run_history,
            run_select(run_history, history_start, HISTORY_DAYS, "completed"),
            0,
        )
        _insert(
            conn,
            dialect,
            "checklist_runs",
            run_cols,
            run_recent,
            run_select(run_recent, recent_start, recent_days, "active"),
            0,
        )
        prefix, source = _series(dialect, ITEMS_PER_RUN)
        due = _at(dialect, "r.started_at", "s.i * 86400")
        done_at = f"CASE WHEN r.status = 'completed' THEN {due} END"
        conn.execute(
            text(
                f"{prefix}INSERT INTO checklist_items (team_id, run_id, position, title,"
                " owner_spec, owner_id, due_at, done_by, done_at) SELECT r.team_id, r.id, s.i,"
                " 'Step ' || s.i, 'manager', 'U' || (1000 + (r.id + s.i) % 40),"
                f" {due}, CASE WHEN r.status = 'completed' THEN 'U1000' END, {done_at}"
                f" FROM checklist_runs r CROSS JOIN {source}"
            )
        )
        # KPIs measured every week of the history
        for k in range(1, KPIS + 1):
            conn.execute(
                text(
                    "INSERT INTO kpis (team_id, key, name, description, unit, target, direction,"
                    " kind) VALUES (:t, :key, :name, '', '%', 90, 'higher', 'manual')"
                ),
                {"t": TEAM, "key": f"kpi{k}", "name": f"KPI {k}"},
            )
        weeks = HISTORY_DAYS // 7 + RECENT_WEEKS
        prefix, source = _series(dialect, weeks)
        at = _at(dialect, history_start + timedelta(days=3), "(s.i - 1) * 604800")
        conn.execute(
            text(
                f"{prefix}INSERT INTO kpi_measurements (team_id, kpi_id, value, at, by_id, note)"
                f" SELECT k.team_id, k.id, 80 + (s.i * k.id) % 20, {at}, 'U1000', ''"
                f" FROM kpis k CROSS JOIN {source}"
            )
        )
        counts = {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in (*TABLES, "kpi_measurements")
        }
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return counts


def build(sessions: Any, week: str) -> tuple[str, list[Any]]:
    """What `opsloop digest --dry-run` does for one team: build, then render."""
    digest = digests.build_digest(
        sessions, sections=SECTIONS, team_id=TEAM, week=week, now=NOW, default_timezone=TZ
    )
    return render_digest(digest)


def _capture(engine: Engine) -> tuple[list[tuple[str, Any]], Any]:
    seen: list[tuple[str, Any]] = []

    def listener(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    return seen, listener


def explain(engine: Engine, week: str) -> list[dict[str, Any]]:
    """The plan of every statement one digest build runs against the big tables."""
    seen, listener = _capture(engine)
    try:
        build(make_session_factory(engine), week)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    plans = []
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    wanted = (
        "feedback",
        "checklist_items",
        "checklist_runs",
        "kpi_measurements",
        "escalations",
        "sends",
    )
    done: set[str] = set()
    for statement, parameters in seen:
        lowered = statement.lower()
        if not lowered.lstrip().startswith("select") or statement in done:
            continue
        if not any(f"from {t}" in lowered or f"join {t}" in lowered for t in wanted):
            continue
        done.add(statement)
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(prefix + statement, parameters)
            rows = cursor.fetchall()
        finally:
            raw.close()
        lines = [str(r[-1]) for r in rows]
        plans.append({"sql": " ".join(statement.split()), "plan": lines})
    return plans


def measure(engine: Engine, week: str, repeats: int) -> list[float]:
    sessions = make_session_factory(engine)
    build(sessions, week)  # warm-up: imports, template compilation, caches
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        build(sessions, week)
        times.append(time.perf_counter() - started)
    return times


def run(*, db: str, sizes: list[int], repeats: int = 5) -> dict[str, Any]:
    """Load, time and explain one backend at every size."""
    week = digests.last_week(NOW, TZ)
    results: list[dict[str, Any]] = []
    for size in sizes:
        with servers.workdir() as workdir, servers.database(db, Path(workdir)) as url:
            engine = make_engine(url)
            try:
                print(f"[{db}] loading {size:,} feedback rows …", flush=True)
                started = time.perf_counter()
                counts = load(engine, size)
                load_s = time.perf_counter() - started
                print(f"[{db}] loaded in {load_s:.1f} s: {counts}", flush=True)
                times = measure(engine, week, repeats)
                plans = explain(engine, week)
            finally:
                engine.dispose()
        results.append(
            {
                "size": size,
                "rows": counts,
                "load_seconds": round(load_s, 2),
                "digest_ms": [round(t * 1000, 2) for t in times],
                "median_ms": round(statistics.median(times) * 1000, 2),
                "plans": plans,
            }
        )
    ratio = None
    if len(results) > 1 and results[0]["median_ms"]:
        ratio = round(results[-1]["median_ms"] / results[0]["median_ms"], 2)
    min_ratio = None
    if len(results) > 1:
        min_ratio = round(min(results[-1]["digest_ms"]) / min(results[0]["digest_ms"]), 2)
    return {
        "db": db,
        "week": week,
        "repeats": repeats,
        "sizes": results,
        "ratio": ratio,
        "min_ratio": min_ratio,
    }


def _scans(plan: list[str]) -> str:
    keys = ("SCAN", "SEARCH", "Scan", "Index")
    steps = [line.strip().split("  (")[0] for line in plan if any(k in line for k in keys)]
    return "; ".join(s.replace("->", "").strip() for s in steps)[:150]


def print_table(runs: list[dict[str, Any]]) -> None:
    """The timing table, then the plan of each big-table query at the largest size."""
    rows = []
    for r in runs:
        for s in r["sizes"]:
            rows.append(
                [
                    r["db"],
                    f"{s['size']:,}",
                    s["load_seconds"],
                    s["median_ms"],
                    min(s["digest_ms"]),
                    max(s["digest_ms"]),
                    r["ratio"],
                    r["min_ratio"],
                ]
            )
    print(
        f"\ndigest — week {runs[0]['week']}, median of {runs[0]['repeats']} builds after a warm-up"
    )
    print(
        report.table(
            [
                "db",
                "feedback rows",
                "load s",
                "median ms",
                "min ms",
                "max ms",
                "median ratio",
                "min ratio",
            ],
            rows,
        )
    )
    for r in runs:
        largest = r["sizes"][-1]
        print(f"\nplans on {r['db']} at {largest['size']:,} rows:")
        for p in largest["plans"]:
            print(f"  {p['sql'][:110]}")
            print(f"    → {_scans(p['plan'])}")
