"""`python -m bench <name>`: run one benchmark, print its table, write bench/results/<name>.json."""

from __future__ import annotations

import argparse
import sys

from bench import report, workload

MAX_REQUESTS = 20_000
MAX_CLIENTS = 500


def _counts(value: str) -> list[int]:
    counts = [int(part) for part in value.split(",")]
    if any(not 1 <= c <= MAX_REQUESTS for c in counts):
        raise argparse.ArgumentTypeError(f"each count must be between 1 and {MAX_REQUESTS}")
    return counts


def _clients(value: str) -> list[int]:
    counts = [int(part) for part in value.split(",")]
    if any(not 1 <= c <= MAX_CLIENTS for c in counts):
        raise argparse.ArgumentTypeError(f"each level must be between 1 and {MAX_CLIENTS}")
    return counts


MAX_ROWS = 2_000_000


def _sizes(value: str) -> list[int]:
    sizes = [int(part) for part in value.split(",")]
    if any(not 1_000 <= s <= MAX_ROWS for s in sizes):
        raise argparse.ArgumentTypeError(f"each size must be between 1000 and {MAX_ROWS}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    command, text = workload.default_command()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="name", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
        p.add_argument("--command", default=command, help=f"slash command (default {command})")
        p.add_argument("--text", default=text, help=f"its text (default {text!r})")
        p.add_argument("--threads", type=int, default=16, help="server threads (both servers)")

    ack = sub.add_parser("ack", help="ack latency/throughput vs a bare Bolt app, and e2e")
    common(ack)
    ack.add_argument("--clients", type=_clients, default=[10, 50, 200], help="e.g. 10,50,200")
    ack.add_argument("--requests", type=_counts, default=None, help="per level, e.g. 500,1000,2000")
    ack.add_argument(
        "--rounds", type=int, default=3, help="rounds per level, the servers taking turns"
    )
    memory = sub.add_parser("memory", help="RSS of opsloop serve before/after N requests")
    common(memory)
    memory.add_argument("--requests", type=int, default=10_000)
    memory.add_argument("--clients", type=int, default=10)
    digest = sub.add_parser("digest", help="weekly digest build time at 10k and 1M rows")
    digest.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    digest.add_argument(
        "--sizes", type=_sizes, default=[10_000, 1_000_000], help="e.g. 10000,1000000"
    )
    digest.add_argument("--repeats", type=int, default=5)
    charts = sub.add_parser("charts", help="drawing a digest's KPI charts (30 KPIs)")
    charts.add_argument("--kpis", type=int, default=30)
    charts.add_argument("--repeats", type=int, default=5)
    nudge = sub.add_parser("nudges", help="one DM per owner under Slack's posting limits")
    nudge.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    # 1,000 owners take ~3 min per database here (floor 99 s at 10/s); the default is half.
    nudge.add_argument("--owners", type=int, default=500, help="default 500; full size 1000")
    nudge.add_argument("--items", type=int, default=5_000, help="default 5000; full 10000")
    nudge.add_argument("--channel-rate", type=float, default=1.0, help="posts/s per channel")
    nudge.add_argument(
        "--workspace-rate",
        type=float,
        default=10.0,
        help="workspace-wide posts/s (default 10 = 600/min; 0 = no workspace cap)",
    )
    replicas = sub.add_parser(
        "replicas", help="two serve replicas + a scheduler on PostgreSQL vs one serve"
    )
    replicas.add_argument("--requests", type=int, default=2_000, help="per phase")
    replicas.add_argument("--clients", type=int, default=50)
    replicas.add_argument("--threads", type=int, default=16, help="server threads per replica")
    args = parser.parse_args(argv)

    db = getattr(args, "db", "postgres")  # `replicas` runs on PostgreSQL; `charts` uses none
    kinds = ["sqlite", "postgres"] if db == "both" else [db]
    runs = []
    if args.name == "ack":
        from bench import ack as bench_ack

        requests = args.requests or [500, 1000, 2000][: len(args.clients)]
        if len(requests) == 1:
            requests = requests * len(args.clients)
        if len(requests) != len(args.clients):
            parser.error("--requests needs one count, or one per --clients level")
        if not 1 <= args.rounds <= 20:
            parser.error("--rounds must be between 1 and 20")
        for kind in kinds:
            runs.append(
                bench_ack.run(
                    db=kind,
                    levels=args.clients,
                    requests=requests,
                    command=args.command,
                    text=args.text,
                    threads=args.threads,
                    rounds=args.rounds,
                )
            )
    elif args.name == "digest":
        from bench import charts as bench_charts
        from bench import digest as bench_digest

        for kind in kinds:
            runs.append(bench_digest.run(db=kind, sizes=args.sizes, repeats=args.repeats))
        bench_digest.print_table(runs)
        # Beside the build: drawing the charts of a 30-KPI digest (no database involved).
        drawn = bench_charts.measure(repeats=args.repeats)
        bench_charts.print_table(drawn)
        runs.append({"charts": drawn})
    elif args.name == "charts":
        from bench import charts as bench_charts

        if not 1 <= args.kpis <= 200 or not 1 <= args.repeats <= 50:
            parser.error("--kpis must be 1..200 and --repeats 1..50")
        drawn = bench_charts.measure(kpis=args.kpis, repeats=args.repeats)
        bench_charts.print_table(drawn)
        runs.append(drawn)
    elif args.name == "nudges":
        from bench import nudges as bench_nudges

        if not 1 <= args.owners <= 20_000 or not 1 <= args.items <= 200_000:
            parser.error("--owners must be 1..20000 and --items 1..200000")
        if args.channel_rate <= 0 or args.workspace_rate < 0:
            parser.error("rates must be positive (--workspace-rate 0 turns the cap off)")
        for kind in kinds:
            runs.append(
                bench_nudges.run(
                    db=kind,
                    owners=args.owners,
                    items=args.items,
                    channel_rate=args.channel_rate,
                    workspace_rate=args.workspace_rate or None,
                )
            )
        bench_nudges.print_table(runs)
        if args.owners < 1_000:
            print(
                "full size (about 3 min per database here): "
                "python -m bench nudges --owners 1000 --items 10000 [--db both]"
            )
    elif args.name == "replicas":
        from bench import replicas as bench_replicas

        if not 1 <= args.requests <= MAX_REQUESTS or not 1 <= args.clients <= MAX_CLIENTS:
            parser.error(f"--requests 1..{MAX_REQUESTS}, --clients 1..{MAX_CLIENTS}")
        runs.append(
            bench_replicas.run(requests=args.requests, clients=args.clients, threads=args.threads)
        )
    else:
        from bench import memory as bench_memory

        if not 1 <= args.requests <= 100_000:
            parser.error("--requests must be between 1 and 100000")
        for kind in kinds:
            runs.append(
                bench_memory.run(
                    db=kind,
                    requests=args.requests,
                    concurrency=args.clients,
                    command=args.command,
                    text=args.text,
                    threads=args.threads,
                )
            )
    path = report.write(args.name, {"runs": runs})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
