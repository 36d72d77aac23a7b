"""Timing primitives for `make bench`: whole-process timings, medians, peak RSS, a result table.

Machines are noisy: every row compares our figure with a baseline measured in the same run, and
reports medians of repeated runs. Nothing here asserts; the table says pass/fail against targets.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_PY = os.path.join(ROOT, ".venv", "bin", "python")
TIME_BIN = "/usr/bin/time"


@dataclass
class Row:
    target: str
    ours: float
    baseline: float
    unit: str
    # "le": ours/baseline <= limit (times); "ge": baseline/ours >= limit (a speed-up: ours is a time);
    # "ge_ratio": ours/baseline >= limit (throughputs); "abs_lt": ours < limit (baseline is context);
    # "info": no target, shown to explain another row.
    kind: str
    limit: float
    note: str = ""

    @property
    def ratio(self) -> float:
        if self.kind == "ge":
            return self.baseline / self.ours if self.ours else float("inf")
        return self.ours / self.baseline if self.baseline else float("inf")

    @property
    def passed(self) -> bool:
        if self.kind == "info":
            return True
        if self.kind == "le":
            return self.ratio <= self.limit
        if self.kind in ("ge", "ge_ratio"):
            return self.ratio >= self.limit
        return self.ours < self.limit


def median_seconds(fn: Callable[[], object], runs: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def process_seconds(argv: Sequence[str], runs: int, env: dict[str, str] | None = None) -> float:
    """Median wall time of a whole process (start-up included), interleaving nothing else."""

    def run() -> None:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)

    return median_seconds(run, runs)


def interleaved_process_seconds(
    a: Sequence[str], b: Sequence[str], runs: int, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Medians of two commands run alternately, so drift in machine load hits both alike."""
    sa: list[float] = []
    sb: list[float] = []
    for argv in (a, b):  # warm the page cache
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    for _ in range(runs):
        for argv, samples in ((a, sa), (b, sb)):
            start = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            samples.append(time.perf_counter() - start)
    return statistics.median(sa), statistics.median(sb)


def child_peak_rss_mib(argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process.

    Measured by /usr/bin/time (GNU time, `%M`), not by our own wait4(): Linux keeps the (v)forked
    parent's memory high-water mark in the child's maxrss across exec, so a child of this (large)
    process would report at least our own size. time's child is forked from the small `time`.
    """
    if not os.path.exists(TIME_BIN):
        raise RuntimeError(f"{TIME_BIN} is missing (Debian package `time`): it measures peak memory")
    start = time.perf_counter()
    done = subprocess.run(
        [TIME_BIN, "-f", "%M", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False
    )
    wall = time.perf_counter() - start
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    if done.returncode != 0 or not lines or not lines[-1].isdigit():
        raise RuntimeError(f"{argv[:3]} failed ({done.returncode}): {' / '.join(lines[-5:])}")
    return wall, int(lines[-1]) / 1024  # %M is KiB


def alternated_peak_rss(
    baseline: Sequence[str], ours: Sequence[str], runs: int, after_ours: Callable[[], None] | None = None
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Run two commands in turn `runs` times (so load drift hits both alike), each under GNU time:
    (baseline walls, baseline peak RSS MiB, our walls, our peak RSS MiB). `after_ours` runs after
    each of ours (to check and clean its output)."""
    base_walls: list[float] = []
    base_rss: list[float] = []
    our_walls: list[float] = []
    our_rss: list[float] = []
    for _ in range(runs):
        wall, rss = child_peak_rss_mib(baseline)
        base_walls.append(wall)
        base_rss.append(rss)
        wall, rss = child_peak_rss_mib(ours)
        our_walls.append(wall)
        our_rss.append(rss)
        if after_ours is not None:
            after_ours()
    return base_walls, base_rss, our_walls, our_rss


def self_peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_table(rows: Sequence[Row]) -> None:
    header = f"{'target':<62} {'ours':>12} {'baseline':>12} {'ratio':>7} {'target':>9}  result"
    print(header)
    print("-" * len(header))
    for row in rows:
        if row.kind == "info":
            limit = "-"
        elif row.kind == "abs_lt":
            limit = f"<{row.limit:g} {row.unit}"
        elif row.kind in ("ge", "ge_ratio"):
            limit = f">={row.limit:g}x"
        else:
            limit = f"<={row.limit:g}x"
        ours, base = f"{row.ours:.3f} {row.unit}", f"{row.baseline:.3f} {row.unit}"
        verdict = "info" if row.kind == "info" else ("PASS" if row.passed else "FAIL")
        note = f"  ({row.note})" if row.note else ""
        print(f"{row.target:<62} {ours:>12} {base:>12} {row.ratio:>6.2f}x {limit:>9}  {verdict}{note}")
