"""Every call has a record from its first second, over real FastAGI sockets: open while
the caller is in the menus, closed when the call ends; a call whose ``ivr fastagi``
process is killed (``kill -9``) is closed as ``interrupted`` at its last node by the
reaper of another process, and 20 calls cut by one crash leave 20 records."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from start_date import clock_environment

from integration.fastagi_calls import Caller, wait_for
from integration.support import FLOW_PATH, OPEN_UTC, ROOT, Db, StoppedClock
from ivr.app.bootstrap import Components
from ivr.app.cli_serve import serve_fastagi
from ivr.phone.asterisk.fastagi import FastAgiServer
from ivr.services.call_record_reaper import close_interrupted

MAIN_MENU = "STREAM FILE en/main_menu"
LANGUAGE_MENU = "STREAM FILE en/choose_language"


@contextmanager
def fastagi_thread(hotline: Components) -> Iterator[FastAgiServer]:
    ready = threading.Event()
    holder: list[FastAgiServer] = []

    def on_ready(server: FastAgiServer) -> None:
        holder.append(server)
        ready.set()

    thread = threading.Thread(target=serve_fastagi, args=(hotline, "127.0.0.1", 0, on_ready))
    thread.start()
    assert ready.wait(30)
    try:
        yield holder[0]
    finally:
        holder[0].shutdown()
        thread.join(30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def fastagi_process(
    url: str, spool: Path, **env: str
) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """``ivr fastagi`` as a process of its own on a free port (killed at the end)."""
    port = free_port()
    environment = {
        **os.environ,
        "IVR_DATABASE_URL": url,
        "IVR_FLOW": str(FLOW_PATH),
        "IVR_SPOOL_DIR": str(spool),
        **env,
    }
    command = [sys.executable, "-m", "ivr.app.cli", "fastagi", "--listen", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        command, env=environment, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip

    def listening() -> bool:
        assert process.poll() is None, process.communicate()[1]
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    try:
        wait_for(listening, "ivr fastagi to listen")
        yield port, process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def test_a_call_in_the_menus_has_an_open_record(
    make_hotline: Callable[..., Components], seeded_url: str, db: Db, clock: StoppedClock
) -> None:
    with fastagi_thread(make_hotline(seeded_url)) as server:
        # 1 for English, then "~": listens to the welcome (no type-ahead) to the main menu.
        caller = Caller(server.address[1], "1 ~", "1700000100.1", stall_at=MAIN_MENU).start()
        wait_for(caller.stalled.is_set, "the caller to reach the main menu")

        record = db.one("call_records", call_id="1700000100.1")  # mid-call
        assert (record["outcome"], record["ended_at"], record["channel"]) == (
            None, None, "fastagi",
        )  # fmt: skip
        assert record["caller_id"] and record["started_at"] is not None
        assert record["last_seen_at"] is not None

        caller.release.set()  # the keys run out: the caller hangs up at the main menu
        caller.join()
    record = db.one("call_records", call_id="1700000100.1")
    assert (record["outcome"], record["last_node"]) == ("abandoned", "main_menu")


def test_a_call_whose_process_is_killed_is_closed_interrupted_by_the_next_process(
    seeded_url: str, db: Db, tmp_path: Path
) -> None:
    with fastagi_process(seeded_url, tmp_path) as (port, process):
        # The caller listens to the language menu for a while, presses 1, and is in the
        # main menu when the process dies.
        caller = Caller(
            port, "1 ~", "1700000200.1", stall_at=MAIN_MENU, slow=LANGUAGE_MENU, delay=2.5
        ).start()
        wait_for(
            lambda: [r["last_node"] for r in db.rows("call_records")] == ["main_menu"],
            "the record to reach the main menu",
        )
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
        caller.release.set()
        caller.join()
    assert db.one("call_records")["outcome"] is None  # nobody closed it

    later = clock_environment(StoppedClock(OPEN_UTC + timedelta(hours=1)))
    with fastagi_process(seeded_url, tmp_path, IVR_RECORD_LEASE="1", **later):
        wait_for(
            lambda: db.one("call_records")["outcome"] == "interrupted",
            "the restarted process's reaper",
        )
    record = db.one("call_records")
    assert (record["call_id"], record["last_node"]) == ("1700000200.1", "main_menu")
    assert record["path"] == ["choose_language", "welcome", "main_menu"]
    assert record["ended_at"] == record["last_seen_at"]


def test_twenty_calls_cut_by_a_crash_leave_twenty_records(
    make_hotline: Callable[..., Components], seeded_url: str, db: Db, tmp_path: Path
) -> None:
    with fastagi_process(seeded_url, tmp_path) as (port, process):
        callers = [
            Caller(port, "1 ~", f"1700000300.{n}", stall_at=MAIN_MENU).start() for n in range(20)
        ]
        wait_for(lambda: all(c.stalled.is_set() for c in callers), "20 callers in the menus")
        wait_for(lambda: db.count("call_records") == 20, "20 open records")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
        for caller in callers:
            caller.release.set()
            caller.join()

    survivor = make_hotline(seeded_url, StoppedClock(OPEN_UTC + timedelta(hours=1)))
    closed = close_interrupted(survivor.unit_of_work, survivor.clock.now())

    assert sorted(closed) == sorted(f"1700000300.{n}" for n in range(20))
    records = db.rows("call_records")
    assert len(records) == 20
    assert {r["outcome"] for r in records} == {"interrupted"}
    assert all(r["last_node"] in ("choose_language", "main_menu") for r in records)
