"""Deferred record versions (``CallRecorder.keep_later``), as a process serving many calls
keeps them: the record opens and closes at once, a move through the menus waits a moment
and a newer move replaces it, a caller who stays at a node is written there within the
deferral, and a killed process loses at most the last moment of a call's path, never the
record."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fakes import Dialer, FakeSpool, FakeStore, FixedClock, PlainPins

from ivr.flow.engine import Engine
from ivr.flow.events import Digits
from ivr.services.call_records import CallRecorder
from ivr.services.usecases import UseCases

DEFER = 1.0


class Ticker:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def saves(store: FakeStore) -> list[str]:
    """The call ids of every ``calls.save`` the store took, in order."""
    taken: list[str] = []
    plain = store.unit_of_work

    def counting() -> object:
        uow = plain()
        save = uow.calls.save

        def counted(record: object) -> None:
            save(record)  # type: ignore[arg-type]
            taken.append(record.call_id)  # type: ignore[attr-defined]

        uow.calls.save = counted  # type: ignore[method-assign]
        return uow

    store.unit_of_work = counting  # type: ignore[method-assign]
    return taken


@pytest.fixture
def recorder(store: FakeStore, saves: list[str], ticker: Ticker) -> Iterator[CallRecorder]:
    recorder = CallRecorder(lambda: store.unit_of_work(), FakeSpool(), DEFER, ticker)
    yield recorder


@pytest.fixture
def dialer(engine: Engine, store: FakeStore, clock: FixedClock, recorder: CallRecorder) -> Dialer:
    use_cases = UseCases(store.unit_of_work, clock, lambda: b"k", PlainPins(), recorder)
    return Dialer(engine, use_cases, clock)


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_a_quick_call_is_written_twice_opened_and_closed(
    dialer: Dialer, store: FakeStore, saves: list[str], recorder: CallRecorder
) -> None:
    session = dialer.call("1 0", call_id="quick")  # language, menu: to the queue

    assert session.ended
    assert saves == ["quick", "quick"]  # the opening version, then at the queue
    assert recorder.superseded >= 1  # the moves through the menus were replaced unwritten
    [record] = store.calls
    assert record.queue == "general"
    assert recorder.flush() == 0  # nothing left waiting


def test_a_caller_who_stays_at_a_node_is_written_there_within_the_deferral(
    dialer: Dialer, store: FakeStore, saves: list[str], recorder: CallRecorder, ticker: Ticker
) -> None:
    session = dialer.session(call_id="stays")
    session.start()
    session.answer(Digits("1"))  # English: now at the main menu, and stays there
    assert [r.last_node for r in store.calls] == ["choose_language"]  # opened; move waits

    ticker.now += DEFER  # the move is due: the writer thread writes it
    with recorder._lock:
        recorder._wake.notify()
    # the writer counts a batch after its commit: wait for the count, not only the row
    wait_for(lambda: recorder.deferred_written == 1, "the deferred version")
    assert store.calls[0].last_node == session.state.node  # type: ignore[union-attr]
    assert store.calls[0].open


def test_a_killed_process_leaves_the_record_at_the_node_written_before(
    dialer: Dialer, store: FakeStore, recorder: CallRecorder
) -> None:
    session = dialer.session(call_id="killed")
    session.start()
    session.answer(Digits("1"))
    # The process dies now: nothing flushes what waits. The record is there, open, at the
    # node of its last written version (the reaper closes it ``interrupted`` there).
    [record] = store.calls
    assert record.open and record.last_node == "choose_language"


def test_flush_writes_what_waits_and_a_failed_batch_goes_version_by_version(
    dialer: Dialer, store: FakeStore, recorder: CallRecorder
) -> None:
    for n in range(3):
        session = dialer.session(call_id=f"waiting-{n}")
        session.start()
        session.answer(Digits("1"))
    store.fail("commit")  # the batch's unit of work fails, and so does each on its own
    assert recorder.flush() == 3
    assert recorder.spooled == 3 and recorder.lost == 0  # in the spool, for the replay
    store.failing.clear()
    assert recorder.replay() == 3
    assert {r.call_id: r.last_node for r in store.calls} == {
        f"waiting-{n}": "main_menu" for n in range(3)
    }


def test_a_recorder_that_does_not_defer_writes_each_version_at_once(
    store: FakeStore, saves: list[str], engine: Engine, clock: FixedClock
) -> None:
    recorder = CallRecorder(store.unit_of_work, FakeSpool())  # a per-call AGI process
    use_cases = UseCases(store.unit_of_work, clock, lambda: b"k", PlainPins(), recorder)
    Dialer(engine, use_cases, clock).call("1 0", call_id="each")
    assert len(saves) >= 3 and recorder.superseded == 0  # opened, moved, at the queue
    assert recorder._writer is None  # no thread: nothing ever waited
