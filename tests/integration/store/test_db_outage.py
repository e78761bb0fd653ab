"""The database goes away and comes back under live FastAGI calls (``tests/outage.py``:
PostgreSQL behind a TCP proxy that is cut, SQLite write-locked by another connection).
Callers hear the apology and go to the dialplan's safe route (``IVR_OUTCOME=fallback``),
never silence; their records wait in the spool and reach the database once it is back."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from outage import Outage

from integration.fastagi_calls import Caller, wait_for
from integration.phone.asterisk.test_call_records_live import fastagi_thread
from integration.support import FLOW_PATH, Db, StoppedClock, sign_in_busy
from ivr.app.bootstrap import Components, bootstrap
from ivr.app.config import Settings

APOLOGY = 'STREAM FILE en/system_error ""'
FALLBACK = 'SET VARIABLE IVR_OUTCOME "fallback"'


@pytest.fixture
def product(outage: Outage, tmp_path: Path) -> Components:
    """The hotline on the database behind the switch; a writer gives up after 1 s."""
    settings = Settings(
        flow_path=FLOW_PATH,
        database_url=outage.url,
        log_level="WARNING",
        spool_dir=tmp_path / "spool",
        db_busy_timeout=1,
    )
    return bootstrap(settings, StoppedClock())


@pytest.fixture
def direct(outage: Outage) -> Iterator[Db]:
    """The test's own window on the database, which never goes down."""
    window = Db(outage.direct)
    yield window
    window.close()


def spooled(hotline: Components) -> list[str]:
    """The calls with a record in the spool (one file each, kept or being replayed)."""
    folder = hotline.settings.record_spool()
    names = os.listdir(folder) if folder.exists() else []
    return sorted({name.split(".", 1)[0] for name in names if not name.startswith(".")})


def test_calls_during_an_outage_hear_the_safe_route_and_their_records_arrive_after(
    product: Components, outage: Outage, direct: Db, caplog: pytest.LogCaptureFixture
) -> None:
    with fastagi_thread(product) as server:
        outage.cut()
        with caplog.at_level(logging.WARNING):
            callers = [
                Caller(server.address[1], "1 0", f"1700000400.{n}").start() for n in range(3)
            ]
            for caller in callers:
                caller.join(90)
        for caller in callers:
            commands = caller.fake.commands
            assert APOLOGY in commands, commands
            assert caller.fake.variables["IVR_OUTCOME"] == "fallback"
            assert commands.index(APOLOGY) < commands.index(FALLBACK)
        assert len(spooled(product)) == 3  # one file a call, its newest version
        assert "record kept in the spool" in caplog.text
        assert "LOST" not in caplog.text

        outage.restore()
        wait_for(lambda: direct.count("call_records") == 3, "the spool's replay", within=60)
        wait_for(lambda: spooled(product) == [], "the spool to empty")

    records = {r["call_id"]: r for r in direct.rows("call_records")}
    assert sorted(records) == [f"1700000400.{n}" for n in range(3)]
    for record in records.values():
        assert (record["outcome"], record["queue"], record["channel"]) == (
            "queued", "general", "fastagi",
        )  # fmt: skip
        assert record["path"][-1] == "agent" and record["ended_at"] is not None


def test_database_stopped_and_started_during_a_hold(
    product: Components, outage: Outage, direct: Db
) -> None:
    """The hold's next tick fails (on PostgreSQL nothing answers; on SQLite the tick's
    lease renewal cannot write), so the caller hears the apology and goes to the
    dialplan's safe route, never silence. The record waits in the spool and arrives after
    the restore; the entry its dead hold left is ended by the reaper once its lease ran
    out, not left waiting for good."""
    sign_in_busy(direct)  # someone could take the call: the caller is held in line
    with fastagi_thread(product) as server:
        # To the general queue at open hours; "t" keeps the caller on the line.
        caller = Caller(server.address[1], "1 0 t", "1700000500.1").start()
        wait_for(
            lambda: any(c.startswith("STREAM FILE moh/hold-") for c in caller.fake.commands),
            "the caller to be on hold",
        )
        held = direct.one("call_records")
        assert (held["outcome"], held["queue"], held["last_node"]) == (None, "general", "agent")
        assert direct.one("queue_entries")["state"] == "waiting"

        outage.cut()
        caller.join(60)
        assert caller.fake.commands[-2:] == [APOLOGY, FALLBACK]  # apology, safe route
        assert spooled(product) != []  # the record's close waits in the spool
        assert direct.one("queue_entries")["state"] == "waiting"  # nobody could end it yet

        outage.restore()
        wait_for(lambda: direct.one("call_records")["outcome"] == "queued", "the record")
        wait_for(lambda: spooled(product) == [], "the spool to empty")
        assert isinstance(product.clock, StoppedClock)
        product.clock.advance(seconds=product.settings.queue_lease_seconds + 1)
        wait_for(  # the dispatcher's reaper ends the ghost the outage left
            lambda: direct.one("queue_entries")["state"] == "abandoned", "the reaper"
        )
    record = direct.one("call_records")
    assert (record["call_id"], record["queue"]) == ("1700000500.1", "general")
    assert record["ended_at"] is not None
    [entry] = direct.rows("queue_entries")
    assert (entry["call_id"], entry["state"]) == ("1700000500.1", "abandoned")
    assert direct.one("agents", username="sam")["state"] == "on_call"  # never captured
