"""Hostile YAML for the loader's bounds, and a cage to load it in.

A regression in the bounds must fail a test, not take the machine down: every bomb is
loaded in a child process with its address space capped (``RLIMIT_AS``) and a timeout.
"""

from __future__ import annotations

import resource
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MEMORY_CAP = 1024**3  # the child's whole address space: Python, the product, the bomb
TIME_CAP = 60.0


def alias_bomb(width: int = 9, levels: int = 9) -> str:
    """ "Billion laughs": each level aliases the one before ``width`` times (9**9 leaves)."""
    names = "abcdefghijklmnopqrstuvwxyz"[:levels]
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['lol'] * width)}]"]
    for before, name in zip(names, names[1:], strict=False):
        lines.append(f"{name}: &{name} [{', '.join([f'*{before}'] * width)}]")
    return "\n".join(lines) + "\n"


def deep_list(depth: int = 10_000) -> str:
    """``[[[...]]]``, ``depth`` levels, on one line."""
    return "[" * depth + "x" + "]" * depth


def deep_mapping(depth: int = 10_000) -> str:
    """``{a: {a: ...}}``, ``depth`` levels, on one line."""
    return "{a: " * depth + "x" + "}" * depth


@dataclass(frozen=True)
class Caged:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def run_caged(args: Sequence[str], cwd: Path | None = None) -> Caged:
    """Run ``args`` with at most ``MEMORY_CAP`` bytes of memory and ``TIME_CAP`` seconds."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    start = time.monotonic()
    done = subprocess.run(
        list(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIME_CAP,
        preexec_fn=cap,  # noqa: PLW1509 - no threads to deadlock: nothing else runs here
        check=False,
    )
    return Caged(done.returncode, done.stdout, done.stderr, time.monotonic() - start)
