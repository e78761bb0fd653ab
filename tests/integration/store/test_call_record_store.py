"""Call records in the database, on SQLite and PostgreSQL: versions of one record merge
whatever their order (a spool replays them late, or twice); the reaper closes the records
of calls whose process died, never a caller's who is on hold, and two reapers at once
close each record once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from integration.support import LI_WEI, Db, StoppedClock
from ivr.app.bootstrap import Components
from ivr.services import ports
from ivr.services.call_record_reaper import close_interrupted
from ivr.services.contact_entries import WaitingCall

LEASE = timedelta(seconds=60)


def opened(clock: StoppedClock, call_id: str) -> ports.CallRecord:
    """A record as a call opens it, at its first node."""
    now = clock.now()
    return ports.CallRecord(
        call_id=call_id, channel="fastagi", caller_id=LI_WEI[2], language="en", reason=None,
        account_number=None, path=("choose_language",), last_node="choose_language",
        outcome=None, queue=None, started_at=now, ended_at=None, seen_at=now,
    )  # fmt: skip


def moved(record: ports.CallRecord, node: str, seconds: float) -> ports.CallRecord:
    seen = record.last_seen + timedelta(seconds=seconds)
    return replace(record, last_node=node, path=(*record.path, node), seen_at=seen)


def closed(record: ports.CallRecord, outcome: str, seconds: float) -> ports.CallRecord:
    end = record.last_seen + timedelta(seconds=seconds)
    return replace(record, outcome=outcome, ended_at=end, seen_at=end)


def save(hotline: Components, *versions: ports.CallRecord) -> None:
    for version in versions:
        assert hotline.use_cases.record_call(version)


def test_an_open_record_follows_the_call_and_an_older_version_changes_nothing(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    first = opened(clock, "c-1")
    later = moved(first, "main_menu", 3)
    save(hotline, first, later, first)  # the first version replayed late

    row = db.one("call_records", call_id="c-1")
    assert (row["outcome"], row["ended_at"], row["last_node"]) == (None, None, "main_menu")
    assert row["path"] == ["choose_language", "main_menu"]


def test_a_closed_record_is_final_and_a_late_open_version_never_reopens_it(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    first = opened(clock, "c-2")
    end = closed(moved(first, "goodbye", 2), "solved", 1)
    save(hotline, end, first, moved(first, "main_menu", 20), replace(end, outcome="abandoned"))

    row = db.one("call_records", call_id="c-2")
    assert (row["outcome"], row["last_node"]) == ("solved", "goodbye")


def test_the_reaper_closes_a_dead_call_at_its_last_node_but_not_a_caller_on_hold(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    dead = moved(opened(clock, "dead"), "main_menu", 2)
    held = moved(opened(clock, "held"), "agent", 2)
    save(hotline, dead, held)
    hotline.contact_center.enqueue(
        WaitingCall(call_id="held", queue="general", priority=1, skill="general",
                    language="en", caller_id=LI_WEI[2], account_number=None, reason=None,
                    path=held.path)
    )  # fmt: skip
    clock.advance(seconds=30)
    assert close_interrupted(hotline.unit_of_work, clock.now(), LEASE) == []  # too soon

    clock.advance(seconds=60)
    assert close_interrupted(hotline.unit_of_work, clock.now(), LEASE) == ["dead"]

    row = db.one("call_records", call_id="dead")
    assert (row["outcome"], row["last_node"]) == (ports.INTERRUPTED, "main_menu")
    assert row["ended_at"] == row["last_seen_at"]
    assert aware(row["ended_at"]) == dead.last_seen
    assert db.one("call_records", call_id="held")["outcome"] is None  # on hold: alive
    # The entry ends (its own lease, or the caller left): now the record may be reaped.
    [entry] = db.rows("queue_entries")
    hotline.contact_center.abandoned(entry["id"])
    assert close_interrupted(hotline.unit_of_work, clock.now(), LEASE) == ["held"]


def test_a_call_alive_after_all_closes_over_interrupted(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    record = opened(clock, "slow")
    save(hotline, record)
    clock.advance(minutes=5)
    assert close_interrupted(hotline.unit_of_work, clock.now(), LEASE) == ["slow"]

    save(hotline, closed(moved(record, "goodbye", 290), "solved", 5))

    row = db.one("call_records", call_id="slow")
    assert (row["outcome"], row["last_node"]) == ("solved", "goodbye")


def test_two_reapers_at_once_close_each_record_once(
    hotline: Components,
    make_hotline: Callable[..., Components],
    seeded_url: str,
    clock: StoppedClock,
    db: Db,
) -> None:
    save(hotline, *(opened(clock, f"gone-{n}") for n in range(60)))
    clock.advance(minutes=5)
    other = make_hotline(seeded_url, clock)
    results: list[list[str]] = []
    start = threading.Barrier(2)

    def reap(which: Components) -> None:
        start.wait(10)
        found: list[str] = []
        while batch := close_interrupted(which.unit_of_work, clock.now(), LEASE):
            found += batch
        results.append(found)

    threads = [threading.Thread(target=reap, args=(h,)) for h in (hotline, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    both = results[0] + results[1]
    assert sorted(both) == sorted(f"gone-{n}" for n in range(60))  # each exactly once
    assert {r["outcome"] for r in db.rows("call_records")} == {ports.INTERRUPTED}


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_an_open_version_is_one_statement_and_one_after_interrupted_takes_the_long_way(
    hotline: Components, clock: StoppedClock, db: Db
) -> None:
    """An open version is written alone (its upsert in a transaction of its own); when
    the upsert writes nothing (the row was closed ``interrupted`` by a reaper, the call
    alive after all) the unit of work applies the rest of the rule."""
    seen: list[str] = []

    def hook(*args: object) -> None:
        seen.append(str(args[2]).split("(")[0].strip())

    save(hotline, opened(clock, "before"))  # the schema checked, the pool warm
    record = opened(clock, "alone")
    event.listen(hotline.database, "before_cursor_execute", hook)
    try:
        save(hotline, record)
    finally:
        event.remove(hotline.database, "before_cursor_execute", hook)
    assert seen == ["INSERT INTO call_records"]

    clock.advance(minutes=5)
    assert "alone" in close_interrupted(hotline.unit_of_work, clock.now(), LEASE)
    save(hotline, moved(record, "main_menu", 290))  # alive after all: open again
    row = db.one("call_records", call_id="alone")
    assert (row["outcome"], row["last_node"]) == (None, "main_menu")
