"""The FastAGI work gate: a call thread holds a slot only while it works, never while it
waits for its peer (a reply, or a send the peer does not read)."""

from __future__ import annotations

import socket
import threading

from ivr.phone.asterisk.fastagi_gate import WorkGate
from ivr.phone.asterisk.fastagi_limits import FastAgiLimits
from ivr.phone.asterisk.fastagi_lines import GatedWriter, SocketLines


def test_a_call_waiting_for_its_reply_lets_another_call_work() -> None:
    gate = WorkGate(1)
    ours, peer = socket.socketpair()
    lines = SocketLines(ours, FastAgiLimits(), idle=5.0, gate=gate)
    got: list[str] = []
    gate.enter()  # the call works...

    def call() -> None:
        got.append(lines.readline())  # ...then waits for its reply, gate left

    reader = threading.Thread(target=call)
    reader.start()
    try:
        entered = gate._slots.acquire(timeout=5)  # another call gets the one slot
        assert entered
        gate.leave()
        peer.sendall(b"200 result=0\n")
        reader.join(5)
        assert got == ["200 result=0\n"]
        assert not gate._slots.acquire(blocking=False)  # the reader holds it again
    finally:
        gate.leave()
        ours.close()
        peer.close()


def test_a_send_the_peer_does_not_read_waits_with_the_gate_left() -> None:
    gate = WorkGate(1)
    ours, peer = socket.socketpair()
    ours.settimeout(5.0)
    writer = GatedWriter(ours.makefile("w", encoding="utf-8", newline="\n"), gate)
    gate.enter()
    stuck = threading.Event()

    def flood() -> None:
        try:
            for _ in range(10_000):  # far more than the socket's buffers hold
                writer.write('STREAM FILE en/welcome ""\n' * 100)
                writer.flush()
        except OSError:
            pass
        finally:
            stuck.set()

    sender = threading.Thread(target=flood, daemon=True)
    sender.start()
    try:
        assert gate._slots.acquire(timeout=5)  # the blocked sender holds no slot
        gate.leave()
    finally:
        peer.close()  # the send fails: the sender stops
        stuck.wait(10)
        ours.close()


def test_the_gate_counts_its_slots() -> None:
    gate = WorkGate(2)
    gate.enter()
    gate.enter()
    assert not gate._slots.acquire(blocking=False)
    gate.leave()
    assert gate._slots.acquire(blocking=False)
