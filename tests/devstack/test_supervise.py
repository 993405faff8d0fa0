"""The pieces of ``wealist up``'s supervision that need no process: the restart backoff,
how an exit is described, and the log rotation."""

from __future__ import annotations

import signal
from pathlib import Path

from wealist.devstack.procs import describe_exit, rotate_log
from wealist.devstack.supervise import BACKOFF, Backoff


def test_restart_delays_double_from_half_a_second_up_to_the_cap() -> None:
    assert [BACKOFF.delay(n) for n in range(1, 10)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    assert Backoff(first_s=1, cap_s=5).delay(3) == 4
    assert Backoff(first_s=1, cap_s=5).delay(4) == 5
    assert BACKOFF.delay(10_000) == 30  # no overflow after a very long crash loop


def test_exits_in_a_row_reset_after_a_healthy_run() -> None:
    policy = Backoff(healthy_s=60)
    assert policy.in_a_row(0, None) == 1  # the first exit
    assert policy.in_a_row(3, None) == 4  # it never got healthy since its last restart
    assert policy.in_a_row(3, 59.9) == 4  # healthy, but not for long
    assert policy.in_a_row(3, 60) == 1  # had recovered: a new row, the shortest delay
    assert policy.delay(policy.in_a_row(6, 3600)) == 0.5


def test_an_exit_names_its_code_or_signal() -> None:
    assert describe_exit(1) == "code 1"
    assert describe_exit(0) == "code 0"
    assert describe_exit(-signal.SIGKILL) == "signal 9, SIGKILL"
    assert describe_exit(-signal.SIGSEGV) == "signal 11, SIGSEGV"
    assert describe_exit(-77) == "signal 77"


def test_logs_of_the_last_runs_are_kept_and_older_ones_dropped(tmp_path: Path) -> None:
    log = tmp_path / "chat.log"
    rotate_log(log)  # nothing yet: nothing to do
    assert list(tmp_path.iterdir()) == []
    for run in range(1, 6):
        rotate_log(log, keep=3)
        log.write_text(f"run {run}\n")
    assert log.read_text() == "run 5\n"
    assert (tmp_path / "chat.log.1").read_text() == "run 4\n"
    assert (tmp_path / "chat.log.2").read_text() == "run 3\n"
    assert (tmp_path / "chat.log.3").read_text() == "run 2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "chat.log",
        "chat.log.1",
        "chat.log.2",
        "chat.log.3",
    ]
