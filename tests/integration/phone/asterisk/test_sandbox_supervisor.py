"""The sandbox supervises its controller: ``ivr.phone.asterisk.supervisor`` with a stand-in child (a
real process listening on a port of 127.0.0.1, as the FastAGI server does) that is killed
with SIGKILL, fails to start, or is stopped on purpose."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ivr.phone.asterisk import children
from ivr.phone.asterisk.supervisor import Backoff, Supervisor

#: A child that serves like the FastAGI server (it listens on the port) until killed.
LISTENER = (
    "import socket, sys, time\n"
    "server = socket.create_server(('127.0.0.1', int(sys.argv[1])))\n"
    "time.sleep(600)\n"
)
QUICK = Backoff(first=0.1, longest=0.4, calm=60)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def eventually(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not {what} after {timeout:.0f}s"
        time.sleep(0.05)


class Children:
    """Launches stand-in children; ``failing`` of them (in turn) exit at once instead."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.log = folder / "child.log"
        self.failing: list[bool] = []
        self.launched: list[subprocess.Popen[bytes]] = []

    def launch(self) -> subprocess.Popen[bytes]:
        fails = self.failing.pop(0) if self.failing else False
        code = "raise SystemExit(3)" if fails else LISTENER
        child = children.spawn([sys.executable, "-c", code, str(self.port)], self.log)
        self.launched.append(child)
        return child

    def ready(self) -> bool:
        return children.listening(self.port)

    def supervisor(self, backoff: Backoff = QUICK) -> Supervisor:
        return Supervisor("the stand-in", self.launch, self.ready, self.log, backoff, startup=10)


@pytest.fixture
def stand_in(tmp_path: Path) -> Children:
    return Children(tmp_path)


@pytest.fixture
def supervised(stand_in: Children) -> Iterator[Supervisor]:
    supervisor = stand_in.supervisor()
    supervisor.start()
    yield supervisor
    supervisor.stop(5)


def restarted(supervisor: Supervisor, stand_in: Children, old: int | None) -> Callable[[], bool]:
    return lambda: supervisor.pid != old and supervisor.running and stand_in.ready()


def restart_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "ivr.phone.asterisk.supervisor" and "starting it again" in r.getMessage()
    ]


def test_a_killed_child_is_started_again_with_one_line_logged(
    supervised: Supervisor, stand_in: Children, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ivr.phone.asterisk.supervisor")
    first = supervised.pid
    assert first is not None and supervised.running and stand_in.ready()

    os.kill(first, signal.SIGKILL)
    eventually(restarted(supervised, stand_in, first), "serving again")

    assert supervised.restarts == 1
    [line] = restart_lines(caplog)
    assert f"the stand-in (pid {first}) exited with status -9" in line
    assert "starting it again in 0.1s (restart 1)" in line

    second = supervised.pid
    os.kill(second or 0, signal.SIGKILL)  # and again: the pause doubles
    eventually(restarted(supervised, stand_in, second), "serving again")
    assert supervised.restarts == 2
    assert "in 0.2s (restart 2)" in restart_lines(caplog)[-1]


def test_a_child_that_fails_to_start_is_tried_again_until_it_serves(
    supervised: Supervisor, stand_in: Children, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ivr.phone.asterisk.supervisor")
    stand_in.failing = [True, True]  # the next two starts exit at once
    first = supervised.pid

    os.kill(first or 0, signal.SIGKILL)
    eventually(lambda: len(stand_in.launched) == 4 and stand_in.ready(), "serving again")
    eventually(restarted(supervised, stand_in, first), "serving again")

    assert supervised.restarts == 3
    lines = restart_lines(caplog)
    assert [line.split("in ")[-1] for line in lines] == [
        "0.1s (restart 1)", "0.2s (restart 2)", "0.4s (restart 3)",
    ]  # fmt: skip
    failed = [r.getMessage() for r in caplog.records if "did not start again" in r.getMessage()]
    assert len(failed) == 2 and "exited with status 3" in failed[0]


def test_a_stopped_child_is_not_started_again(stand_in: Children) -> None:
    supervisor = stand_in.supervisor()
    supervisor.start()
    child = stand_in.launched[-1]

    supervisor.stop(5)

    assert child.poll() is not None and not supervisor.running
    time.sleep(QUICK.first * 3)
    assert len(stand_in.launched) == 1 and supervisor.restarts == 0
    assert not stand_in.ready()


def test_a_child_that_never_starts_is_an_error_at_once(stand_in: Children) -> None:
    stand_in.failing = [True]
    supervisor = stand_in.supervisor()

    with pytest.raises(children.ChildError, match="the stand-in exited with status 3"):
        supervisor.start()
    assert not supervisor.running
