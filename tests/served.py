"""``ivr serve`` as a process of its own, for the tests that need the real server: started,
its banner read for the console's URL, and stopped with SIGTERM (a graceful stop)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: The banner's first and last lines (``ivr.app.cli_serve``).
CONSOLE_LINE = "agent console: "
LAST_LINE = "Stop with Ctrl-C."


@dataclass
class Serving:
    """The console's base URL (no trailing slash), what the banner said, and, once the
    ``with`` block is left, the exit status and what the server printed while stopping."""

    url: str
    said: list[str]
    process: subprocess.Popen[str]
    stopped: str = field(default="")


@contextmanager
def ivr_serve(
    command: Sequence[str], env: Mapping[str, str], cwd: Path, start_within: float = 30
) -> Iterator[Serving]:
    """Run ``command`` (an ``ivr serve`` line) until the block ends; fail the test if it
    does not print its banner within ``start_within`` seconds or does not stop within 20
    seconds of SIGTERM."""
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    said: list[str] = []
    url = ""
    deadline = time.monotonic() + start_within
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        said.append(line)
        if line.startswith(CONSOLE_LINE):
            url = line.split(": ", 1)[1].strip().rstrip("/")
        if line.startswith(LAST_LINE):
            break
    if not url or process.poll() is not None:
        process.kill()
        process.wait()
        pytest.fail(f"{command[0]} serve did not start: {''.join(said)}", False)
    serving = Serving(url, said, process)
    try:
        yield serving
    finally:
        process.terminate()
        try:
            serving.stopped, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"{command[0]} serve did not stop within 20 s of SIGTERM", False)
