"""The load-test driver: stack up, seed, Locust headless, gate, reports, stack down.

``python -m loadtests run smoke`` (``nox -s loadtest -- smoke``) and ``python -m loadtests
capacity`` (``nox -s capacity``). Reports go to ``loadtests/results/<name>/``: Locust's CSV
and HTML, ``stats.json`` (what the gate read), ``summary.md``, the stack's logs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from loadtests import gate, report, stack
from loadtests.profiles import CAPACITY, PROFILES, CapacityPlan, Profile
from loadtests.sampler import Sampler
from loadtests.seed import seed

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


def say(text: str) -> None:
    print(f"==> {text}", flush=True)


def locust(
    out: Path, seed_file: Path, args: list[str], extra_env: dict[str, str], sampler: Sampler
) -> int:
    env = {
        **os.environ,
        "WEALIST_LOAD_SEED": str(seed_file),
        "WEALIST_LOAD_OUT": str(out),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        **extra_env,
    }
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--csv",
        str(out / "locust"),
        "--html",
        str(out / "report.html"),
        "--stop-timeout",
        "10",
        "--loglevel",
        "WARNING",
        *args,
    ]
    say("locust " + " ".join(args))
    # Locust's own exit code says only "some request failed"; the gate decides.
    with subprocess.Popen(command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL) as proc:
        sampler.watch("locust (the load)", proc.pid)
        try:
            return proc.wait()
        except BaseException:
            proc.terminate()
            proc.wait(30)
            raise


def prepare(name: str) -> tuple[Path, Path]:
    """A fresh report directory, and a throwaway data directory for the stack."""
    out = RESULTS / name
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    data = Path(tempfile.mkdtemp(prefix=f"wealist-load-{name}-"))
    return out, data


def _finish(out: Path, data: Path, keep: bool) -> None:
    logs = data / "stack" / "logs"
    if logs.exists():
        shutil.copytree(logs, out / "logs")
    if keep:
        say(f"stack data kept in {data}")
    else:
        shutil.rmtree(data, ignore_errors=True)


def run_profile(profile: Profile, args: argparse.Namespace) -> int:
    out, data = prepare(profile.name)
    users = args.users or profile.users
    run_time = args.run_time or profile.run_time
    levels = gate.apply_overrides(gate.load_budgets(), args.set)
    enforce = args.enforce or ["outer"]
    gate.judge(gate.Snapshot(()), levels, enforce)  # an unknown level fails before the run
    say(f"profile {profile.name}: {users} users for {run_time} ({profile.about})")
    try:
        with stack.running_stack(data, echo=args.verbose) as running:
            say(f"stack ready: {', '.join(f'{k} :{v}' for k, v in running.ports.items())}")
            began = time.monotonic()
            seed(running.urls, running.internal_key, profile.seed, out / "seed.json")
            say(f"seeded {profile.seed} in {time.monotonic() - began:.1f} s")
            with Sampler(running.service_pids()) as sampler:
                code = locust(
                    out,
                    out / "seed.json",
                    ["-u", str(users), "-r", str(profile.spawn_rate), "-t", run_time],
                    {},
                    sampler,
                )
            say(f"locust exited with {code}")
    finally:
        _finish(out, data, args.keep_data)
    snapshot_file = out / "stats.json"
    if not snapshot_file.exists():
        say("no statistics were written: the run did not complete")
        return 2
    snapshot = gate.load_snapshot(snapshot_file)
    verdict = gate.judge(snapshot, levels, enforce)
    gate.print_verdict(verdict)
    summary = report.summary(profile.name, snapshot, verdict, sampler.readings(), levels)
    (out / "summary.md").write_text(summary)
    say(f"reports: {out.relative_to(ROOT)}/ (summary.md, report.html, locust_*.csv, stats.json)")
    return 0 if verdict.passed else 1


def run_capacity(plan: CapacityPlan, args: argparse.Namespace) -> int:
    plan = dataclasses.replace(
        plan,
        **{
            key: value
            for key, value in {
                "start": args.start,
                "step": args.step,
                "step_s": args.step_time,
                "max_users": args.max_users,
            }.items()
            if value is not None
        },
    )
    out, data = prepare("capacity")
    steps = (plan.max_users - plan.start) // plan.step + 1
    limit = f"{steps * plan.step_s + 30}s"  # Locust's own cap; the shape stops it earlier
    say(
        f"capacity: {plan.start} users, +{plan.step} every {plan.step_s} s, up to "
        f"{plan.max_users}, until a '{args.level}' threshold trips"
    )
    shape = {**dataclasses.asdict(plan), "level": args.level}
    shape.pop("seed")
    try:
        with stack.running_stack(data, echo=args.verbose) as running:
            seed(running.urls, running.internal_key, plan.seed, out / "seed.json")
            say(f"seeded {plan.seed}")
            with Sampler(running.service_pids()) as sampler:
                locust(
                    out,
                    out / "seed.json",
                    ["-t", limit],
                    {"WEALIST_LOAD_CAPACITY": json.dumps(shape)},
                    sampler,
                )
    finally:
        _finish(out, data, args.keep_data)
    steps_file = out / "steps.jsonl"
    lines = steps_file.read_text().splitlines() if steps_file.exists() else []
    results = [json.loads(line) for line in lines if line.strip()]
    text, found = report.capacity_summary(results, plan, args.level, sampler.readings())
    (out / "summary.md").write_text(text)
    print(text)
    say(f"reports: {out.relative_to(ROOT)}/ (summary.md, steps.jsonl, report.html)")
    return 0 if found else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="one profile, gated on the budgets")
    run.add_argument("profile", choices=sorted(PROFILES))
    run.add_argument("--users", type=int, help="instead of the profile's")
    run.add_argument("--run-time", help="instead of the profile's (Locust format: 90s, 10m, 4h)")
    run.add_argument("--enforce", action="append", help="budget level(s) that gate (outer)")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="LEVEL.TARGET.KEY=VALUE",
        help="change one budget for this run, e.g. outer.rest.avg_ms=1",
    )
    capacity = commands.add_parser("capacity", help="the maximum supported users")
    capacity.add_argument("--start", type=int)
    capacity.add_argument("--step", type=int)
    capacity.add_argument("--step-time", type=int, help="seconds per step")
    capacity.add_argument("--max-users", type=int)
    capacity.add_argument("--level", default="outer", help="the budget level that trips")
    for sub in (run, capacity):
        sub.add_argument("--keep-data", action="store_true", help="keep the stack's data dir")
        sub.add_argument("--verbose", action="store_true", help="echo wealist up's output")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run_profile(PROFILES[args.profile], args)
    return run_capacity(CAPACITY, args)
