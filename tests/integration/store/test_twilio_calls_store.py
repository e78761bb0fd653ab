"""The Twilio calls' state in the database (``ivr.store.twilio_calls``), on SQLite (its
writes on one connection kept by the writer lock's holder, in autocommit) and PostgreSQL:
each write is committed when it returns, and a write the database fails does not spoil
the ones after it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import event
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


def test_the_direct_writes_store_what_sqlalchemys_path_stores(hotline: Components, db: Db) -> None:
    """On SQLite the claim and the save go to ``sqlite3`` directly; with a statement hook
    on the engine they take SQLAlchemy's path (``statement_hooks``). Both leave the same
    text in the table, and read back alike."""
    calls = twilio_calls(hotline)
    memo = {"language": "zh", "said": "再见 & <bye>", "n": [1, 2.5, None, True]}
    later = OPEN_UTC + timedelta(minutes=3, microseconds=7)
    stored: dict[str, list[object]] = {}
    for path in ("direct", "sqlalchemy"):
        sid = f"CA-{path}"
        hooked = path == "sqlalchemy"
        seen: list[str] = []

        def hook(*args: object, seen: list[str] = seen) -> None:
            seen.append(str(args[2]))

        if hooked:
            event.listen(hotline.database, "before_cursor_execute", hook)
        try:
            calls.create(sid, {}, OPEN_UTC)
            calls.save(sid, 0, memo, "<Response>再见</Response>", later)
            assert calls.claim(sid, 1, later) == memo
        finally:
            if hooked:
                event.remove(hotline.database, "before_cursor_execute", hook)
        assert any(s.startswith("UPDATE twilio_calls") for s in seen) == hooked
        found = calls.get(sid)
        assert found is not None and found.memo == memo and found.updated_at == later
        with db.engine.connect() as connection:
            row = connection.exec_driver_sql(
                f"SELECT memo, reply, updated_at FROM twilio_calls WHERE call_sid = '{sid}'"
            ).one()
        stored[path] = list(row)
    if hotline.writer_lock is not None:  # on PostgreSQL both are SQLAlchemy's path
        assert stored["direct"] == stored["sqlalchemy"]
