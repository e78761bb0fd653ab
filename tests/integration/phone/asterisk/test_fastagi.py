"""The FastAGI server over real loopback sockets: routing, many calls at once, graceful
shutdown that lets calls finish, and reloading callflows.yaml under live calls."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from agi_fake import FakeAsterisk, environment

from integration.support import ROOT, Db, StoppedClock, sign_in_busy
from ivr.app.bootstrap import Components, bootstrap
from ivr.app.cli_serve import serve_fastagi
from ivr.app.config import Settings
from ivr.phone.asterisk.fastagi import FastAgiServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
Start = Callable[..., tuple[FastAgiServer, threading.Thread]]


def fastagi_env(script: str = "hotline", uniqueid: str = "1700000000.1") -> list[str]:
    return environment("fastagi_session.txt", agi_network_script=script, agi_uniqueid=uniqueid)


def talk(port: int, fake: FakeAsterisk, pause: threading.Event | None = None) -> None:
    """Be Asterisk on a FastAGI connection: the environment, then a reply per command.
    With ``pause``, wait for it before answering the second command."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        reader = sock.makefile("r", encoding="utf-8", newline="\n")
        writer = sock.makefile("w", encoding="utf-8", newline="\n")
        writer.write("".join(f"{line}\n" for line in fake.environment) + "\n")
        writer.flush()
        for command in reader:
            if pause is not None and len(fake.commands) == 1:
                pause.wait(30)
            lines = fake.reply(command)
            if fake.state == "closed":
                return
            try:
                writer.write("".join(f"{line}\n" for line in lines))
                writer.flush()
            except OSError:
                return


@pytest.fixture
def running(
    seeded_url: str, make_hotline: Callable[..., Components]
) -> Iterator[Callable[..., tuple[FastAgiServer, threading.Thread]]]:
    started: list[tuple[FastAgiServer, threading.Thread]] = []

    def start(
        hotline: Components | None = None, interval: float = 1.0
    ) -> tuple[FastAgiServer, threading.Thread]:
        ready = threading.Event()
        holder: list[FastAgiServer] = []

        def on_ready(server: FastAgiServer) -> None:
            holder.append(server)
            ready.set()

        thread = threading.Thread(
            target=serve_fastagi,
            args=(
                hotline or make_hotline(seeded_url, role="fastagi"),
                "127.0.0.1",
                0,
                on_ready,
                interval,
            ),
        )
        thread.start()
        assert ready.wait(30)
        started.append((holder[0], thread))
        return holder[0], thread

    yield start
    for server, thread in started:
        server.shutdown()
        thread.join(30)


def test_a_call_is_routed_on_its_script_and_recorded(running: Start, db: Db) -> None:
    server, _ = running()
    fake = FakeAsterisk("1 0", hangup="fastagi", env=fastagi_env("hotline?lang=en&src=test"))
    talk(server.address[1], fake)
    assert fake.commands[0] == "ANSWER"
    assert fake.variables["IVR_OUTCOME"] == "queued" and fake.variables["IVR_QUEUE"] == "general"
    [record] = db.rows("call_records")
    assert (record["channel"], record["outcome"], record["queue"]) == (
        "fastagi",
        "queued",
        "general",
    )


def test_an_unknown_script_gets_no_outcome_so_the_dialplan_takes_the_safe_route(
    running: Start,
    db: Db,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, _ = running()
    fake = FakeAsterisk("1 0", env=fastagi_env("billing"))
    talk(server.address[1], fake)
    assert fake.commands == [] and "IVR_OUTCOME" not in fake.variables
    assert "unknown script 'billing'" in caplog.text
    assert db.rows("call_records") == []


def test_many_calls_at_once_all_finish(running: Start, db: Db) -> None:
    server, _ = running()
    fakes = [FakeAsterisk("1 0", env=fastagi_env(uniqueid=f"1700000000.{n}")) for n in range(40)]
    threads = [threading.Thread(target=talk, args=(server.address[1], f)) for f in fakes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(f.variables.get("IVR_OUTCOME") == "queued" for f in fakes)
    assert len(db.rows("call_records")) == 40


def test_stopping_lets_the_call_in_progress_finish_and_takes_no_new_one(
    running: Start, db: Db
) -> None:
    server, thread = running()
    port = server.address[1]
    pause = threading.Event()
    fake = FakeAsterisk("1 0", env=fastagi_env())
    caller = threading.Thread(target=talk, args=(port, fake, pause))
    caller.start()
    while not fake.commands:
        time.sleep(0.01)
    stopper = threading.Thread(target=server.shutdown)
    stopper.start()
    time.sleep(0.3)
    assert thread.is_alive()  # waiting for the call
    pause.set()
    caller.join(30)
    stopper.join(30)
    thread.join(30)
    assert not thread.is_alive()
    # Its menus finished; at the queue it was handed to the dialplan's safe route, since
    # a stopping controller holds nobody.
    assert fake.variables["IVR_OUTCOME"] == "fallback"
    assert [r["outcome"] for r in db.rows("call_records")] == ["queued"]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_a_changed_flow_serves_new_calls_while_the_call_in_progress_keeps_its_own(
    tmp_path: Path,
    seeded_url: str,
    make_hotline: Callable[..., Components],
    running: Start,
    clock: StoppedClock,
) -> None:
    flow = tmp_path / "callflows.yaml"
    shutil.copy(ROOT / "callflows.yaml", flow)
    (tmp_path / "prompts").mkdir()
    shutil.copy(ROOT / "prompts" / "prompts.yaml", tmp_path / "prompts" / "prompts.yaml")
    settings = Settings(flow_path=flow, database_url=seeded_url, log_level="WARNING")
    server, _ = running(bootstrap(settings, clock), interval=0.05)
    port = server.address[1]

    pause = threading.Event()
    old_call = FakeAsterisk("1 ~0", env=fastagi_env(uniqueid="1700000000.1"))
    caller = threading.Thread(target=talk, args=(port, old_call, pause))
    caller.start()
    while not old_call.commands:
        time.sleep(0.01)

    text = flow.read_text(encoding="utf-8").replace(
        "  welcome:                        # includes the anti-phishing reminder\n"
        "    type: say\n    prompt: welcome",
        "  welcome:\n    type: say\n    prompt: goodbye",
    )
    assert "prompt: goodbye" in text
    stamp = flow.stat().st_mtime_ns + 10**9
    flow.write_text(text, encoding="utf-8")
    os.utime(flow, ns=(stamp, stamp))
    deadline = time.monotonic() + 10
    new_call = FakeAsterisk("1 ~0", env=fastagi_env(uniqueid="1700000000.2"))
    while time.monotonic() < deadline:
        new_call = FakeAsterisk("1 ~0", env=fastagi_env(uniqueid="1700000000.2"))
        talk(port, new_call)
        if new_call.sent("STREAM FILE en/goodbye 0123456789*#"):
            break
        time.sleep(0.1)
    assert new_call.sent("STREAM FILE en/goodbye 0123456789*#"), "the new flow never went live"

    pause.set()
    caller.join(30)
    assert old_call.sent("STREAM FILE en/welcome 0123456789*#")  # the flow it started with
    assert not old_call.sent("STREAM FILE en/goodbye 0123456789*#")

    # A broken file is refused: calls go on with the last good flow.
    flow.write_text("nodes: [broken\n", encoding="utf-8")
    os.utime(flow, ns=(stamp + 10**9, stamp + 10**9))
    time.sleep(0.3)
    after = FakeAsterisk("1 ~0", env=fastagi_env(uniqueid="1700000000.3"))
    talk(port, after)
    assert after.variables["IVR_OUTCOME"] == "queued"
    assert after.sent("STREAM FILE en/goodbye 0123456789*#")


def test_sigterm_stops_the_command_after_the_call_in_progress(
    tmp_path: Path, seeded_url: str
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "IVR_DATABASE_URL": seeded_url, "IVR_FLOW": str(ROOT / "callflows.yaml")}
    process = subprocess.Popen(
        [sys.executable, "-m", "ivr.app.cli", "fastagi", "--listen", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        pause = threading.Event()
        fake = FakeAsterisk("1 0", env=fastagi_env(uniqueid="1700000000.9"))
        caller = threading.Thread(target=talk, args=(port, fake, pause))
        caller.start()
        while not fake.commands:
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert process.poll() is None  # still finishing the call
        pause.set()
        caller.join(30)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert fake.variables["IVR_OUTCOME"] == "fallback"  # the queue: to the safe route
    _, err = process.communicate()
    assert "waiting for 1 in progress" in err and "FastAGI stopped" in err
    assert "Traceback" not in err


def test_stopping_hands_callers_on_hold_to_the_safe_route(
    running: Start, db: Db, seeded_url: str, make_hotline: Callable[..., Components]
) -> None:
    sign_in_busy(db)
    server, thread = running(make_hotline(seeded_url, StoppedClock()))  # open hours
    # To the general queue; nobody is available; "t" keeps the caller on the line.
    fake = FakeAsterisk("1 0 t", env=fastagi_env())
    caller = threading.Thread(target=talk, args=(server.address[1], fake))
    caller.start()
    deadline = time.monotonic() + 20
    while not any(c.startswith("STREAM FILE moh/hold-") for c in list(fake.commands)):
        assert time.monotonic() < deadline, "\n".join(fake.commands)
        time.sleep(0.05)

    server.shutdown()  # as on SIGTERM: no new calls
    thread.join(30)
    caller.join(30)

    assert not thread.is_alive() and not caller.is_alive()  # the hold did not keep it up
    assert fake.commands[-2:] == [
        'STREAM FILE en/system_error ""',
        'SET VARIABLE IVR_OUTCOME "fallback"',  # the dialplan's safe route takes them on
    ]
    assert db.one("queue_entries")["state"] == "abandoned"
