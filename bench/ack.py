"""`python -m bench ack`: ack latency and throughput of `opsloop serve` beside a bare Bolt
app, then the end-to-end check (every acknowledged command stored, answered in its ack and
not again through response_url, no "database is locked", no 5xx).

Each level runs in rounds, the two servers taking turns (baseline first in one round,
Opsloop first in the next), and the throughput ratio is the median of the rounds' ratios.
The machines this runs on are virtual: the host takes CPU time away in bursts (steal, 10 to
50 % of a core for a second or two, seen here), and a burst that falls on one server's only
run moved a single-run ratio by a quarter. Interleaved rounds put both servers under the
same weather; the steal seen during each server's runs is reported beside its figures.
"""

from __future__ import annotations

import os
import statistics
import uuid
from dataclasses import dataclass
from typing import Any

from bench import load, report, servers, workload
from bot.shell.standin import SlackStandin

WARMUP_REQUESTS = 50
DEFAULT_ROUNDS = 3


def run(
    *,
    db: str,
    levels: list[int],
    requests: list[int],
    command: str,
    text: str,
    threads: int,
    rounds: int = DEFAULT_ROUNDS,
) -> dict[str, Any]:
    """Every level, in `rounds` rounds of the baseline and Opsloop taking turns; returns the
    JSON document."""
    out: dict[str, Any] = {
        "command": f"{command} {text}",
        "db": db,
        "server_threads": threads,
        "rounds": rounds,
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
                    out.update(_measure(standin, baseline, opsloop, make, levels, requests, rounds))
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
    rounds: int,
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
        runs: dict[str, list[Run]] = {baseline.name: [], opsloop.name: []}
        for turn in range(rounds):
            order = (baseline, opsloop) if turn % 2 == 0 else (opsloop, baseline)
            for server in order:
                runs[server.name].append(_run(server, make, count, concurrency))
        level: dict[str, Any] = {"concurrency": concurrency, "requests": count * rounds}
        for server in (baseline, opsloop):
            level[server.name] = pooled_summary(runs[server.name])
            level[server.name]["rss_kib_after"] = server.rss_kib()
        acked += sum(run.result.ok for run in runs[opsloop.name])
        five_xx += sum(run.result.server_errors for run in runs[opsloop.name])
        level["ratio"] = _ratio(level["opsloop"], level["baseline"])
        level["ratio"]["rps"] = paired_rps_ratio(runs[opsloop.name], runs[baseline.name])
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


@dataclass
class Run:
    """One server's run of one round: its answers, and the CPU time the host took from
    this machine meanwhile (seconds, all CPUs)."""

    result: load.LevelResult
    stolen_s: float


def paired_rps_ratio(ours: list[Run], baseline: list[Run]) -> float | None:
    """Throughput against the baseline: each round's figure over the baseline's in the same
    round, the median of those (a burst of steal in one round moves one ratio, not the
    result); None when no baseline round answered anything."""
    ratios = [
        mine.result.rps / base.result.rps
        for mine, base in zip(ours, baseline, strict=True)
        if base.result.rps
    ]
    return round(statistics.median(ratios), 2) if ratios else None


def _run(server: servers.Server, make: Any, count: int, concurrency: int) -> Run:
    before = _stolen_s()
    result = load.run_level(server.port, make, count=count, concurrency=concurrency)
    return Run(result, _stolen_s() - before)


def pooled_summary(runs: list[Run]) -> dict[str, Any]:
    """One server's rounds as one run: latencies pooled, throughput over all its time."""
    pooled = load.LevelResult(
        concurrency=runs[0].result.concurrency,
        requests=sum(run.result.requests for run in runs),
        elapsed_s=sum(run.result.elapsed_s for run in runs),
        latencies_ms=[ms for run in runs for ms in run.result.latencies_ms],
        statuses={},
    )
    for run in runs:
        for status, n in run.result.statuses.items():
            pooled.statuses[status] = pooled.statuses.get(status, 0) + n
    summary = pooled.summary()
    summary["rounds_rps"] = [round(run.result.rps, 1) for run in runs]
    summary["stolen_s"] = round(sum(run.stolen_s for run in runs), 2)
    summary["stolen_share"] = round(summary["stolen_s"] / pooled.elapsed_s, 3)
    return summary


def _stolen_s() -> float:
    """CPU time the hypervisor gave to others while this machine wanted it (the `steal`
    column of /proc/stat, all CPUs), in seconds; 0 where there is no such column."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


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
    print(
        f"\nack latency — {out['command']!r} on {out['db']}, {out['server_threads']} threads, "
        f"{out['rounds']} rounds each (req/s ratio: median of the rounds' ratios; host stole: "
        "CPU time the host took during that server's rounds, as a share of one CPU)"
    )
    headers = [
        "clients",
        "server",
        "reqs",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "req/s",
        "rounds req/s",
        "host stole",
        "errors",
    ]
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
                    " ".join(f"{rps:.0f}" for rps in r["rounds_rps"]),
                    f"{100 * r['stolen_share']:.0f}%",
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
                "",
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
