"""Ratios measured within one run, printed as they come and summed up at the end.

The machine is shared and noisy: an absolute time means little from one run to the next,
a ratio of two things measured side by side in the same minute means much more.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ("Ratio", "Results", "best_rate", "per_call_us")


@dataclass(frozen=True)
class Ratio:
    group: str
    what: str
    ours: str  # the measured thing, with its absolute figure
    against: str  # the baseline or ceiling, with its figure
    ratio: float
    meaning: str  # how to read the ratio


@dataclass
class Results:
    ratios: list[Ratio] = field(default_factory=list)

    def add(self, ratio: Ratio) -> None:
        self.ratios.append(ratio)
        print(
            f"  {ratio.what}: {ratio.ratio:.2f}x  ({ratio.ours} vs {ratio.against}; "
            f"{ratio.meaning})",
            flush=True,
        )

    def table(self) -> str:
        lines = [
            "| group | ratio | value | ours | baseline / ceiling | reading |",
            "|---|---|---:|---|---|---|",
        ]
        lines.extend(
            f"| {r.group} | {r.what} | {r.ratio:.2f}x | {r.ours} | {r.against} | {r.meaning} |"
            for r in self.ratios
        )
        return "\n".join(lines)

    def write(self, path: Path, header: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{header}\n\n{self.table()}\n")


def per_call_us(call: Callable[[], object], rounds: int, repeat: int = 5) -> float:
    """Median microseconds per call over ``repeat`` batches of ``rounds`` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(rounds):
            call()
        samples.append((time.perf_counter() - started) / rounds * 1e6)
    return statistics.median(samples)


def best_rate(samples: list[float]) -> float:
    """The best of several throughput samples: noise from other work only lowers them."""
    return max(samples)
