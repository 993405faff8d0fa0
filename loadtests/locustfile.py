"""Locust entry point: the weAlist users, the snapshot written at the end, and the
capacity search's step shape. Run it through ``python -m loadtests`` (or ``nox -s
loadtest``), which starts the stack, seeds it and sets ``WEALIST_LOAD_SEED``.

Only this process imports Locust (it monkeypatches the process with gevent): the stack,
the seeding and the gate run elsewhere, and pytest never collects this directory.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `loadtests` as a package

from locust import LoadTestShape, events
from locust.env import Environment
from typing_extensions import override

from loadtests import gate
from loadtests.stats import snapshot
from loadtests.users.chat import ChatUser
from loadtests.users.files import DriveUser, VideoUser
from loadtests.users.kanban import KanbanUser
from loadtests.users.notify import NotifiedUser

__all__ = ("ChatUser", "DriveUser", "KanbanUser", "NotifiedUser", "VideoUser")

OUT = Path(os.environ.get("WEALIST_LOAD_OUT", "."))
RUN: dict[str, Any] = {"started": time.monotonic(), "users": 0, "mix": {}}


_ENV: list[Environment] = []


@events.init.add_listener
def _init(environment: Environment, **_: Any) -> None:
    _ENV.append(environment)
    RUN["started"] = time.monotonic()


@events.spawning_complete.add_listener
def _spawned(user_count: int, **_: Any) -> None:
    RUN["users"] = max(RUN["users"], user_count)
    if _ENV and _ENV[0].runner is not None:
        RUN["mix"] = dict(_ENV[0].runner.user_classes_count)


@events.quitting.add_listener
def _write_snapshot(environment: Environment, **_: Any) -> None:
    data = snapshot(
        environment.stats,
        users=RUN["users"],
        duration_s=time.monotonic() - RUN["started"],
        mix=RUN["mix"],
    )
    (OUT / "stats.json").write_text(json.dumps(data))


if os.environ.get("WEALIST_LOAD_CAPACITY"):

    class StepShape(LoadTestShape):
        """Add users step by step; after each step, check the outer budgets on that step's
        samples (those after ``settle_s``); stop at the first step over a threshold."""

        def __init__(self) -> None:
            super().__init__()
            plan = json.loads(os.environ["WEALIST_LOAD_CAPACITY"])
            self.start, self.step = int(plan["start"]), int(plan["step"])
            self.step_s, self.settle_s = float(plan["step_s"]), float(plan["settle_s"])
            self.max_users, self.rate = int(plan["max_users"]), float(plan["spawn_rate"])
            self.level = gate.capacity_level(gate.load_budgets()[plan.get("level", "outer")])
            self.index = 0
            self.settled = False
            self.done = False
            self.steps_file = OUT / "steps.jsonl"
            self.steps_file.write_text("")

        def users_at(self, index: int) -> int:
            return self.start + index * self.step

        @override
        def tick(self) -> tuple[int, float] | None:
            if self.done:
                return None
            env = self.runner.environment if self.runner else None
            elapsed = self.get_run_time() - self.index * self.step_s
            if not self.settled and elapsed >= self.settle_s and env is not None:
                env.stats.reset_all()  # drop the ramp: new users signing in
                self.settled = True
                self.settled_at = time.monotonic()
            if elapsed >= self.step_s and env is not None:
                self.finish_step(env)
                if self.done:
                    return None
                self.index += 1
                self.settled = False
            users = self.users_at(self.index)
            if users > self.max_users:
                self.done = True
                return None
            return users, self.rate

        def finish_step(self, env: Environment) -> None:
            users = self.users_at(self.index)
            data = snapshot(
                env.stats,
                users=users,
                duration_s=time.monotonic() - self.settled_at,
                mix=dict(env.runner.user_classes_count) if env.runner else {},
            )
            checks = gate.evaluate(gate.snapshot_from(data), self.level)
            failed = [c for c in checks if not c.passed]
            data["passed"] = not failed
            data["failed"] = [gate.describe(c) for c in failed]
            with self.steps_file.open("a") as out:
                out.write(json.dumps(data) + "\n")
            verdict = "within budget" if not failed else "OVER: " + "; ".join(data["failed"])
            print(f"\n=== capacity step {self.index + 1}: {users} users: {verdict}\n", flush=True)
            if failed:
                self.done = True
