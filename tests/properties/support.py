"""What the stateful property tests share: their Hypothesis budgets, and a bridge that lets
a (synchronous) Hypothesis state machine drive the async clients of the test's event loop.

Budgets: the default run is small and derandomized (the same examples on every CI run, a
few seconds per property); ``WEALIST_HYPOTHESIS_PROFILE=thorough`` runs many more random
examples and longer walks. Only these tests read the variable: no global profile is
loaded, so other Hypothesis tests keep their own settings.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

T = TypeVar("T")

PROFILE_VARIABLE = "WEALIST_HYPOTHESIS_PROFILE"

# name -> (examples, steps per example) for each property; the thorough profile is for a
# nightly or a manual run (minutes), the default one for every CI run (seconds).
BUDGETS: dict[str, dict[str, tuple[int, int]]] = {
    "default": {
        "kanban": (15, 25),
        "refresh": (8, 20),
        "chat": (15, 20),
        "chat_resume": (8, 20),
        "chat_reconnect": (10, 20),
    },
    "thorough": {
        "kanban": (100, 40),
        "refresh": (100, 30),
        "chat": (60, 30),
        "chat_resume": (40, 30),
        "chat_reconnect": (30, 30),
    },
}


def profile() -> str:
    name = os.environ.get(PROFILE_VARIABLE, "default") or "default"
    if name not in BUDGETS:
        raise ValueError(f"{PROFILE_VARIABLE} must be one of {sorted(BUDGETS)}, not {name!r}")
    return name


def budget(prop: str) -> settings:
    """The Hypothesis settings of one property under the selected profile.

    The default profile does not shrink: every step is real requests, so shrinking a
    failure takes minutes (up to Hypothesis's 5-minute cap) and CI reports the failing walk
    as found (at most a few dozen steps). The thorough profile shrinks.
    """
    examples, steps = BUDGETS[profile()][prop]
    thorough = profile() == "thorough"
    phases = [Phase.explicit, Phase.reuse, Phase.generate]
    if thorough:
        phases.append(Phase.shrink)
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,  # real requests: their latency is not the property
        derandomize=not thorough,  # CI runs the same examples every time
        database=None,  # nothing written into the checkout
        phases=phases,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        print_blob=True,
    )


class Bridge:
    """Run a coroutine on the test's event loop from the machine's thread, and wait."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float = 60.0) -> None:
        self.loop = loop
        self.timeout = timeout

    def __call__(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(self.timeout)


async def run_machine(factory: Callable[[Bridge], RuleBasedStateMachine], prop: str) -> None:
    """Run a state machine in a worker thread while this loop keeps serving the clients
    (in-process apps, sockets) its rules use through the :class:`Bridge`."""
    bridge = Bridge(asyncio.get_running_loop())
    made = 0

    def new() -> RuleBasedStateMachine:
        nonlocal made
        made += 1
        return factory(bridge)

    try:
        await asyncio.to_thread(run_state_machine_as_test, new, settings=budget(prop))
    finally:  # shown with -s or -rP: how much a run explored
        sys.stdout.write(f"{prop}: {made} machines run ({profile()} profile)\n")


async def gather(*work: Awaitable[T]) -> list[T]:
    return list(await asyncio.gather(*work))
