"""`python -m bench memory`: RSS of `opsloop serve` before and after N requests."""

from __future__ import annotations

import uuid
from typing import Any

from bench import load, report, servers, workload
from bot.shell.standin import SlackStandin

WARMUP_REQUESTS = 200


def run(
    *, db: str, requests: int, concurrency: int, command: str, text: str, threads: int
) -> dict[str, Any]:
    """Warm up, read VmRSS, send `requests`, wait for the listeners, read VmRSS again."""
    run_id = uuid.uuid4().hex[:6]
    with SlackStandin() as standin, servers.workdir() as workdir:
        make = workload.request_maker(standin, command, text, run_id)
        with servers.database(db, workdir) as database_url:
            server = servers.start_opsloop(
                database_url=database_url,
                slack_api_url=standin.base_url,
                workdir=workdir,
                threads=threads,
            )
            try:
                # Each command is stored and answered within its request (the ack), so
                # nothing is left running in the background when a level returns.
                load.run_level(server.port, make, count=WARMUP_REQUESTS, concurrency=10)
                before = server.rss_kib()
                result = load.run_level(
                    server.port,
                    make,
                    count=requests,
                    concurrency=concurrency,
                    limit_s=600,
                )
                after = server.rss_kib()
            finally:
                server.stop()
    out = {
        "command": f"{command} {text}",
        "db": db,
        "requests": requests,
        "concurrency": concurrency,
        "rss_kib_before": before,
        "rss_kib_after": after,
        "rss_growth_kib": after - before,
        "load": result.summary(),
    }
    print(f"\nmemory — {out['command']!r} on {db}, {requests} requests, {concurrency} clients")
    print(
        report.table(
            ["RSS before MiB", "RSS after MiB", "growth MiB", "req/s", "errors"],
            [[before / 1024, after / 1024, (after - before) / 1024, result.rps, result.errors]],
        )
    )
    return out
