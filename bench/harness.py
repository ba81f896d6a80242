"""What every bench shares: turns that alternate, medians with ranges, CPU and RSS from /proc, the printout.

A bench builds its inputs first, then calls `alternate` with one callable per side; each callable does one
turn of the same work and returns its measurements. `Report.figure` prints, per figure, the peer's median and
range, ours, the ratio ours / peer (the median of the per-round ratios, so a load shift between rounds cancels
out) with its range, the number of rounds and the load average at the time. `Report.done` returns the exit
status: 1 only when a side failed or the outputs differ, never because of a time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import resource
import socket
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
CPU_RESOLUTION = f"CPU from /proc/PID/stat (utime + stime), {1000 / TICK:.0f} ms ticks"
MIN_ROUNDS = 5

Measure = Mapping[str, float]


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages as text."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine() -> str:
    """Describe this machine: host, CPU model, cores, memory, kernel and Python."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    return (
        f"{socket.gethostname()}: {model}, {os.cpu_count()} cores, {mem:.0f} GiB, "
        f"Linux {platform.release()}, Python {platform.python_version()}"
    )


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time of a process (all its threads, live and finished)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def children_cpu_seconds() -> float:
    """Return the CPU time of this process' reaped children (getrusage, microsecond resolution)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def descendants(pid: int) -> list[int]:
    """Return `pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children.get(p, [])
    return found


def rss_mib(pid: int) -> float:
    """Return the resident set size of a process in MiB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pss_mib(pid: int) -> float:
    """Return the proportional set size of a process in MiB: pages it shares with others count in part."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _tree_sum(pid: int, read: Callable[[int], float]) -> float:
    total = 0.0
    for p in descendants(pid):
        with contextlib.suppress(OSError):  # a process may end while we read
            total += read(p)
    return total


def tree_cpu_seconds(pid: int) -> float:
    """Return the CPU time of a process and its live descendants (e.g. gunicorn and its workers)."""
    return _tree_sum(pid, cpu_seconds)


def contains(text: str) -> Callable[[bytes], str | None]:
    """Return a check that an answer holds `text` (e.g. a probe's success line)."""
    return lambda body: None if text.encode() in body else f"no {text!r} in the answer"


def alternate(
    turns: Sequence[tuple[str, Callable[[], Measure]]], rounds: int
) -> dict[str, dict[str, list[float]]]:
    """Run the turns A, B, A, B, ... for `rounds` rounds; return every side's measurements per name."""
    if rounds < MIN_ROUNDS:
        raise SystemExit(f"at least {MIN_ROUNDS} rounds, not {rounds}")
    out: dict[str, dict[str, list[float]]] = {name: {} for name, _ in turns}
    for _ in range(rounds):
        for name, turn in turns:
            for key, value in turn().items():
                out[name].setdefault(key, []).append(value)
    return out


def scrape_turn(
    pid: int, url: str, scrapes: int, check: Callable[[bytes], str | None], report: Report
) -> Callable[[], Measure]:
    """Return one turn of `scrapes` scrapes one after the other: median wall, CPU per scrape, RSS after.

    CPU is the exporter's over the whole turn divided by `scrapes`, so its resolution is one tick / scrapes.
    `check` returns why a body is wrong (recorded as a failure), or None.
    """
    from bench.servers import fetch

    def run() -> Measure:
        walls = []
        cpu0 = cpu_seconds(pid)
        for _ in range(scrapes):
            start = time.perf_counter()
            body = fetch(url)
            walls.append(time.perf_counter() - start)
            why = check(body)
            if why:
                report.fail(f"{url}: {why}")
        cpu = cpu_seconds(pid) - cpu0
        return {
            "wall_ms": statistics.median(walls) * 1000,
            "cpu_ms": cpu / scrapes * 1000,
            "rss": rss_mib(pid),
        }

    return run


def series_count(body: bytes, prefixes: tuple[str, ...] = ("",), skip: tuple[str, ...] = ()) -> int:
    """Count the sample lines of an exposition that start with one of `prefixes` and none of `skip`."""
    return sum(
        1
        for line in body.decode().splitlines()
        if line and not line.startswith("#") and line.startswith(prefixes) and not line.startswith(skip)
    )


def spread(values: Sequence[float], digits: int = 1) -> str:
    """Format a median and its range: ``12.3 [11.9-13.0]``."""
    return f"{statistics.median(values):.{digits}f} [{min(values):.{digits}f}-{max(values):.{digits}f}]"


@dataclass
class Report:
    """The printout of one bench: a header, figures, failures, and the exit status."""

    title: str
    peer: str
    ours: str = "hospmon"
    failures: list[str] = field(default_factory=list)

    def header(self, **about: object) -> None:
        """Print the title, the date, the machine, how CPU is read and the load average now."""
        print(f"# {self.title}")
        print(f"date {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}; {machine()}")
        print(f"{CPU_RESOLUTION}; RSS from /proc/PID/status VmRSS; load average now {load_average()}")
        for key, value in about.items():
            print(f"{key}: {value}")
        print(
            f"{'figure':<40}{self.peer + ' (peer)':>26}{self.ours:>26}{'ratio ours/peer':>22}"
            f"{'rounds':>7}  load"
        )
        sys.stdout.flush()

    def figure(
        self, what: str, peer: Sequence[float], ours: Sequence[float], digits: int = 1, paired: bool = True
    ) -> float:
        """Print one figure; return the median ratio ours / peer (per round when `paired`)."""
        if paired and len(peer) == len(ours):
            ratios = [o / p if p else float("inf") for o, p in zip(ours, peer, strict=True)]
        else:
            base = statistics.median(peer)
            ratios = [o / base if base else float("inf") for o in ours]
        ratio = statistics.median(ratios)
        print(
            f"{what:<40}{spread(peer, digits):>26}{spread(ours, digits):>26}"
            f"{spread(ratios, 2):>22}{min(len(peer), len(ours)):>7}  {load_average()}",
            flush=True,
        )
        return ratio

    def note(self, text: str) -> None:
        """Print a line of context under the figures."""
        print(f"  {text}", flush=True)

    def fail(self, why: str) -> None:
        """Record that a side failed or the outputs differ."""
        self.failures.append(why)
        print(f"FAILED: {why}", flush=True)

    def same(self, what: str, peer: object, ours: object) -> None:
        """Record a failure when the two sides' outputs differ."""
        if peer != ours:
            self.fail(f"{what} differ: {self.peer} {peer!r}, {self.ours} {ours!r}")

    def done(self) -> int:
        """Print the outcome; return 1 when a side failed or outputs differed, else 0."""
        print(f"load average at the end {load_average()}; {len(self.failures)} failure(s)\n", flush=True)
        return 1 if self.failures else 0
