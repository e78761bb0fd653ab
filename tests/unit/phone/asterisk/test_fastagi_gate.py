"""The FastAGI work gate: a call thread holds a slot only while it works, never while it
waits for its peer (a reply, or a send the peer does not read) or for the database; a
thread that never entered (the web's) is not affected."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import sessionmaker

from ivr.app.gate_waits import wait_outside
from ivr.phone.asterisk.fastagi_gate import WorkGate
from ivr.phone.asterisk.fastagi_limits import FastAgiLimits
from ivr.phone.asterisk.fastagi_lines import GatedWriter, SocketLines
from ivr.store.unit_of_work import SqlUnitOfWork


def free(gate: WorkGate) -> bool:
    """Whether a slot is free now (taken and given back at once)."""
    if gate._slots.acquire(blocking=False):
        gate._slots.release()
        return True
    return False


def test_a_call_waiting_for_its_reply_lets_another_call_work() -> None:
    gate = WorkGate(1)
    ours, peer = socket.socketpair()
    lines = SocketLines(ours, FastAgiLimits(), idle=5.0, gate=gate)
    got: list[str] = []
    held_after: list[bool] = []
    done = threading.Event()

    def call() -> None:
        gate.enter()  # the call works...
        got.append(lines.readline())  # ...then waits for its reply, outside the gate
        held_after.append(not free(gate))
        done.wait(5)
        gate.leave()

    caller = threading.Thread(target=call)
    caller.start()
    try:
        assert gate._slots.acquire(timeout=5)  # another call gets the one slot meanwhile
        gate._slots.release()
        peer.sendall(b"200 result=0\n")
        while not got:
            caller.join(0.01)
        assert got == ["200 result=0\n"] and held_after == [True]  # back in the gate
    finally:
        done.set()
        caller.join(5)
        ours.close()
        peer.close()
    assert free(gate)


def test_a_send_the_peer_does_not_read_waits_outside_the_gate() -> None:
    gate = WorkGate(1)
    ours, peer = socket.socketpair()
    ours.settimeout(5.0)
    writer = GatedWriter(ours.makefile("w", encoding="utf-8", newline="\n"), gate)
    stopped = threading.Event()

    def flood() -> None:
        gate.enter()
        try:
            for _ in range(10_000):  # far more than the socket's buffers hold
                writer.write('STREAM FILE en/welcome ""\n' * 100)
                writer.flush()
        except OSError:
            pass
        finally:
            gate.leave()
            stopped.set()

    threading.Thread(target=flood, daemon=True).start()
    try:
        assert gate._slots.acquire(timeout=5)  # the blocked sender holds no slot
        gate._slots.release()
    finally:
        peer.close()  # the send fails: the sender stops
        stopped.wait(10)
        ours.close()


def test_a_statement_is_waited_for_outside_the_gate_and_the_web_is_not_gated() -> None:
    gate = WorkGate(1)
    engine = create_engine("sqlite://")
    wait_outside(engine, gate)
    seen: list[bool] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _during(*_: object) -> None:  # after the gate's own hook
        seen.append(free(gate))

    gate.enter()  # a call thread
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        assert seen == [True]  # its slot was free during the round trip
        assert not free(gate)  # and is its own again
    gate.leave()

    def web_request() -> None:
        with engine.connect() as conn:  # closed in its own thread (SQLite's rule)
            conn.execute(text("SELECT 1"))

    web = threading.Thread(target=web_request)
    gate.enter()  # the slot taken: a web thread's statements must not wait for it
    web.start()
    web.join(5)
    assert not web.is_alive() and seen[-1] is False
    gate.leave()
    assert free(gate)
    engine.dispose()


def test_a_unit_of_work_waits_for_the_writer_lock_outside_the_gate() -> None:
    gate = WorkGate(1)
    writer_lock = threading.Lock()
    steps: list[bool] = []

    @contextmanager
    def waiting() -> Iterator[None]:
        with gate.outside():
            steps.append(free(gate))
            yield

    engine = create_engine("sqlite://")
    gate.enter()
    with SqlUnitOfWork(sessionmaker(engine), writer_lock, 5.0, waiting):
        assert not free(gate)
    gate.leave()
    engine.dispose()
    assert steps == [True, True]  # the writer lock's wait and the pool's


def test_slots_go_to_the_longest_waiter_first() -> None:
    from ivr.phone.asterisk.fastagi_gate import FairSlots

    slots = FairSlots(1)
    assert slots.acquire()
    order: list[int] = []
    waiting = []
    for n in range(5):
        thread = threading.Thread(target=lambda n=n: (slots.acquire(), order.append(n)))
        thread.start()
        while len(slots._waiters) < n + 1:  # each in line before the next comes
            thread.join(0.001)
        waiting.append(thread)
    for _ in range(5):
        slots.release()
        while len(order) < _ + 1:
            waiting[_].join(0.01)
    assert order == [0, 1, 2, 3, 4]
    assert not slots.acquire(timeout=0.05)  # the last one kept its slot: a wait runs out
    assert not slots._waiters  # and the one that gave up left the line


def test_a_thread_back_from_the_database_goes_ahead_of_new_work() -> None:
    from ivr.phone.asterisk.fastagi_gate import FairSlots

    slots = FairSlots(1)
    assert slots.acquire()
    order: list[str] = []

    def wait(name: str, first: bool) -> None:
        slots.acquire(first=first)
        order.append(name)
        slots.release()

    threads = []
    for name, first in (("new call", False), ("in a transaction", True)):
        thread = threading.Thread(target=wait, args=(name, first))
        thread.start()
        while len(slots._waiters) < len(threads) + 1:
            thread.join(0.001)
        threads.append(thread)
    slots.release()
    for thread in threads:
        thread.join(5)
    assert order == ["in a transaction", "new call"]
