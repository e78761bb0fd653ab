"""Keeping records whatever the database does: a version the store cannot take goes to
the spool and is replayed once the store is back; if the spool fails too, the loss is
counted and said in one line. The reaper closes the records of calls whose process died,
but not of callers on hold."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from fakes import Dialer, FakeSpool, FakeStore, FixedClock, PlainPins

from ivr.flow.engine import Engine
from ivr.flow.events import Digits
from ivr.flow.state import QUEUED
from ivr.services import ports
from ivr.services.call_record_reaper import RecordUpkeep, close_interrupted
from ivr.services.call_records import CallRecorder
from ivr.services.usecases import UseCases

LEASE = timedelta(seconds=60)


@pytest.fixture
def spool() -> FakeSpool:
    return FakeSpool()


@pytest.fixture
def recorder(store: FakeStore, spool: FakeSpool) -> CallRecorder:
    return CallRecorder(store.unit_of_work, spool)


@pytest.fixture
def dialer(engine: Engine, store: FakeStore, clock: FixedClock, recorder: CallRecorder) -> Dialer:
    use_cases = UseCases(store.unit_of_work, clock, lambda: b"k", PlainPins(), recorder)
    return Dialer(engine, use_cases, clock)


def test_records_go_to_the_spool_while_the_store_is_down_and_back_after(
    dialer: Dialer, store: FakeStore, spool: FakeSpool, recorder: CallRecorder
) -> None:
    store.fail("calls.save")
    session = dialer.call("1 0", call_id="during-outage")

    assert session.ended and store.calls == []
    assert spool.kept["during-outage"].outcome == QUEUED  # the newest version only
    assert recorder.spooled == 3 and recorder.lost == 0  # opened, moved, closed

    assert recorder.replay() == 0  # still down: nothing written, nothing forgotten
    assert "during-outage" in spool.kept

    store.failing.clear()
    assert recorder.replay() == 1
    [record] = store.calls
    assert (record.call_id, record.outcome, record.queue) == ("during-outage", QUEUED, "general")
    assert spool.kept == {}
    assert recorder.replay() == 0


def test_a_replayed_old_version_never_reopens_a_closed_record(
    dialer: Dialer, store: FakeStore, spool: FakeSpool, recorder: CallRecorder, clock: FixedClock
) -> None:
    store.fail("calls.save")
    session = dialer.session(call_id="flaky")
    session.start()  # the open version goes to the spool
    store.failing.clear()
    clock.advance(seconds=3)
    for keys in ("1", "0"):
        session.answer(Digits(keys))  # the close reaches the store

    recorder.replay()

    [record] = store.calls
    assert record.outcome == QUEUED and spool.kept == {}


def test_when_the_spool_fails_too_the_loss_is_counted_in_one_line(
    dialer: Dialer,
    store: FakeStore,
    spool: FakeSpool,
    recorder: CallRecorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store.fail("calls.save")
    spool.broken = True

    with caplog.at_level(logging.ERROR):
        session = dialer.call("1 0", call_id="lost-1")

    assert session.ended and session.state is not None and session.state.outcome == QUEUED
    assert recorder.lost == 3  # opened, moved, closed
    [*_, last] = [r for r in caplog.records if r.levelno == logging.ERROR]
    line = last.getMessage()
    assert "\n" not in line and last.exc_info is None
    assert "could not record call lost-1" in line and "LOST" in line
    assert "3 lost by this process" in line and "No space left on device" in line


def test_the_reaper_closes_stale_open_records_but_not_callers_in_the_queue(
    dialer: Dialer, store: FakeStore, clock: FixedClock
) -> None:
    started = clock.now()
    for call_id in ("dead-in-menu", "on-hold"):
        session = dialer.session(call_id=call_id)
        session.start()
        clock.advance(seconds=3)
        session.answer(Digits("1"))  # to the main menu; then its process dies
    store.live_calls.add("on-hold")
    fresh = dialer.session(call_id="fresh")
    clock.advance(seconds=50)
    fresh.start()

    clock.advance(seconds=20)  # dead-in-menu: unseen for 70 s; fresh for 20 s
    closed = close_interrupted(store.unit_of_work, clock.now(), LEASE)

    assert closed == ["dead-in-menu"]
    record = next(r for r in store.calls if r.call_id == "dead-in-menu")
    assert (record.outcome, record.last_node) == (ports.INTERRUPTED, "main_menu")
    assert record.ended_at == started + timedelta(seconds=3)  # when it was last seen
    assert close_interrupted(store.unit_of_work, clock.now(), LEASE) == []


def test_a_call_alive_after_all_closes_over_interrupted(
    dialer: Dialer, store: FakeStore, clock: FixedClock
) -> None:
    session = dialer.session(call_id="slow")
    session.start()
    clock.advance(minutes=5)
    assert close_interrupted(store.unit_of_work, clock.now(), LEASE) == ["slow"]

    session.answer(Digits("1"))  # alive: the record is open again
    assert store.calls[0].open
    session.answer(Digits("0"))

    [record] = store.calls
    assert (record.outcome, record.queue) == (QUEUED, "general")


def test_the_upkeep_replays_every_round_and_reaps_every_few_seconds(
    dialer: Dialer, store: FakeStore, spool: FakeSpool, recorder: CallRecorder, clock: FixedClock
) -> None:
    ticks = [100.0]
    upkeep = RecordUpkeep(recorder, clock, LEASE, every=5.0, monotonic=lambda: ticks[0])
    dialer.session(call_id="died").start()
    clock.advance(minutes=2)

    assert upkeep.run() == ["died"]
    spool.keep(
        ports.CallRecord("late", "agi", "", "en", None, None, ("a",), "a", "solved", None,
                         clock.now(), clock.now())
    )  # fmt: skip
    ticks[0] += 1
    dialer.session(call_id="died-too").start()
    clock.advance(minutes=2)

    assert upkeep.run() == []  # not due: the spool alone
    assert "late" in {r.call_id for r in store.calls} and spool.kept == {}
    ticks[0] += 5
    assert upkeep.run() == ["died-too"]
