"""Callback legs carry a lease, like live calls (SQLite and PostgreSQL): an attempt claimed
for dialling whose end nobody reports is counted failed by the reaper (the agent freed,
the callback back in line for its retry, failed after its last attempt); a customer held
on an answered callback whose holder dies is an abandoned wait; and a callback call
leaves one call record (over FastAGI, and closed ``interrupted`` when its holder died)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from agi_fake import FakeAsterisk, Interference

from integration.fastagi_calls import Caller, fastagi_env
from integration.phone.asterisk.test_call_records_live import fastagi_thread
from integration.phone.asterisk.test_holding_over_agi import placed_callback
from integration.support import Db, StoppedClock
from ivr.app.bootstrap import Components, center_settings
from ivr.center import lifecycle as lc
from ivr.phone import callback_record
from ivr.services.call_record_reaper import close_interrupted
from ivr.services.call_records import CallRecorder
from ivr.services.callback_desk import MAX_ATTEMPTS
from ivr.services.callback_dialler import RETRY_AFTER
from ivr.services.contact_callbacks import Callback
from ivr.services.contact_center import ContactCenter, Refused, WaitingCall
from ivr.services.contact_context import RING_MARGIN
from ivr.services.contact_entries import Entry
from ivr.services.contact_snapshots import Assignment
from ivr.services.reaper import Reaped

LEASE = 30
RING = 20
DIAL = 30  # the customer's phone rings this long (the call file's WaitTime)
#: The dialler's lease on an attempt: the customer's ring, the agent's ring, a margin.
ATTEMPT = DIAL + RING + RING_MARGIN
_serial = itertools.count(1)


@pytest.fixture
def center(hotline: Components, clock: StoppedClock) -> ContactCenter:
    settings = replace(
        hotline.settings, secret_key="callback-lease-tests", queue_lease_seconds=LEASE
    )
    hotline.sessions  # noqa: B018 - the schema check
    return ContactCenter(
        hotline.unit_of_work,
        clock,
        center_settings(settings),
        ring_timeouts={"general": RING},
        holder="dialler:1",
    )


@pytest.fixture
def alice(center: ContactCenter) -> int:
    return next(a.id for a in center.agents_view() if a.username == "alice")


def callback(center: ContactCenter) -> Callback:
    """A waiting caller who asked to be called back."""
    n = next(_serial)
    entry = center.enqueue(
        WaitingCall(
            f"cb-lease-{n}", "general", 1, "general", "en", f"+1555020{n:04d}", None,
            "security", ("welcome", "main_menu"),
        )
    )  # fmt: skip
    made, _code = center.request_callback(entry.id, f"+1555020{n:04d}")
    return made


def claimed(center: ContactCenter, clock: StoppedClock, agent_id: int) -> Assignment:
    """``agent_id`` goes available and the dialler claims the callback offered to them."""
    assert not isinstance(center.set_availability(agent_id, True), Refused)
    center.dispatch()
    [due] = center.due_callbacks(DIAL)
    return due


def agent_state(center: ContactCenter, agent_id: int) -> str:
    agent = center.agent(agent_id)
    assert agent is not None
    return agent.state


def entry_of(center: ContactCenter, made: Callback) -> Entry:
    entry = center.entry(made.entry_id)
    assert entry is not None
    return entry


def test_an_attempt_nobody_reports_is_a_failed_one_and_the_last_fails_the_callback(
    center: ContactCenter, clock: StoppedClock, alice: int, db: Db
) -> None:
    made = callback(center)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        due = claimed(center, clock, alice)
        assert due.entry.callback_id == made.id
        dialled = entry_of(center, made)
        assert dialled.lease_until == clock.now() + timedelta(seconds=ATTEMPT)
        assert dialled.held_by == "dialler:1"
        assert agent_state(center, alice) == lc.RINGING

        clock.advance(seconds=ATTEMPT - 1)  # the dialler died; the lease still runs
        assert center.reap() == Reaped()
        clock.advance(seconds=2)
        assert center.reap() == Reaped(dials_lapsed=1)

        row = db.one("callbacks", id=made.id)
        assert row["attempts"] == attempt
        assert agent_state(center, alice) == lc.AVAILABLE  # not missed: no phone of theirs
        entry = entry_of(center, made)
        assert (entry.lease_until, entry.held_by) == (None, None)
        if attempt < MAX_ATTEMPTS:
            assert (row["state"], entry.state, entry.agent_id) == (
                lc.CB_WAITING,
                lc.WAITING,
                None,
            )
            assert entry.not_before == clock.now() + RETRY_AFTER  # its retry, in its place
            assert center.dispatch() == []  # not before the retry delay
            clock.advance(seconds=RETRY_AFTER.total_seconds())
        else:
            assert (row["state"], entry.state) == (lc.CB_FAILED, lc.FAILED)
    assert center.reap() == Reaped()  # each attempt lapses once
    assert center.dispatch() == [] and center.due_callbacks(DIAL) == []
    lapsed = db.rows("audit_log", action="callback_lapsed")
    assert [r["detail"]["attempt"] for r in lapsed] == [1, 2, 3]
    assert [r["detail"]["now"] for r in lapsed] == ["waiting", "waiting", "failed"]
    assert lapsed[0]["detail"]["agent"] == "alice"


def test_a_failure_report_after_the_lapse_changes_nothing(
    center: ContactCenter, clock: StoppedClock, alice: int, db: Db
) -> None:
    made = callback(center)
    claimed(center, clock, alice)
    clock.advance(seconds=ATTEMPT + 1)
    assert center.reap().dials_lapsed == 1

    late = center.callback_failed(made.id, "call file: NOANSWER")  # Asterisk, late

    assert (late.state, late.attempts) == (lc.CB_WAITING, 1)
    assert db.count("audit_log", action="callback_failed") == 0


def test_a_callback_back_in_line_is_not_reaped_for_the_lease_left_from_its_attempt(
    center: ContactCenter, clock: StoppedClock, alice: int, db: Db
) -> None:
    made = callback(center)
    claimed(center, clock, alice)
    assert not isinstance(center.force_offline(alice, None), Refused)  # while dialling
    withdrawn = entry_of(center, made)
    assert (withdrawn.state, withdrawn.lease_until is not None) == (lc.WAITING, True)
    assert db.one("callbacks", id=made.id)["state"] == lc.CB_WAITING

    clock.advance(seconds=ATTEMPT + 1)
    assert center.reap() == Reaped()  # nobody holds a waiting callback: nothing to end

    entry = entry_of(center, made)
    assert (entry.state, entry.lease_until, entry.held_by) == (lc.WAITING, None, None)
    assert db.one("callbacks", id=made.id)["state"] == lc.CB_WAITING


def test_a_customer_held_on_our_callback_whose_holder_dies_is_abandoned(
    center: ContactCenter, clock: StoppedClock, alice: int, db: Db
) -> None:
    made = callback(center)
    claimed(center, clock, alice)
    clock.advance(seconds=20)
    assert center.callback_answered(made.id, "cb-leg-1")  # the callback script holds them
    answered = entry_of(center, made)
    assert answered.lease_until == clock.now() + timedelta(seconds=LEASE + RING_MARGIN)
    row = db.one("callbacks", id=made.id)
    assert (row["state"], row["call_id"]) == (lc.CB_CONNECTED, "cb-leg-1")
    for _ in range(3):  # each tick's place renews it, as for a live caller
        clock.advance(seconds=LEASE - 5)
        place = center.place(made.entry_id)
        assert place.agent is not None and place.agent.id == alice
        assert center.reap() == Reaped()
    ringing = timedelta(seconds=LEASE + RING + RING_MARGIN)  # the holder rings alice
    assert entry_of(center, made).lease_until == clock.now() + ringing

    clock.advance(seconds=ringing.total_seconds() + 1)  # the holder was killed mid-hold
    assert center.reap() == Reaped(lapsed=1)

    entry = entry_of(center, made)
    assert (entry.state, entry.lease_until) == (lc.ABANDONED, None)
    assert db.one("callbacks", id=made.id)["state"] == lc.CB_DONE
    assert agent_state(center, alice) == lc.AVAILABLE
    [audit] = db.rows("audit_log", action="queue_lease_expired")
    assert audit["detail"]["callback"] == made.id and audit["detail"]["agent"] == "alice"


def test_a_late_answer_after_the_lapse_takes_the_attempt_up_again(
    center: ContactCenter, clock: StoppedClock, alice: int, db: Db
) -> None:
    made = callback(center)
    claimed(center, clock, alice)
    clock.advance(seconds=ATTEMPT + 1)
    assert center.reap().dials_lapsed == 1

    assert center.callback_answered(made.id, "cb-leg-late")  # the customer is on the line

    entry = entry_of(center, made)
    assert (entry.state, entry.not_before) == (lc.WAITING, None)  # no retry delay now
    assert entry.lease_until == clock.now() + timedelta(seconds=LEASE + RING_MARGIN)
    assert db.one("callbacks", id=made.id)["state"] == lc.CB_CONNECTED
    [offer] = center.dispatch()  # alice is offered the held customer, not dialled again
    assert offer.entry.id == made.entry_id and center.due_callbacks(DIAL) == []
    assert db.one("callbacks", id=made.id)["attempts"] == 1


def test_a_callback_calls_record_stays_open_while_held_and_closes_interrupted_after(
    center: ContactCenter, hotline: Components, clock: StoppedClock, alice: int, db: Db
) -> None:
    made = callback(center)
    claimed(center, clock, alice)
    recorder = CallRecorder(hotline.unit_of_work)
    found = center.callback(made.id)
    assert found is not None
    recorder.keep(callback_record.opened(found, "cb-leg-2", "fastagi", clock.now()))
    center.callback_answered(made.id, "cb-leg-2")
    record_lease = timedelta(seconds=60)
    for _ in range(4):  # held (the entry renewed), the record itself not rewritten
        clock.advance(seconds=25)
        center.place(made.entry_id)
        assert close_interrupted(hotline.unit_of_work, clock.now(), record_lease) == []

    clock.advance(minutes=2)  # the holder is gone
    assert center.reap().lapsed == 1
    assert close_interrupted(hotline.unit_of_work, clock.now(), record_lease) == ["cb-leg-2"]
    record = db.one("call_records", call_id="cb-leg-2")
    assert (record["outcome"], record["last_node"]) == ("interrupted", "callback")


def test_a_callback_call_over_fastagi_leaves_one_closed_record(
    make_hotline: Callable[..., Components], seeded_url: str, db: Db, tmp_path: Path
) -> None:
    hotline = make_hotline(seeded_url)
    entry_id, callback_id, _code = placed_callback(hotline, tmp_path, "call-cb-record")
    answered = [  # alice picks up when rung; Dial returns after the talk
        Interference("EXEC Dial", ["200 result=0"]),
        Interference("GET VARIABLE DIALSTATUS", ["200 result=1 (ANSWER)"]),
    ]
    with fastagi_thread(hotline) as server:
        caller = Caller(server.address[1], "", "1700000300.1")
        env = fastagi_env("1700000300.1", f"callback?id={callback_id}")
        caller.fake = FakeAsterisk("", env=env, interfere=answered)
        caller.start()
        caller.join()

    assert caller.fake.commands[-2:] == ['SET VARIABLE IVR_OUTCOME "agent"', "HANGUP"]
    [record] = db.rows("call_records")
    assert (record["call_id"], record["channel"], record["caller_id"]) == (
        "1700000300.1", "fastagi", "5551234",
    )  # fmt: skip
    assert (record["outcome"], record["last_node"], record["queue"]) == (
        "agent", "callback", "general",
    )  # fmt: skip
    assert record["ended_at"] is not None and record["reason"] == "security"
    assert db.one("callbacks", id=callback_id)["call_id"] == "1700000300.1"
    assert db.one("queue_entries", id=entry_id)["state"] == "done"
