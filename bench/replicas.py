"""`python -m bench replicas`: two `opsloop serve` replicas and one `opsloop scheduler` on one
PostgreSQL, against one `serve`, with every acknowledged command stored once and every
outbox row delivered once across the three processes.

The load is signed `/feedback` commands from `TEAMS` workspaces; every `DETRACTOR_EVERY`th
one is a detractor score, which queues an alert to its workspace's feedback channel in the
outbox (and each new reporter a `users.info` lookup). Every process runs an outbox sender:
the rows are claimed with `FOR UPDATE SKIP LOCKED`, so the check afterwards is that the
stand-in received each alert exactly once (by the outbox key in the post's metadata) and
every row ended `sent`.

Beside the drain time the bench prints its floor: Slack posts one message per second per
channel, and the alerts go to one channel per workspace (only two of the workspaces send
detractors: `i % DETRACTOR_EVERY == 0` falls on teams 0 and 10 of the 20), so the busiest
channel's alerts take (n - 1) s from its first post whatever the senders do. The shortest
gap between two posts in one channel is printed too: below 1 s the replicas together
posted faster than Slack allows (each process paces only its own posts).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench import load, report, servers
from bench.load import http_post
from bot.org.team_settings import FEEDBACK_CHANNEL
from bot.shell import payloads
from bot.shell.standin import SlackStandin
from storage.org import set_team_setting

TEAMS = 20
DETRACTOR_EVERY = 10
WARMUP_REQUESTS = 50
DELIVERY_TIMEOUT_S = 300.0


def request_maker(standin: SlackStandin, run: str) -> Callable[[], bytes]:
    numbers = itertools.count()

    def make() -> bytes:
        i = next(numbers)
        score = 3 if i % DETRACTOR_EVERY == 0 else 8
        body = payloads.slash_command(
            "/feedback",
            f"Replica Co: export times out #bench nps:{score} {run}-{i}",
            team_id=_team(i % TEAMS),
            user_id=f"U{i % 300:06d}",
            channel_id="C0BENCH",
            response_url=standin.response_url(f"{run}-{i}"),
            trigger_id=f"{run}.{i}",
        )
        headers = payloads.signed_headers(servers.SIGNING_SECRET, body, content_type=payloads.FORM)
        return http_post("/slack/events", body.encode(), headers)

    return make


def _team(n: int) -> str:
    return f"T0REPL{n:02d}"


def _feedback_channel(n: int) -> str:
    return f"C0FEED{n:02d}"


def _seed_feedback_channels(database_url: str) -> None:
    """Each workspace's feedback channel, as `/ops` or the playbook would set it."""
    engine = create_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            for n in range(TEAMS):
                set_team_setting(
                    session, team_id=_team(n), key=FEEDBACK_CHANNEL, value=_feedback_channel(n)
                )
    finally:
        engine.dispose()


def _start_scheduler(database_url: str, slack_api_url: str, workdir: Path) -> Any:
    env = {**servers._base_env(slack_api_url), "DATABASE_URL": database_url}
    log_path = workdir / "scheduler.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "scheduler"],
            env=env,
            cwd=workdir,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    return servers.Server("scheduler", process, 0, log_path)


def _outbox_states(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT state, count(*) FROM outbox GROUP BY state"))
            return {str(state): int(count) for state, count in rows}
    finally:
        engine.dispose()


def _feedback_rows(database_url: str, run: str) -> tuple[int, int]:
    """(rows of this run's commands, distinct commands among them)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            texts = list(
                connection.execute(
                    text("SELECT text FROM feedback WHERE text LIKE :pattern"),
                    {"pattern": f"%{run}-%"},
                ).scalars()
            )
    finally:
        engine.dispose()
    return len(texts), len(set(texts))


def _wait_for_outbox(database_url: str) -> tuple[dict[str, int], float]:
    started = time.perf_counter()
    deadline = started + DELIVERY_TIMEOUT_S
    while True:
        states = _outbox_states(database_url)
        if not states.get("pending") and not states.get("sending"):
            return states, time.perf_counter() - started
        if time.perf_counter() > deadline:
            return states, time.perf_counter() - started
        time.sleep(0.5)


# Slack's limit for chat.postMessage in one channel.
CHANNEL_INTERVAL_S = 1.0


def _alert_posts(standin: SlackStandin, since: int) -> list[tuple[str, float]]:
    """(channel, when) of each alert the stand-in accepted after its first `since` posts."""
    posts = []
    for call in standin.calls("chat.postMessage")[since:]:
        metadata = call.params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        payload = (metadata or {}).get("event_payload") or {}
        if ":detractor:" in f"{payload.get('team')}/{payload.get('key')}":
            posts.append((str(call.params.get("channel")), call.at))
    return posts


def drain_floor(posts: list[tuple[str, float]], load_ended: float) -> dict[str, Any]:
    """What one post per second per channel allows: the busiest channel's alerts from its
    first post on, and of that what was left when the load ended."""
    by_channel: dict[str, list[float]] = {}
    for channel, at in posts:
        by_channel.setdefault(channel, []).append(at)
    if not by_channel:
        return {"alert_channels": 0, "busiest_channel_alerts": 0, "drain_floor_s": 0.0}
    busiest = max(by_channel.values(), key=len)
    first = min(busiest)
    floor_end = first + (len(busiest) - 1) * CHANNEL_INTERVAL_S
    gaps = [b - a for times in by_channel.values() for a, b in itertools.pairwise(sorted(times))]
    return {
        "alert_channels": len(by_channel),
        "busiest_channel_alerts": len(busiest),
        "drain_floor_s": round(max(floor_end - load_ended, 0.0), 2),
        "last_alert_after_load_s": round(max(at for _, at in posts) - load_ended, 2),
        "shortest_channel_gap_s": round(min(gaps), 3) if gaps else None,
    }


def _posts_by_key(standin: SlackStandin) -> Counter[str]:
    keys: Counter[str] = Counter()
    for call in standin.calls("chat.postMessage"):
        metadata = call.params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        payload = (metadata or {}).get("event_payload") or {}
        keys[f"{payload.get('team')}/{payload.get('key')}"] += 1
    return keys


def _phase(
    standin: SlackStandin,
    servers_up: list[servers.Server],
    database_url: str,
    *,
    requests: int,
    clients: int,
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:6]
    make = request_maker(standin, run)
    ports = [s.port for s in servers_up]
    posts_before = _posts_by_key(standin)
    posted_before = len(standin.calls("chat.postMessage"))
    warmup = load.run_level(ports, make, count=WARMUP_REQUESTS, concurrency=min(clients, 5))
    result = load.run_level(ports, make, count=requests, concurrency=clients)
    load_ended = time.time()  # the stand-in stamps calls with time.time()
    states, delivery_s = _wait_for_outbox(database_url)
    stored, distinct = _feedback_rows(database_url, run)
    posts = _posts_by_key(standin) - posts_before
    alerts = {key: n for key, n in posts.items() if ":detractor:" in key}
    acked = warmup.ok + result.ok
    # Every acknowledged detractor queues one alert (the warm-up's commands included).
    expected = sum(1 for i in range(WARMUP_REQUESTS + requests) if i % DETRACTOR_EVERY == 0)
    return {
        "servers": len(servers_up),
        "requests": requests,
        "clients": clients,
        **result.summary(),
        "acknowledged": acked,
        "feedback_stored": stored,
        "feedback_distinct": distinct,
        "alerts_expected": expected,
        "alerts_posted": sum(alerts.values()),
        "alerts_posted_twice": sum(1 for n in alerts.values() if n > 1),
        "outbox_states": states,
        "outbox_drained_after_s": round(delivery_s, 2),
        **drain_floor(_alert_posts(standin, posted_before), load_ended),
    }


def run(*, requests: int, clients: int, threads: int) -> dict[str, Any]:
    """One server, then two, with the scheduler running throughout; PostgreSQL only."""
    out: dict[str, Any] = {"db": "postgres", "server_threads": threads, "phases": []}
    with SlackStandin() as standin, servers.workdir() as workdir:
        # Slack's per-channel limit, answered with 429 as Slack does: without it, replicas
        # posting faster than Slack allows would go unseen.
        standin.channel_rate_per_second = 1.0 / CHANNEL_INTERVAL_S
        with servers.database("postgres", workdir) as database_url:
            _seed_feedback_channels(database_url)
            scheduler = _start_scheduler(database_url, standin.base_url, workdir)
            started: list[servers.Server] = []
            try:
                for count in (1, 2):
                    while len(started) < count:
                        started.append(
                            servers.start_opsloop(
                                database_url=database_url,
                                slack_api_url=standin.base_url,
                                workdir=workdir,
                                threads=threads,
                                name=f"serve-{len(started) + 1}",
                            )
                        )
                    print(f"[postgres] {count} serve + 1 scheduler: {requests:,} commands …")
                    out["phases"].append(
                        _phase(standin, started, database_url, requests=requests, clients=clients)
                    )
                out["logs"] = {s.name: _log_findings(s.log()) for s in [*started, scheduler]}
            finally:
                for server in [*started, scheduler]:
                    server.stop()
        out["http_429"] = sum(
            1 for c in standin.calls("chat.postMessage", ok_only=False) if c.status == 429
        )
    one, two = out["phases"]
    out["throughput_two_vs_one"] = round(two["rps"] / one["rps"], 2) if one["rps"] else None
    print_table(out)
    return out


def _log_findings(log: str) -> dict[str, int]:
    return {
        "tracebacks": log.count("Traceback (most recent call last)"),
        "errors": log.count(" ERROR "),
    }


def print_table(out: dict[str, Any]) -> None:
    print(f"\nreplicas — /feedback on PostgreSQL, {out['server_threads']} threads per server")
    headers = [
        "serve",
        "reqs",
        "clients",
        "p50 ms",
        "p99 ms",
        "req/s",
        "non-200",
        "acked",
        "stored",
        "distinct",
        "alerts",
        "posted",
        "twice",
        "outbox",
        "drained s",
        "floor s",
        "busiest ch",
        "min gap s",
    ]
    rows = [
        [
            p["servers"],
            p["requests"],
            p["clients"],
            p["p50_ms"],
            p["p99_ms"],
            p["rps"],
            p["errors"],
            p["acknowledged"],
            p["feedback_stored"],
            p["feedback_distinct"],
            p["alerts_expected"],
            p["alerts_posted"],
            p["alerts_posted_twice"],
            ",".join(f"{k}={v}" for k, v in sorted(p["outbox_states"].items())),
            p["outbox_drained_after_s"],
            p["drain_floor_s"],
            p["busiest_channel_alerts"],
            p["shortest_channel_gap_s"],
        ]
        for p in out["phases"]
    ]
    print(report.table(headers, rows))
    print(f"throughput, two servers vs one: {out['throughput_two_vs_one']}x")
    print(f"429s met: {out['http_429']}; logs: {out['logs']}")
    print(
        "drained s: after the load ended; floor s: what 1 post/s per channel leaves for the"
        " busiest alert channel after the load ended; min gap s: the shortest interval"
        " between two posts in one channel (under 1 s: faster than Slack allows)"
    )
