"""The record a call leaves behind: ``CallSession`` opens one ``CallRecord`` when the call
starts, keeps it up to date as the call moves and closes it when the call ends, in the flow
or by the caller hanging up. A record that cannot be written is lost, not the call."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from fakes import (
    SECRET,
    Attempt,
    BrokenUnitOfWork,
    Dialer,
    FakeStore,
    FixedClock,
    PlainPins,
)
from start_date import CLOSED_TIME as CLOSED_BEIJING
from start_date import OPEN_UTC

from ivr.flow.engine import Engine
from ivr.flow.events import Digits, HungUp, Timeout
from ivr.flow.state import ABANDONED, QUEUED, CallStart
from ivr.phone.session import HEARTBEAT, CallSession
from ivr.services import ports
from ivr.services.usecases import UseCases

OPEN_TIME = OPEN_UTC  # Monday 10:00 in Beijing: agents are in
CLOSED_TIME = CLOSED_BEIJING.astimezone(UTC)  # Monday 22:30 in Beijing: callbacks
LI_WEI = "10000001"  # PIN 246810, zh, failed payment
EMMA = "10000002"  # PIN 135790, en


def only_record(store: FakeStore) -> ports.CallRecord:
    [record] = store.calls
    return record


def test_a_call_that_ends_in_the_flow_leaves_one_record(
    hotline: Dialer, store: FakeStore, clock: FixedClock
) -> None:
    session = hotline.call("2 1 10000001# 246810 9", ani="+8613800138001", call_id="call-7")

    assert session.state is not None and session.state.outcome == "solved"
    record = only_record(store)
    assert record == ports.CallRecord(
        call_id="call-7",
        channel="console",
        caller_id="+8613800138001",
        language="zh",
        reason="password_reset",
        account_number=LI_WEI,
        path=session.state.path,
        last_node="goodbye",
        outcome="solved",
        queue=None,
        started_at=clock.now(),
        ended_at=clock.now(),
        seen_at=clock.now(),
        verification="success",
    )
    assert record.path[0] == "choose_language" and record.path[-1] == "goodbye"
    assert session.record == record


def test_a_caller_who_hangs_up_leaves_an_abandoned_record_where_they_hung_up(
    hotline: Dialer, store: FakeStore
) -> None:
    session = hotline.call("1 2 10000001# h")

    record = only_record(store)
    assert session.state is not None and record.path == session.state.path
    assert (record.outcome, record.last_node) == (ABANDONED, "ask_pin")
    assert record.path[-1] == "ask_pin"
    assert (record.verification, record.handoff, record.handoff_node) == (None, None, None)
    assert record.reason == "payment_failure"
    assert record.account_number is None  # typed, never verified
    assert record.queue is None


def test_hanging_up_at_the_first_question(hotline: Dialer, store: FakeStore) -> None:
    hotline.call("h")

    record = only_record(store)
    assert (record.outcome, record.last_node, record.path) == (
        ABANDONED,
        "choose_language",
        ("choose_language",),
    )
    assert (record.language, record.reason, record.account_number, record.queue) == (
        "en",
        None,
        None,
        None,
    )


def test_hanging_up_after_verifying_keeps_the_verified_account(
    hotline: Dialer, store: FakeStore
) -> None:
    hotline.call("1 2 10000001# 246810 h")

    record = only_record(store)
    assert (record.outcome, record.last_node) == (ABANDONED, "payment_followup")
    assert (record.reason, record.account_number) == ("payment_failure", LI_WEI)


def test_the_record_is_open_from_the_first_second_and_follows_the_call(
    hotline: Dialer, store: FakeStore, clock: FixedClock
) -> None:
    session = hotline.session(call_id="call-9")
    session.start()
    record = only_record(store)
    assert (record.call_id, record.outcome, record.ended_at) == ("call-9", None, None)
    assert (record.last_node, record.seen_at) == ("choose_language", clock.now())

    for keys in ("1", "2", "10000001#", "246810"):  # verified, hearing about the payment
        clock.advance(seconds=3)
        session.answer(Digits(keys))
        assert only_record(store) == session.record and only_record(store).open
    record = only_record(store)
    assert record.last_node == session.state.node == "payment_followup"  # type: ignore[union-attr]
    assert (record.account_number, record.seen_at) == (LI_WEI, clock.now())

    clock.advance(seconds=5)
    session.answer(HungUp())

    record = only_record(store)
    assert (record.outcome, record.last_node, record.ended_at) == (
        ABANDONED,
        "payment_followup",
        clock.now(),
    )


def test_every_move_to_another_node_is_written_at_once(
    hotline: Dialer, store: FakeStore, clock: FixedClock
) -> None:
    """A call cut off at any moment is closed at the last node it reached, however fast
    the caller moved."""
    session = hotline.session()
    session.start()
    session.answer(Digits("1"))  # at once
    assert session.record is not None and session.record.last_node != "choose_language"
    assert only_record(store).last_node == session.record.last_node

    session.answer(Digits("2"))  # at once again
    assert only_record(store).last_node == session.state.node  # type: ignore[union-attr]
    assert len([w for w in store.committed if "calls.save" in w]) == 3


def test_a_call_waiting_at_one_node_is_still_seen_every_heartbeat(
    hotline: Dialer, store: FakeStore, clock: FixedClock
) -> None:
    session = hotline.session()
    session.start()
    for _ in range(3):  # silence at the language menu: the node stays the same
        clock.advance(seconds=HEARTBEAT.total_seconds() / 2 + 1)
        session.answer(Timeout())
    assert not session.ended
    assert only_record(store).seen_at == clock.now() - timedelta(seconds=11)


def test_nothing_more_is_recorded_after_the_end(hotline: Dialer, store: FakeStore) -> None:
    session = hotline.call("1 0")  # to an agent
    assert session.ended
    saves = len(store.committed)

    for event in (Digits("1"), HungUp(), Digits("246810"), HungUp()):
        assert session.answer(event) == []
    session.close_record()

    assert only_record(store).outcome == QUEUED
    assert len(store.committed) == saves


def test_a_held_callers_record_stays_open_at_the_queue_until_the_driver_closes_it(
    engine: Engine, use_cases: UseCases, clock: FixedClock, store: FakeStore
) -> None:
    call = CallStart("held-1", "+8613800138001", started_at=clock.now().timestamp())
    session = CallSession(engine, use_cases, call, "fastagi", clock, holds=True)
    session.start()
    session.answer(Digits("1"))
    session.answer(Digits("0"))  # to the queue

    record = only_record(store)
    assert session.ended and record.open and not session.record_closed
    assert (record.last_node, record.queue) == ("agent", "general")

    clock.advance(minutes=4)  # the hold
    session.close_record()
    session.close_record()  # once only

    record = only_record(store)
    assert (record.outcome, record.queue, record.ended_at) == (QUEUED, "general", clock.now())
    assert (record.handoff_node, record.handoff) == ("main_menu", "chose")  # the reports'
    assert len([w for w in store.committed if "calls.save" in w]) == 4  # open, 2 moves, close


@pytest.mark.parametrize(
    ("keys", "at", "queue", "last_node"),
    [
        ("1 0", OPEN_TIME, "general", "agent"),
        ("1 0", CLOSED_TIME, "general", "agent_callback"),
        ("1 2 10000001# 246810 0", OPEN_TIME, "payments", "payments_agent"),
        ("1 3 10000001# 246810 0", OPEN_TIME, "closure", "closure_agent"),
    ],
)
def test_a_queued_call_names_its_queue(
    hotline: Dialer,
    store: FakeStore,
    keys: str,
    at: datetime,
    queue: str,
    last_node: str,
) -> None:
    hotline.call(keys, at=at)

    record = only_record(store)
    assert (record.outcome, record.queue, record.last_node) == (QUEUED, queue, last_node)


def test_a_fraud_report_is_recorded_with_its_reason_account_and_queue(
    hotline: Dialer, store: FakeStore
) -> None:
    hotline.call("1 4 10000002# 135790")

    record = only_record(store)
    assert (record.reason, record.account_number, record.queue, record.last_node) == (
        "security",
        EMMA,
        "security",
        "security_queue",
    )
    assert record.language == "en"


def test_a_locked_out_caller_is_recorded_without_an_account(
    hotline: Dialer, store: FakeStore, clock: FixedClock
) -> None:
    for minutes in range(1, 5):  # four failures already: the next one locks
        earlier = clock.now() - timedelta(minutes=minutes)
        store.attempts.append(Attempt(LI_WEI, "+15550000000", "earlier", earlier, False))

    session = hotline.call("1 4 10000001# 000000")

    assert session.state is not None and "account_locked" in session.state.path
    record = only_record(store)
    assert (record.account_number, record.queue, record.reason) == (None, "security", "security")


def test_a_caller_who_fails_verification_is_recorded_without_an_account(
    hotline: Dialer, store: FakeStore
) -> None:
    hotline.call("1 1 " + "10000001# 000000 " * 3)

    record = only_record(store)
    assert "verify_failed" in record.path
    assert (record.account_number, record.reason, record.queue) == (
        None,
        "password_reset",
        "general",
    )


def test_the_record_names_the_channel_and_the_language_the_call_came_in_with(
    engine: Engine, use_cases: UseCases, clock: FixedClock, store: FakeStore
) -> None:
    hotline = Dialer(engine, use_cases, clock, channel="twilio")

    session = hotline.call("0", language="zh", ani="+8613900139003")  # not asked: an agent

    assert session.state is not None and session.state.outcome == QUEUED
    record = only_record(store)
    assert (record.channel, record.language, record.caller_id) == (
        "twilio",
        "zh",
        "+8613900139003",
    )


def test_the_record_times_the_call_from_its_start(
    hotline: Dialer, store: FakeStore, clock: FixedClock
) -> None:
    started = OPEN_UTC + timedelta(hours=1)
    session = hotline.session(at=started)
    session.start()
    clock.advance(seconds=40)
    session.answer(Digits("1"))
    clock.advance(seconds=50)
    session.answer(HungUp())

    record = only_record(store)
    assert record.started_at == started
    assert record.ended_at == started + timedelta(seconds=90)


def test_the_record_agrees_with_the_summary(hotline: Dialer, store: FakeStore) -> None:
    session = hotline.call("1 3 10000003# 112233 1 1")  # Zhang Min closes her account

    summary = session.summary()
    record = only_record(store)
    assert summary["outcome"] == record.outcome == "solved"
    assert summary["ended_at_node"] == record.last_node == "goodbye"
    assert tuple(summary["nodes"]) == record.path
    assert summary["verified_account"] == record.account_number == "10000003"
    assert summary["reason"] == record.reason == "account_closure"
    assert store.accounts["10000003"].status == ports.CLOSED


# -- a record store that fails ------------------------------------------------------------------


@pytest.mark.parametrize("down", ["calls.save", "commit"])
def test_a_record_store_failure_does_not_break_the_call(
    hotline: Dialer, store: FakeStore, caplog: pytest.LogCaptureFixture, down: str
) -> None:
    store.fail(down)

    with caplog.at_level(logging.ERROR):
        session = hotline.session(call_id="call-lost")
        session.start()
        for keys in ("1", "0"):  # English, an agent
            actions = session.answer(Digits(keys))

    assert session.ended and session.state is not None
    assert session.state.outcome == QUEUED and actions  # the caller is put through
    assert session.record is not None and session.record.queue == "general"
    assert store.calls == []
    assert "could not record call call-lost" in caplog.text
    session.summary()


def test_a_record_store_failure_on_hanging_up_is_harmless(
    hotline: Dialer, store: FakeStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.fail("calls.save")
    session = hotline.session()
    session.start()

    with caplog.at_level(logging.ERROR):
        assert session.answer(HungUp()) == []

    assert session.ended and store.calls == []
    assert "could not record call" in caplog.text


def test_a_wallet_change_commits_even_if_the_record_cannot(
    hotline: Dialer, store: FakeStore
) -> None:
    store.fail("calls.save")

    session = hotline.call("1 4 10000002# 135790")

    assert session.state is not None and session.state.outcome == QUEUED
    assert store.accounts[EMMA].status == ports.FROZEN
    assert "account_frozen" in store.actions()
    assert store.calls == []


def test_a_call_with_the_whole_store_down_still_reaches_a_person(
    engine: Engine, clock: FixedClock, store: FakeStore, caplog: pytest.LogCaptureFixture
) -> None:
    use_cases = UseCases(lambda: BrokenUnitOfWork(store), clock, lambda: SECRET, PlainPins())
    hotline = Dialer(engine, use_cases, clock)

    with caplog.at_level(logging.ERROR):
        session = hotline.call("1 4 10000002# 135790")

    assert session.state is not None and session.state.outcome == QUEUED
    assert "system_error" in session.state.path
    assert session.record is not None and session.record.account_number is None
    assert store.calls == [] and store.commits == 0
