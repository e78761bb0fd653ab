"""What a hostile FastAGI peer can make the server hold, over real loopback sockets: long
lines, endless or dripping environments, too many connections, and a call served while
thousands of connections sit idle. The server's log never carries the peer's bytes."""

from __future__ import annotations

import resource
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from agi_fake import FakeAsterisk

from integration.phone.asterisk.test_fastagi import fastagi_env, talk
from integration.support import Db
from ivr.app.bootstrap import Components
from ivr.app.cli_serve import serve_fastagi
from ivr.phone.asterisk.fastagi import FastAgiServer
from ivr.phone.asterisk.fastagi_limits import FastAgiLimits

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
Start = Callable[..., FastAgiServer]
#: Quick limits for the tests on time.
QUICK = FastAgiLimits(environment_deadline=1.0, read_timeout=0.5, line_deadline=1.0)
MB = 1024 * 1024


@pytest.fixture
def running(seeded_url: str, make_hotline: Callable[..., Components]) -> Iterator[Start]:
    started: list[tuple[FastAgiServer, threading.Thread]] = []

    def start(limits: FastAgiLimits | None = None) -> FastAgiServer:
        ready = threading.Event()
        holder: list[FastAgiServer] = []

        def on_ready(server: FastAgiServer) -> None:
            holder.append(server)
            ready.set()

        hotline = make_hotline(seeded_url, role="fastagi")  # on PostgreSQL: on the loop
        extra = {"limits": limits} if limits is not None else {}
        thread = threading.Thread(
            target=serve_fastagi, args=(hotline, "127.0.0.1", 0, on_ready), kwargs=extra
        )
        thread.start()
        assert ready.wait(30)
        started.append((holder[0], thread))
        return holder[0]

    yield start
    for server, thread in started:
        server.shutdown()
        thread.join(30)


def connect(server: FastAgiServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.address[1]), timeout=10)


def closed_within(sock: socket.socket, seconds: float, since: float | None = None) -> float | None:
    """Seconds until the server closed ``sock`` (reading and dropping what it sends), or
    None if it was still open after ``seconds``; counted from ``since`` (a
    ``time.monotonic()`` taken when the connection was made) when given, so a thread
    scheduled late does not shorten what is measured."""
    start = time.monotonic() if since is None else since
    sock.settimeout(0.05)
    while time.monotonic() - start < seconds:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - start
        except TimeoutError:
            continue
        except OSError:  # reset: closed with our bytes unread
            return time.monotonic() - start
    return None


def send_quietly(sock: socket.socket, data: bytes, times: int = 1, every: float = 0.0) -> None:
    """Send ``data`` ``times`` times, ``every`` seconds apart, until the server closes."""
    for _ in range(times):
        try:
            sock.sendall(data)
        except OSError:
            return
        if every:
            time.sleep(every)


def in_background(work: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("ivr.phone.asterisk.")]


def assert_short_log(caplog: pytest.LogCaptureFixture) -> None:
    assert all(len(r.getMessage()) < 300 for r in caplog.records), max(
        (r.getMessage()[:300] for r in caplog.records), key=len
    )
    assert "x" * 100 not in caplog.text  # at most a short prefix of what the peer sent


def test_a_50_mb_line_without_a_newline_is_refused_fast_holding_little_memory(
    running: Start, caplog: pytest.LogCaptureFixture
) -> None:
    server = running()
    chunk = b"x" * MB
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        with connect(server) as sock:
            sender = in_background(lambda: send_quietly(sock, chunk, 50))
            took = closed_within(sock, 10)
            sender.join(10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert took is not None and took < 5, "the 50 MB line was not refused"
    assert peak - before < 8 * MB, f"the server held {(peak - before) / MB:.0f} MB"
    [line] = [m for m in refusals(caplog) if "closed" in m]
    assert line.startswith("FastAGI connection from 127.0.0.1:")
    assert "environment line of over 8192 bytes" in line
    assert_short_log(caplog)


def test_an_environment_larger_than_its_cap_is_refused(
    running: Start, caplog: pytest.LogCaptureFixture
) -> None:
    server = running()
    lines = b"".join(b"agi_arg_%d: %s\n" % (n, b"x" * 1000) for n in range(200))
    with connect(server) as sock:
        in_background(lambda: send_quietly(sock, lines))
        assert closed_within(sock, 5) is not None
    [line] = [m for m in refusals(caplog) if "closed" in m]
    assert "an environment of over 65536 bytes" in line
    assert_short_log(caplog)


@pytest.mark.parametrize(
    ("payload", "every"),
    [
        pytest.param(b"agi_more: yes\n", 0.1, id="an environment that never ends"),
        # Each byte well within the silence allowed (0.5 s), the whole far too slow.
        pytest.param(b"a", 0.2, id="a peer dripping one byte at a time"),
    ],
)
def test_a_peer_never_done_with_its_environment_is_cut_at_the_overall_deadline(
    running: Start, caplog: pytest.LogCaptureFixture, payload: bytes, every: float
) -> None:
    server = running(QUICK)
    with connect(server) as sock:
        connected = time.monotonic()
        # Never silent for long, never over a size limit.
        in_background(lambda: send_quietly(sock, payload, 100, every=every))
        took = closed_within(sock, 5, since=connected)
    assert took is not None and 0.9 < took < 2.5, took
    [line] = [m for m in refusals(caplog) if "closed" in m]
    assert "no complete environment 1 s after connecting" in line


def test_a_peer_silent_before_its_environment_ends_is_cut(
    running: Start, caplog: pytest.LogCaptureFixture
) -> None:
    server = running(QUICK)
    with connect(server) as sock:
        sent = time.monotonic()
        sock.sendall(b"agi_network: yes\nagi_netw")
        took = closed_within(sock, 5, since=sent)
    assert took is not None and 0.4 < took < 0.9, took
    [line] = [m for m in refusals(caplog) if "closed" in m]
    assert "silent for 0.5 s before its environment ended (25 bytes)" in line


def test_a_reply_line_over_the_cap_ends_the_call_without_logging_it(
    running: Start, db: Db, caplog: pytest.LogCaptureFixture
) -> None:
    server = running()
    with connect(server) as sock:
        sock.sendall("".join(f"{line}\n" for line in fastagi_env()).encode() + b"\n")
        sock.settimeout(10)
        assert sock.recv(4096).startswith(b"ANSWER")
        in_background(lambda: send_quietly(sock, b"200 result=" + b"x" * MB, 50))
        assert closed_within(sock, 10) is not None
    assert any("a line of over 8192 bytes from 127.0.0.1:" in m for m in refusals(caplog))
    assert_short_log(caplog)
    [record] = db.rows("call_records")
    assert record["outcome"] == "abandoned"


def test_a_garbage_reply_is_logged_as_a_short_escaped_prefix_only(
    running: Start, db: Db, caplog: pytest.LogCaptureFixture
) -> None:
    server = running()
    with connect(server) as sock:
        sock.sendall("".join(f"{line}\n" for line in fastagi_env()).encode() + b"\n")
        sock.settimeout(10)
        assert sock.recv(4096).startswith(b"ANSWER")
        sock.sendall(b"<html>" + b"x" * 6000 + b"\n")
        assert closed_within(sock, 10) is not None
    [line] = [m for m in refusals(caplog) if "not an AGI reply" in m]
    assert "'<html>xxxx" in line and "(6007 characters)" in line
    assert_short_log(caplog)
    assert db.one("call_records")["outcome"] == "abandoned"


def test_over_the_waiting_connections_cap_a_new_connection_is_refused_with_a_log_line(
    running: Start, caplog: pytest.LogCaptureFixture
) -> None:
    server = running(FastAgiLimits(max_pending=3))
    with ExitStack() as stack:
        idle = [stack.enter_context(connect(server)) for _ in range(3)]
        extra = stack.enter_context(connect(server))
        assert closed_within(extra, 5) is not None
        assert all(closed_within(sock, 0.2) is None for sock in idle)  # they still wait
    [line] = [m for m in refusals(caplog) if "refused" in m]
    assert line.startswith("FastAGI: refused a connection from 127.0.0.1:")
    assert "3 connections already waiting for their environment" in line


def test_over_the_calls_cap_a_new_call_is_refused_and_the_next_one_served(
    running: Start, caplog: pytest.LogCaptureFixture
) -> None:
    server = running(FastAgiLimits(max_calls=1))
    port = server.address[1]
    pause = threading.Event()
    first = FakeAsterisk("1 0", env=fastagi_env(uniqueid="1700000000.1"))
    caller = in_background(lambda: talk(port, first, pause))
    deadline = time.monotonic() + 20
    while not first.commands:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    refused = FakeAsterisk("1 0", env=fastagi_env(uniqueid="1700000000.2"))
    talk(port, refused)
    assert refused.commands == []  # closed at once: the dialplan's safe route
    assert any("all 1 calls busy" in m for m in refusals(caplog))
    pause.set()
    caller.join(30)
    later = FakeAsterisk("1 0", env=fastagi_env(uniqueid="1700000000.3"))
    talk(port, later)
    assert first.variables["IVR_OUTCOME"] == later.variables["IVR_OUTCOME"] == "queued"


def test_a_call_is_served_while_3000_idle_connections_are_open(running: Start, db: Db) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 8000
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, wanted), hard))
    server = running(FastAgiLimits(environment_deadline=120, read_timeout=120))
    threads_before = threading.active_count()
    with ExitStack() as stack:
        for _ in range(3000):
            sock = stack.enter_context(connect(server))
            sock.sendall(b"agi_network: yes\n")  # and then nothing
        time.sleep(0.5)
        started = time.monotonic()
        fake = FakeAsterisk("1 0", env=fastagi_env())
        talk(server.address[1], fake)
        took = time.monotonic() - started
        # No thread per idle connection (a call's thread may linger in the pool).
        assert threading.active_count() - threads_before < 20
        assert server.intake.pending == 3000
    assert fake.variables["IVR_OUTCOME"] == "queued", fake.commands
    assert took < 20
    [record] = db.rows("call_records")
    assert record["outcome"] == "queued"
