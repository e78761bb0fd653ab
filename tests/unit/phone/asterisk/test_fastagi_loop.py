"""The call loop (``ivr.phone.asterisk.fastagi_loop``) over real socket pairs: a call's
blocking reads and writes wait on the loop, within the same bounds as a call thread's, and
a call that waits never holds up another."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from ivr.phone.asterisk.agi_protocol import OverLimit
from ivr.phone.asterisk.fastagi_limits import FastAgiLimits
from ivr.phone.asterisk.fastagi_lines import CHUNK
from ivr.phone.asterisk.fastagi_loop import CallLoop, LoopLines, LoopWriter, connect

LIMITS = FastAgiLimits(max_line=64, line_deadline=1.0)


@pytest.fixture
def loop() -> Iterator[CallLoop]:
    calls = CallLoop("test-loop")
    yield calls
    calls.close()
    # However its calls ended (a peer gone, a line refused, silence), none is left in line.
    assert calls.ration.waiting == 0


def on_loop(loop: CallLoop, work: Callable[[LoopLines, LoopWriter], object]) -> tuple[
    socket.socket, Callable[[], object]
]:  # fmt: skip
    """Run ``work(lines, writer)`` as a call on ``loop`` over one end of a socket pair;
    returns the other end and a function that waits for the work's result (or raises what
    it raised)."""
    ours, theirs = socket.socketpair()
    done = threading.Event()
    result: list[object] = []

    def call(running_loop: object, sock: socket.socket) -> None:
        try:
            size = LIMITS.max_line + CHUNK
            protocol = connect(running_loop, sock, size, loop.ration)  # type: ignore[arg-type]
            lines = LoopLines(sock, LIMITS, 2.0, b"", "test peer")
            lines.protocol = protocol
            writer = LoopWriter(protocol)
            try:
                result.append(work(lines, writer))
            finally:
                writer.close()
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            result.append(exc)
        finally:
            done.set()

    loop.submit(call, ours)

    def outcome() -> object:
        assert done.wait(10), "the call did not end"
        if isinstance(result[0], BaseException):
            raise result[0]
        return result[0]

    return theirs, outcome


def test_a_line_sent_in_pieces_is_read_whole_and_a_reply_sent(loop: CallLoop) -> None:
    def work(lines: LoopLines, writer: LoopWriter) -> str:
        writer.write("ANSWER\n")
        writer.flush()
        return lines.readline()

    peer, outcome = on_loop(loop, work)
    with peer:
        assert peer.recv(100) == b"ANSWER\n"
        peer.sendall(b"200 res")
        peer.sendall(b"ult=0\n")
        assert outcome() == "200 result=0\n"


def test_a_line_over_the_limit_is_refused_and_little_is_held(loop: CallLoop) -> None:
    held: list[int] = []

    def work(lines: LoopLines, writer: LoopWriter) -> str:
        try:
            return lines.readline()
        finally:
            held.append(len(lines._buffer) + len(lines.protocol._data))

    peer, outcome = on_loop(loop, work)
    with peer:
        peer.setblocking(False)
        try:
            peer.sendall(b"x" * 1_000_000)  # far more than a line may be: not all taken
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            pass  # the socket full, or the call already refused the line and closed it
        with pytest.raises(OverLimit, match="over 64 bytes"):
            outcome()
    assert held[0] <= LIMITS.max_line + 2 * 262_144  # a limit and the loop's read size or so


def test_silence_past_the_idle_timeout_and_a_closed_peer(loop: CallLoop) -> None:
    def silent(lines: LoopLines, writer: LoopWriter) -> str:
        lines.idle = 0.2
        return lines.readline()

    peer, outcome = on_loop(loop, silent)
    with peer, pytest.raises(TimeoutError):
        outcome()

    peer, outcome = on_loop(loop, lambda lines, writer: lines.readline())
    peer.sendall(b"partial")
    peer.close()
    assert outcome() == "partial"  # what came before the end, then "" (end of input)


def test_a_call_waiting_for_its_peer_holds_up_no_other(loop: CallLoop) -> None:
    quiet_peer, quiet = on_loop(loop, lambda lines, writer: lines.readline())
    talking_peer, talking = on_loop(loop, lambda lines, writer: lines.readline())
    with quiet_peer, talking_peer:
        talking_peer.sendall(b"200 result=1\n")
        assert talking() == "200 result=1\n"  # while the other still waits
        quiet_peer.sendall(b"200 result=0\n")
        assert quiet() == "200 result=0\n"


def test_a_peer_that_does_not_read_parks_the_writer_alone(loop: CallLoop) -> None:
    sent = threading.Event()

    def flood(lines: LoopLines, writer: LoopWriter) -> int:
        for _ in range(64):
            writer.write("x" * 65_536)
            writer.flush()  # waits on the loop once the transport's buffer is full
        sent.set()
        return 64

    stuck_peer, stuck = on_loop(loop, flood)
    other_peer, other = on_loop(loop, lambda lines, writer: lines.readline())
    with stuck_peer, other_peer:
        other_peer.sendall(b"200 result=0\n")
        assert other() == "200 result=0\n"
        assert not sent.is_set()  # still parked: the peer reads nothing
        received = 0
        while received < 64 * 65_536:
            received += len(stuck_peer.recv(1 << 20))
        assert stuck() == 64


def test_closing_waits_for_the_calls_then_runs_the_last_work_on_the_loop() -> None:
    calls = CallLoop("closing")
    peer, outcome = on_loop(calls, lambda lines, writer: lines.readline())
    last: list[str] = []
    closer = threading.Thread(
        target=calls.close, args=(lambda: last.append(threading.current_thread().name),)
    )
    closer.start()
    peer.sendall(b"200 result=0\n")
    assert outcome() == "200 result=0\n"
    closer.join(10)
    assert last == ["closing"] and calls.loop.is_closed()
    with pytest.raises(RuntimeError):
        calls.submit(lambda loop: None)
    peer.close()
