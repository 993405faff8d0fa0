"""Load profiles: how many simulated people, for how long, on how much seeded data.

The mix of kinds (kanban, chat, notifications, drive, video) comes from the user classes'
weights (``loadtests/users``); a profile sets the totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loadtests.seed import SeedPlan

__all__ = ("CAPACITY", "PROFILES", "CapacityPlan", "Profile")


@dataclass(frozen=True)
class Profile:
    name: str
    users: int
    spawn_rate: float
    run_time: str  # Locust's format: 60s, 10m, 1h
    seed: SeedPlan
    about: str


@dataclass(frozen=True)
class CapacityPlan:
    """The Mattermost method: add ``step`` users every ``step_s`` until a threshold trips."""

    start: int = 20
    step: int = 20
    step_s: int = 45
    settle_s: int = 10  # per step, samples before this (the new users signing in) are dropped
    max_users: int = 800
    spawn_rate: float = 10.0
    seed: SeedPlan = field(
        default_factory=lambda: SeedPlan(teams=16, team_size=10, boards_per_project=20)
    )


PROFILES = {
    p.name: p
    for p in (
        Profile(
            "smoke",
            users=30,
            spawn_rate=10,
            run_time="60s",
            seed=SeedPlan(teams=4, team_size=8),
            about="CI: every kind of user for about a minute, gated on the outer budgets",
        ),
        Profile(
            "steady",
            users=80,
            spawn_rate=5,
            run_time="10m",
            seed=SeedPlan(teams=8, team_size=10, boards_per_project=20),
            about="a working team's day compressed: a steady mix for ten minutes",
        ),
        Profile(
            "soak",
            users=60,
            spawn_rate=5,
            run_time="1h",
            seed=SeedPlan(teams=8, team_size=10, boards_per_project=20),
            about="T39: long enough for token refreshes, stream reconnects and growth to show "
            "(T39 asks 4 h at half the capacity: --run-time 4h --users <capacity/2>)",
        ),
    )
}

CAPACITY = CapacityPlan()
