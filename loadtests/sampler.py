"""CPU and memory of the stack's processes during a run, read from /proc (Linux).

T37 also trips on "pod CPU or memory > 85 %" and T39 on RSS growth; here the services
share two cores with Locust and PostgreSQL, so these readings are reported next to the
latencies (how much of the machine each service used), not gated on.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

__all__ = ("Reading", "Sampler")

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _children_by_parent() -> dict[int, list[int]]:
    """Every process's children, from each one's parent pid (a child started from another
    thread than the main one, as Granian's workers are, is missing from ``children``)."""
    found: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        found.setdefault(parent, []).append(int(entry.name))
    return found


def _tree(pid: int, children: dict[int, list[int]] | None = None) -> list[int]:
    """The process and its descendants."""
    children = _children_by_parent() if children is None else children
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def _cpu_and_rss(pids: list[int]) -> tuple[float, int]:
    cpu, rss = 0.0, 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        cpu += (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
        rss += pages * PAGE
    return cpu, rss


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))


@dataclass
class Reading:
    name: str
    cpu_s: float = 0.0
    rss_first: int = 0
    rss_last: int = 0
    rss_max: int = 0


@dataclass
class Sampler:
    pids: dict[str, int]
    interval_s: float = 2.0
    readings_by_name: dict[str, Reading] = field(default_factory=dict)
    started_cpu: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0
    machine_busy: float = 0.0  # fraction of all cores, everyone's processes included
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Sampler:
        self._began = time.monotonic()
        self._machine = _machine_busy()
        for name, pid in dict(self.pids).items():
            self.watch(name, pid)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def watch(self, name: str, pid: int) -> None:
        """Also follow ``pid`` and its descendants from now on (e.g. Locust itself)."""
        cpu, rss = _cpu_and_rss(_tree(pid))
        self.started_cpu[name] = cpu
        self.readings_by_name[name] = Reading(name, 0.0, rss, rss, rss)
        self.pids = {**self.pids, name: pid}

    def _sample(self) -> None:
        children = _children_by_parent()
        for name, pid in self.pids.items():
            cpu, rss = _cpu_and_rss(_tree(pid, children))
            reading = self.readings_by_name[name]
            reading.cpu_s = max(reading.cpu_s, cpu - self.started_cpu[name])
            if rss:
                reading.rss_last = rss
                reading.rss_max = max(reading.rss_max, rss)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.wall_s = time.monotonic() - self._began
        busy, total = _machine_busy()
        spent = total - self._machine[1]
        self.machine_busy = (busy - self._machine[0]) / spent if spent else 0.0

    def readings(self) -> dict[str, object]:
        return {
            "wall_s": self.wall_s,
            "machine_busy": self.machine_busy,
            "cores": os.cpu_count() or 1,
            "services": [vars(r) for r in self.readings_by_name.values()],
        }
