"""Two ``ivr fastagi`` controller processes on one PostgreSQL database (the scale-out
layout) with callers holding on both and agents busy; ``kill -9`` of one of them. Within
the lease and a reaper round the survivor serves every one of its callers, the dead one's
entries end abandoned (with their wait), and no agent stays ringing or captured.

Asterisk is the faithful fake of ``tests/agi_fake.py`` over real sockets; the agents'
phones answer after a short talk (``EXEC Dial`` returns, ``DIALSTATUS=ANSWER``)."""

from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from agi_fake import FakeAsterisk, environment
from start_date import CLOCK_ENV, OPEN_UTC

from integration.support import ROOT, Db
from ivr.app.bootstrap import Components
from ivr.center import lifecycle as lc
from ivr.services.contact_agents import Agent

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

LEASE = 3
TALK = 4.0  # seconds an agent talks with each caller
HOLD_SEGMENT = 0.3  # seconds a hold segment plays (shortened)


class Phones(FakeAsterisk):
    """A caller holding for a person; hold music takes a moment; an agent rung answers
    and talks for ``TALK`` seconds."""

    def _reply(self, command: str) -> list[str]:
        if self.state == "up" and command.startswith("EXEC Dial"):
            self.commands.pop()  # ``reply`` recorded it; keep one record
            self.commands.append(command)
            time.sleep(TALK)
            return ["200 result=0"]
        if self.state == "up" and command.startswith("GET VARIABLE DIALSTATUS"):
            return ["200 result=1 (ANSWER)"]
        if command.startswith("STREAM FILE moh/"):
            time.sleep(HOLD_SEGMENT)
        return super()._reply(command)


def call(port: int, fake: FakeAsterisk) -> None:
    """Be Asterisk on one FastAGI connection until the call ends or the line dies."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            reader = sock.makefile("r", encoding="utf-8", newline="\n")
            writer = sock.makefile("w", encoding="utf-8", newline="\n")
            writer.write("".join(f"{line}\n" for line in fake.environment) + "\n")
            writer.flush()
            for command in reader:
                lines = fake.reply(command)
                if fake.state == "closed":
                    return
                writer.write("".join(f"{line}\n" for line in lines))
                writer.flush()
    except OSError:
        return  # the controller died under this call


def caller(n: int) -> Phones:
    env = environment(
        "fastagi_session.txt", agi_network_script="hotline", agi_uniqueid=f"1700000100.{n}",
        agi_callerid=f"+1415555{n:04d}",
    )  # fmt: skip
    return Phones("1 0 t", env=env)  # to the general queue, then holding on


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def controllers(seeded_url: str) -> Iterator[list[tuple[subprocess.Popen[str], int]]]:
    """Two ``ivr fastagi`` processes on the test's database, clocks at opening time."""
    started: list[tuple[subprocess.Popen[str], int]] = []
    began = time.monotonic()
    for _ in range(2):
        port = free_port()
        since = timedelta(seconds=time.monotonic() - began)
        env = {
            **os.environ,
            "IVR_DATABASE_URL": seeded_url,
            "IVR_FLOW": str(ROOT / "callflows.yaml"),
            "IVR_SECRET_KEY": "two-controllers",
            "IVR_QUEUE_LEASE_SECONDS": str(LEASE),
            "IVR_WRAP_UP_SECONDS": "0",
            CLOCK_ENV: (OPEN_UTC + since).isoformat(),  # one clock for both
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "ivr.app.cli", "fastagi", "--listen", f"127.0.0.1:{port}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        started.append((process, port))
    for process, port in started:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "ivr fastagi did not start"
                time.sleep(0.1)
    yield started
    for process, _ in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process, _ in started:
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def wait_for(condition: object, what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        time.sleep(0.1)


def test_kill_9_of_one_controller_leaves_the_other_serving_every_caller(
    controllers: list[tuple[subprocess.Popen[str], int]], hotline: Components, db: Db
) -> None:
    (doomed, doomed_port), (survivor, survivor_port) = controllers
    center = hotline.contact_center
    agents = {a.username: a.id for a in center.agents_view()}
    for name in ("alice", "bob", "chen"):  # general, English
        assert isinstance(center.set_availability(agents[name], True), Agent)

    def entries() -> list[dict[str, object]]:
        return [dict(r) for r in db.rows("queue_entries")]

    threads: list[threading.Thread] = []
    fakes: dict[str, list[Phones]] = {"doomed": [], "survivor": []}

    def start(where: str, port: int, n: int) -> None:
        fake = caller(n)
        fakes[where].append(fake)
        thread = threading.Thread(target=call, args=(port, fake), daemon=True)
        thread.start()
        threads.append(thread)

    # The survivor's first three callers take all three agents (talks of TALK seconds)...
    for n in range(3):
        start("survivor", survivor_port, n)
    wait_for(lambda: sum(e["state"] == lc.OFFERED for e in entries()) == 3, "3 offers")
    # ...then callers hold on both: the doomed one's first (ahead in line).
    for n in range(3, 7):
        start("doomed", doomed_port, n)
    wait_for(lambda: len(entries()) == 7, "the doomed controller's 4 callers in line")
    for n in range(7, 10):
        start("survivor", survivor_port, n)
    wait_for(lambda: len(entries()) == 10, "10 callers in line")
    doomed_ids = {e["call_id"] for e in entries()[3:7]}  # in id order: the doomed four
    holders = {e["call_id"]: e["held_by"] for e in entries()}
    assert {holders[c] for c in doomed_ids} == {f"fastagi {platform.node()}:{doomed.pid}"}
    assert all(h.startswith("fastagi ") and h.endswith(":" + str(survivor.pid))
               for c, h in holders.items() if c not in doomed_ids)  # fmt: skip

    doomed.send_signal(signal.SIGKILL)  # kill -9: no goodbye, no abandon
    doomed.wait(10)

    def settled() -> bool:
        rows = entries()
        theirs = [e for e in rows if e["call_id"] in doomed_ids]
        ours = [e for e in rows if e["call_id"] not in doomed_ids]
        return all(e["state"] == lc.ABANDONED for e in theirs) and all(
            e["state"] == lc.DONE for e in ours
        )

    wait_for(settled, "every survivor caller served, every ghost abandoned", within=90)
    for fake in fakes["survivor"]:
        assert fake.variables.get("IVR_OUTCOME") == "agent", fake.commands[-6:]
        assert fake.sent("EXEC Dial")
    rows = entries()
    ghosts = [e for e in rows if e["call_id"] in doomed_ids]
    assert len(ghosts) == 4
    assert all(e["wait_seconds"] is not None and e["lease_until"] is None for e in ghosts)
    assert db.count("audit_log", action="queue_lease_expired") == 4  # each reaped once
    wait_for(
        lambda: not {a.state for a in center.agents_view()} & {lc.RINGING, lc.ON_CALL},
        "no agent ringing or on a call",
    )
    for thread in threads:
        thread.join(30)
    assert survivor.poll() is None
