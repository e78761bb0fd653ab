"""A server process's CPU time and memory, read from ``/proc`` every 0.1 s in a thread.

CPU: user + system time of the process (all its threads), of its children it has waited
for, and of its live descendants. Memory: the process's ``VmRSS``. Each sample carries its
``time.monotonic()``, the clock the callers' processes stamp their calls with.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    at: float  # time.monotonic()
    cpu: float  # seconds, user + system, descendants included
    rss: int  # bytes


def _cpu(pid: int, children: bool) -> float:
    """Seconds of CPU of ``pid`` (with its waited-for children when ``children``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # after the command name: state is field 3, utime 14, stime 15, cutime 16, cstime 17
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            kids = [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            found += [kid, *_descendants(kid)]
    return found


def rss(pid: int) -> int:
    """``VmRSS`` of ``pid`` in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def sample(pid: int) -> Sample:
    cpu = _cpu(pid, children=True)
    for kid in _descendants(pid):
        try:
            cpu += _cpu(kid, children=True)
        except OSError:
            pass  # it ended between the listing and the reading
    return Sample(time.monotonic(), cpu, rss(pid))


class Sampler:
    """Samples ``pid`` every ``interval`` seconds from ``start()`` to ``stop()``."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> list[Sample]:
        self._stop.set()
        self._thread.join()
        return self.samples

    def _run(self) -> None:
        while True:
            try:
                self.samples.append(sample(self.pid))
            except OSError:
                return  # the process is gone
            if self._stop.wait(self.interval):
                return

    def at(self, moment: float) -> Sample:
        """The last sample taken at or before ``moment`` (else the first)."""
        best = self.samples[0]
        for s in self.samples:
            if s.at > moment:
                break
            best = s
        return best

    def peak_rss(self, start: float, end: float) -> int:
        inside = [s.rss for s in self.samples if start <= s.at <= end]
        return max(inside, default=0)
