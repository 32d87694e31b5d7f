"""`python -m bench ack`: ack latency and throughput of `opsloop serve` beside a bare Bolt
app, then the end-to-end check (every acknowledged command stored, answered in its ack and
not again through response_url, no "database is locked", no 5xx)."""

from __future__ import annotations

import uuid
from typing import Any

from bench import load, report, servers, workload
from bot.shell.standin import SlackStandin

WARMUP_REQUESTS = 50


def run(
    *,
    db: str,
    levels: list[int],
    requests: list[int],
    command: str,
    text: str,
    threads: int,
) -> dict[str, Any]:
    """Every level against the baseline, then against Opsloop; returns the JSON document."""
    out: dict[str, Any] = {
        "command": f"{command} {text}",
        "db": db,
        "server_threads": threads,
        "levels": [],
    }
    run_id = uuid.uuid4().hex[:6]
    with SlackStandin() as standin, servers.workdir() as workdir:
        make = workload.request_maker(standin, command, text, run_id)
        baseline = servers.start_baseline(
            command=command, slack_api_url=standin.base_url, workdir=workdir, threads=threads
        )
        try:
            with servers.database(db, workdir) as database_url:
                opsloop = servers.start_opsloop(
                    database_url=database_url,
                    slack_api_url=standin.base_url,
                    workdir=workdir,
                    threads=threads,
                )
                try:
                    out.update(
                        _measure(standin, baseline, opsloop, make, levels, requests, database_url)
                    )
                    out["e2e"]["command"] = command
                    out["e2e"].update(_log_findings(opsloop.log()))
                    out["e2e"]["rows_stored"] = _rows(database_url, command, out["e2e"])
                finally:
                    opsloop.stop()
        finally:
            baseline.stop()
    _print(out)
    return out


def _measure(
    standin: SlackStandin,
    baseline: servers.Server,
    opsloop: servers.Server,
    make: Any,
    levels: list[int],
    requests: list[int],
    database_url: str,
) -> dict[str, Any]:
    for server in (baseline, opsloop):
        load.run_level(server.port, make, count=WARMUP_REQUESTS, concurrency=5)
    # Receipts are the ack body now: response_url posts are counted only to show there are
    # none (a second answer), not waited for.
    warmup_replies = len(standin.calls("response_url"))
    rows: list[dict[str, Any]] = []
    acked = 0
    five_xx = 0
    for concurrency, count in zip(levels, requests, strict=True):
        level: dict[str, Any] = {"concurrency": concurrency, "requests": count}
        for server in (baseline, opsloop):
            result = load.run_level(server.port, make, count=count, concurrency=concurrency)
            level[server.name] = result.summary()
            level[server.name]["rss_kib_after"] = server.rss_kib()
            if server is opsloop:
                acked += result.ok
                five_xx += result.server_errors
        level["ratio"] = _ratio(level["opsloop"], level["baseline"])
        rows.append(level)
    replies = len(standin.calls("response_url")) - warmup_replies
    return {
        "levels": rows,
        "e2e": {
            "acknowledged": acked,
            "answered_via_response_url": replies,
            "http_5xx": five_xx,
            "warmup_excluded": WARMUP_REQUESTS,
        },
    }


def _rows(database_url: str, command: str, e2e: dict[str, Any]) -> int | None:
    stored = workload.stored_rows(database_url, command)
    if stored is None:
        return None
    return stored - WARMUP_REQUESTS  # the warm-up commands were stored too


def _ratio(ops: dict[str, Any], base: dict[str, Any]) -> dict[str, float | None]:
    def div(a: float, b: float) -> float | None:
        return round(a / b, 2) if b else None

    return {
        "p50": div(ops["p50_ms"], base["p50_ms"]),
        "p95": div(ops["p95_ms"], base["p95_ms"]),
        "p99": div(ops["p99_ms"], base["p99_ms"]),
        "rps": div(ops["rps"], base["rps"]),
    }


def _log_findings(log: str) -> dict[str, int]:
    return {
        "database_is_locked_in_log": log.lower().count("database is locked"),
        "tracebacks_in_log": log.count("Traceback (most recent call last)"),
        "errors_in_log": log.count(" ERROR "),
    }


def _print(out: dict[str, Any]) -> None:
    print(f"\nack latency — {out['command']!r} on {out['db']}, {out['server_threads']} threads")
    headers = ["clients", "server", "reqs", "p50 ms", "p95 ms", "p99 ms", "req/s", "errors"]
    lines = []
    for level in out["levels"]:
        for name in ("baseline", "opsloop"):
            r = level[name]
            lines.append(
                [
                    level["concurrency"],
                    name,
                    r["requests"],
                    r["p50_ms"],
                    r["p95_ms"],
                    r["p99_ms"],
                    r["rps"],
                    r["errors"],
                ]
            )
        ratio = level["ratio"]
        lines.append(
            [
                level["concurrency"],
                "ratio o/b",
                "",
                ratio["p50"],
                ratio["p95"],
                ratio["p99"],
                ratio["rps"],
                "",
            ]
        )
    print(report.table(headers, lines))
    e2e = out["e2e"]
    print("\nend to end (Opsloop, warm-up excluded)")
    print(
        report.table(
            # Commands are answered in their ack body now: a response_url post would be a
            # second answer, so that column should read 0.
            ["acknowledged", "response_url posts", "rows stored", "5xx", "db locked", "tracebacks"],
            [
                [
                    e2e["acknowledged"],
                    e2e["answered_via_response_url"],
                    e2e["rows_stored"],
                    e2e["http_5xx"],
                    e2e["database_is_locked_in_log"],
                    e2e["tracebacks_in_log"],
                ]
            ],
        )
    )
