"""``python -m bench [names...] [--quick] [--seconds N]``: every benchmark by default.

Micro-benchmarks run first (no servers); the macro ratios start ``wealist up`` once (on
free ports, throwaway data) and measure the services next to raw Granian, psycopg,
redis-benchmark and a raw WebSocket fan-out. Each result is printed as it comes; the
table of every ratio follows at the end and goes to ``bench/results/summary.md``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
from pathlib import Path

from bench import macro, micro
from bench.results import Results

RESULTS = Path(__file__).resolve().parent / "results" / "summary.md"


def main() -> int:
    names = [*micro.ALL, *macro.ALL]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        choices=[[], *names],
        default=[],
        metavar="NAME",
        help=f"some of: {', '.join(names)}",
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds, 3 s wrk runs")
    parser.add_argument("--seconds", type=int, default=None, help="per wrk / fan-out run")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved HTTP rounds")
    args = parser.parse_args()
    chosen = args.names or names
    scale = 0.3 if args.quick else 1.0
    seconds = args.seconds or (3 if args.quick else 5)
    results = Results()
    for name in chosen:
        if name in micro.ALL:
            micro.ALL[name](results, scale)
    wanted = [name for name in chosen if name in macro.ALL]
    if wanted:
        print("starting the stack (wealist up, throwaway data)...", flush=True)
        rounds = args.rounds or (3 if args.quick else 5)
        with macro.environment(seconds, rounds) as env:
            for name in wanted:
                macro.ALL[name](env, results)
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f"# bench: {when}, {os.cpu_count()} cores, Python {platform.python_version()}\n\n"
        "Ratios measured side by side in this run (absolute figures move with the noise)."
    )
    print("\n" + header + "\n\n" + results.table())
    results.write(RESULTS, header)
    return 0


if __name__ == "__main__":
    sys.exit(main())
