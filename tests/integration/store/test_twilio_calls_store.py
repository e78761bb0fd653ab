"""The Twilio calls' state in the database (``ivr.store.twilio_calls``), on SQLite (its
writes on one connection kept by the writer lock's holder, in autocommit) and PostgreSQL:
each write is committed when it returns, and a write the database fails does not spoil
the ones after it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import OperationalError, ProgrammingError
from start_date import OPEN_UTC

from integration.support import Db
from ivr.app.bootstrap import Components
from ivr.app.channels import twilio_calls
from ivr.store.db import connect


def test_a_claim_and_a_save_are_committed_when_they_return(hotline: Components, db: Db) -> None:
    calls = twilio_calls(hotline)
    assert calls.create("CA-kept", {"n": 1}, OPEN_UTC)
    calls.save("CA-kept", 0, {"n": 2}, "<Response/>", OPEN_UTC)
    assert calls.claim("CA-kept", 1, OPEN_UTC) == {"n": 2}

    # another connection (as another process would) sees the claim, its reply cleared
    other = connect(db.url)
    try:
        row = other.connect().exec_driver_sql(
            "SELECT step, reply FROM twilio_calls WHERE call_sid = 'CA-kept'"
        )
        assert list(row) == [(1, None)]
    finally:
        other.dispose()
    assert calls.claim("CA-kept", 1, OPEN_UTC) is None  # a duplicate claims nothing


def test_a_write_the_database_fails_leaves_the_next_writes_working(
    hotline: Components, db: Db
) -> None:
    calls = twilio_calls(hotline)
    calls.create("CA-outage", {}, OPEN_UTC)
    calls.save("CA-outage", 0, {}, "<Response/>", OPEN_UTC)
    db.execute("ALTER TABLE twilio_calls RENAME TO twilio_calls_away")
    try:
        with pytest.raises((OperationalError, ProgrammingError)):
            calls.claim("CA-outage", 1, OPEN_UTC)
    finally:
        db.execute("ALTER TABLE twilio_calls_away RENAME TO twilio_calls")

    assert calls.claim("CA-outage", 1, OPEN_UTC) == {}
    calls.save("CA-outage", 1, {"k": 1}, "<Response><Hangup/></Response>", OPEN_UTC)
    found = calls.get("CA-outage")
    assert found is not None and found.step == 1 and found.memo == {"k": 1}
    if hotline.writer_lock is not None:  # SQLite: the lock was given back each time
        assert hotline.writer_lock.acquire(blocking=False)
        hotline.writer_lock.release()


def test_threads_claiming_the_same_step_apply_it_once(hotline: Components, db: Db) -> None:
    calls = twilio_calls(hotline)
    calls.create("CA-race", {}, OPEN_UTC)
    calls.save("CA-race", 0, {}, "<Response/>", OPEN_UTC)
    won: list[object] = []

    def claim() -> None:
        won.append(calls.claim("CA-race", 1, OPEN_UTC))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won, key=lambda w: w is None) == [{}] + [None] * 7
