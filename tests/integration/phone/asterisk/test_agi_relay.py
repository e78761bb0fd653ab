"""``agi_scripts/hotline.agi`` relaying its call to a running controller (a real
``FastAgiServer`` on a loopback port), as Asterisk runs it: the scripted Asterisk of
``tests/agi_fake.py`` on its stdin and stdout. With the controller down, the same call runs
in-process; with a controller that drops the connection mid-call, the script ends at once
and leaves nothing set, so the dialplan takes its safe route."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from agi_fake import FakeAsterisk, close_pipes, environment

from integration.support import LI_WEI, ROOT, Db, StoppedClock, clock_environment
from ivr.app.bootstrap import Components
from ivr.app.cli_serve import serve_fastagi
from ivr.phone.asterisk.fastagi import FastAgiServer

sqlite = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
SCRIPT = ROOT / "agi_scripts" / "hotline.agi"
NUMBER, PIN, _ = LI_WEI


@pytest.fixture
def controller(seeded_url: str, make_hotline: Callable[..., Components]) -> Iterator[FastAgiServer]:
    """The controller's FastAGI server on a free port, on the seeded database."""
    ready = threading.Event()
    holder: list[FastAgiServer] = []

    def on_ready(server: FastAgiServer) -> None:
        holder.append(server)
        ready.set()

    thread = threading.Thread(
        target=serve_fastagi, args=(make_hotline(seeded_url), "127.0.0.1", 0, on_ready)
    )
    thread.start()
    assert ready.wait(30)
    yield holder[0]
    holder[0].shutdown()
    thread.join(30)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def script_env(port: int, url: str, clock: StoppedClock) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("IVR_")},
        "IVR_FASTAGI_PORT": str(port),
        "IVR_DATABASE_URL": url,  # IVR_FLOW unset: the project's callflows.yaml
        **clock_environment(clock),
    }


def start(env: dict[str, str], cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(SCRIPT), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, cwd=cwd, env=env,
    )  # fmt: skip


def run(process: subprocess.Popen[str], fake: FakeAsterisk) -> tuple[int, str]:
    """``fake`` talks to ``process`` until it exits: its status and stderr."""
    fake.on_sighup = lambda: process.send_signal(signal.SIGHUP)
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        fake.talk_to(process)
        code = process.wait(timeout=60)
        assert process.stderr is not None
        return code, process.stderr.read()
    finally:
        watchdog.cancel()
        process.kill()
        close_pipes(process)


def plain_environment(call_id: str) -> list[str]:
    """The captured environment of ``AGI(hotline.agi)``, without arguments."""
    captured = environment(agi_uniqueid=call_id)
    return [line for line in captured if not line.startswith("agi_arg_")]


@sqlite
@pytest.mark.parametrize("style", ["process", "eof", "between"])
def test_with_the_controller_up_the_call_is_the_controllers(
    controller: FastAgiServer, db: Db, tmp_path: Path, clock: StoppedClock, style: str
) -> None:
    # The script's own database does not exist: had it run the call, the call would fail.
    env = script_env(controller.address[1], f"sqlite:///{tmp_path}/none.sqlite3", clock)
    fake = FakeAsterisk(f"1 1 {NUMBER}# 24h", hangup=style, env=plain_environment(style))
    code, err = run(start(env, tmp_path), fake)

    assert code == 0, err
    assert fake.commands[:2] == ["ANSWER", "STREAM FILE en/choose_language 0123456789*#"]
    assert fake.sent("WAIT FOR DIGIT") or fake.sent("STREAM FILE zh/")
    record = db.one("call_records", call_id=style)
    assert (record["channel"], record["outcome"], record["last_node"]) == (
        "fastagi",
        "abandoned",
        "ask_pin",
    )
    assert not (tmp_path / "none.sqlite3").exists()


@sqlite
def test_a_relayed_call_reaches_its_end_and_sets_what_the_dialplan_reads(
    controller: FastAgiServer, db: Db, tmp_path: Path, clock: StoppedClock
) -> None:
    env = script_env(controller.address[1], f"sqlite:///{tmp_path}/none.sqlite3", clock)
    fake = FakeAsterisk("1 0", hangup="fastagi", env=plain_environment("relay.queued"))
    code, err = run(start(env, tmp_path), fake)

    assert code == 0, err
    assert fake.variables["IVR_OUTCOME"] == "queued", fake.commands
    record = db.one("call_records", call_id="relay.queued")
    assert (record["channel"], record["outcome"]) == ("fastagi", "queued")


@sqlite
def test_with_the_controller_down_the_script_runs_the_call_itself(
    seeded_url: str, db: Db, tmp_path: Path, clock: StoppedClock
) -> None:
    env = script_env(closed_port(), seeded_url, clock)
    fake = FakeAsterisk(f"1 1 {NUMBER}# 24h", hangup="eof", env=plain_environment("down.1"))
    code, err = run(start(env, tmp_path), fake)

    assert code == 0, err
    assert fake.commands[:2] == ["ANSWER", "STREAM FILE en/choose_language 0123456789*#"]
    record = db.one("call_records", call_id="down.1")
    assert (record["channel"], record["outcome"], record["last_node"]) == (
        "agi",
        "abandoned",
        "ask_pin",
    )


class DroppingController:
    """A controller that takes the call, sends ``ANSWER``, reads the reply and then
    closes the connection (it crashed); what it read is kept."""

    def __init__(self, drop: threading.Event | None = None) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.drop = drop
        self.received: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection, connection.makefile("rw", encoding="utf-8", newline="\n") as line:
            while (text := line.readline()) not in ("\n", ""):
                self.received.append(text.rstrip("\n"))
            if text == "":
                return
            line.write("ANSWER\n")
            line.flush()
            self.received.append(line.readline().rstrip("\n"))
            if self.drop is not None:
                self.drop.wait(30)
                self.received.append(line.readline().rstrip("\n"))

    def close(self) -> None:
        self.thread.join(30)
        self.listener.close()


def test_a_controller_that_drops_the_call_ends_the_script_at_once(
    tmp_path: Path, clock: StoppedClock
) -> None:
    peer = DroppingController()
    env = script_env(peer.port, f"sqlite:///{tmp_path}/none.sqlite3", clock)
    process = start(env, tmp_path, "callback", "id=7")
    try:
        assert process.stdin is not None and process.stdout is not None
        block = environment(agi_uniqueid="drop.1", agi_arg_1="callback", agi_arg_2="id=7")
        process.stdin.write("".join(f"{line}\n" for line in block) + "\n")
        process.stdin.flush()
        assert process.stdout.readline() == "ANSWER\n"
        process.stdin.write("200 result=0\n")
        process.stdin.flush()
        # The controller is gone: no more commands, the script exits, stdin still open.
        assert process.stdout.readline() == ""
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.communicate()
        peer.close()
    assert peer.received[:2] == ["agi_network: yes", "agi_network_script: callback?id=7"]
    assert "agi_uniqueid: drop.1" in peer.received
    assert peer.received[-1] == "200 result=0"


def test_a_sighup_reaches_the_controller_as_fastagis_hangup_line(
    tmp_path: Path, clock: StoppedClock
) -> None:
    drop = threading.Event()
    peer = DroppingController(drop)
    env = script_env(peer.port, f"sqlite:///{tmp_path}/none.sqlite3", clock)
    process = start(env, tmp_path)
    try:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write("".join(f"{line}\n" for line in plain_environment("hup.1")) + "\n")
        process.stdin.flush()
        assert process.stdout.readline() == "ANSWER\n"
        process.stdin.write("200 result=0\n")
        process.stdin.flush()
        process.send_signal(signal.SIGHUP)
        drop.set()
        assert process.stdout.readline() == ""
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.communicate()
        peer.close()
    # Between two whole lines; before the reply if the signal came before it was read.
    assert sorted(peer.received[-2:]) == ["200 result=0", "HANGUP"]


def test_what_is_not_an_environment_is_refused_before_it_reaches_the_controller(
    tmp_path: Path, clock: StoppedClock
) -> None:
    peer = DroppingController()
    env = script_env(peer.port, f"sqlite:///{tmp_path}/none.sqlite3", clock)
    done = subprocess.run(
        [str(SCRIPT)], input=b"agi_request: x\n\x89PNG\r\n\x1a\n", capture_output=True,
        cwd=tmp_path, env=env, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == b"hotline.agi ERROR: stdin line 2: not an AGI environment line\n"
    peer.close()  # it was connected to and left without a word
    assert peer.received == []
