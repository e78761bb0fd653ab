"""``ivr fastagi`` on PostgreSQL runs its calls on one event loop, a greenlet each, with the
database reached through an asyncio engine (``ivr.phone.asterisk.fastagi_loop``). Over real
sockets and a real server: many verifying callers through a small pool, a stalled table
that holds up only the calls waiting for it, the database's connections killed under the
calls, a call killed in the middle of its transaction, and a shutdown that closes the
loop's connections. After each, no call is left in the loop's line, nor counted as holding
a connection (``ivr.phone.asterisk.loop_gate``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace

import pytest
from sqlalchemy import Engine, text

from integration.fastagi_calls import Caller, wait_for
from integration.phone.asterisk.test_bursts import verifying_caller
from integration.phone.asterisk.test_call_records_live import fastagi_thread
from integration.support import EMMA, LI_WEI, OMAR, ZHANG_MIN, Db
from ivr.app.bootstrap import Components
from ivr.phone.asterisk.fastagi import FastAgiServer
from ivr.phone.asterisk.fastagi_loop import CallLoop
from ivr.phone.asterisk.loop_gate import CALL
from ivr.services import pins
from ivr.store.db import connect

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
Start = Callable[..., tuple[Components, FastAgiServer]]


@pytest.fixture
def on_loop(seeded_url: str, make_hotline: Callable[..., Components]) -> Iterator[Start]:
    """``on_loop(pool=None)``: an ``ivr fastagi`` process's hotline (with a pool that small)
    and its server, running; stopped after the test."""
    with ExitStack() as servers:

        def start(pool: int | None = None, timeout: int = 10) -> tuple[Components, FastAgiServer]:
            hotline = make_hotline(seeded_url, role="fastagi")
            if pool is not None:
                sized = replace(hotline.settings, db_pool_size=pool, db_pool_timeout=timeout)
                hotline.settings = sized
            server = servers.enter_context(fastagi_thread(hotline))
            assert server._loop is not None and server._threads is None  # on the loop
            return hotline, server

        yield start


def gate_let_go(server: FastAgiServer) -> None:
    """Once no call is left, nobody is in the loop's line."""
    wait_for(lambda: server.calls == 0, "the calls to end")
    assert server._loop is not None
    ration = server._loop.ration
    wait_for(lambda: ration.waiting == 0, "the line to empty")


def connections(admin: Engine, url: str) -> list[int]:
    """Process ids of the sessions on ``url``'s database, the asking one aside."""
    name = url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        return [int(pid) for (pid,) in rows]


def test_forty_callers_verifying_at_once_through_a_pool_of_three_are_all_served(
    on_loop: Start, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed_on: list[str] = []
    real = pins.pin_matches

    def noting(pin: str, stored: str, pepper: bytes) -> bool:
        hashed_on.append(threading.current_thread().name)
        return real(pin, stored, pepper)

    monkeypatch.setattr(pins, "pin_matches", noting)
    hotline, server = on_loop(pool=3)
    port = server.address[1]
    accounts = (LI_WEI, EMMA, ZHANG_MIN, OMAR)
    callers = [verifying_caller(n, accounts[n % len(accounts)]) for n in range(40)]
    threads = [threading.Thread(target=c.talk, args=(port,)) for c in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert [c.fake.variables.get("IVR_OUTCOME") for c in callers] == ["solved"] * 40
    assert db.count("verification_attempts", succeeded=True) == 40
    records = db.rows("call_records")
    assert len(records) == 40 and all(r["outcome"] == "solved" for r in records)
    assert all("system_error" not in r["path"] for r in records)
    # No thread per call: the loop ran them, and the PIN's scrypt ran off the loop.
    assert not [t for t in threading.enumerate() if t.name.startswith("fastagi-call")]
    assert len(hashed_on) == 40 and all(n.startswith("off-loop") for n in hashed_on)
    assert hotline.call_database is not None
    assert hotline.call_database.sync_engine.pool.size() == 3  # type: ignore[attr-defined]
    gate_let_go(server)


def test_a_stalled_table_holds_up_only_the_calls_that_wait_for_it(
    on_loop: Start, seeded_url: str, postgres_admin: Engine
) -> None:
    _, server = on_loop()
    port = server.address[1]
    locker = connect(seeded_url)
    try:
        with locker.connect() as held:
            held.execute(text("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE"))
            verifying = verifying_caller(1, LI_WEI)  # reads its account: waits for the lock
            waiting = threading.Thread(target=verifying.talk, args=(port,))
            waiting.start()
            wait_for(lambda: waiters(postgres_admin, seeded_url) == 1, "the call to wait")

            queued = Caller(port, "1 0", "1700000000.2").start()  # needs no account
            queued.join(30)
            assert queued.fake.variables["IVR_OUTCOME"] == "queued"
            assert waiting.is_alive() and "IVR_OUTCOME" not in verifying.fake.variables
            held.rollback()  # the lock goes: the waiting call goes on
        waiting.join(30)
        assert verifying.fake.variables["IVR_OUTCOME"] == "solved"
    finally:
        locker.dispose()


def waiters(admin: Engine, url: str) -> int:
    """Sessions on ``url``'s database waiting for a lock."""
    with admin.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :name "
                    "AND wait_event_type = 'Lock'"
                ),
                {"name": url.rsplit("/", 1)[1]},
            ).scalar_one()
        )


def test_connections_killed_under_the_calls_cost_one_safe_route_then_calls_go_on(
    on_loop: Start, seeded_url: str, postgres_admin: Engine, db: Db
) -> None:
    _, server = on_loop()
    port = server.address[1]
    first = Caller(port, "1 0", "1700000000.1").start()
    first.join(30)
    assert connections(postgres_admin, seeded_url)  # the loop's pool keeps its connections
    for pid in connections(postgres_admin, seeded_url):
        with postgres_admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    # The next call's first statement meets a dead connection: the pool is renewed and
    # the call goes on (or takes the flow's error route), never a crash or dead air.
    after = [verifying_caller(n, LI_WEI) for n in (2, 3)]
    for caller in after:
        caller.talk(port)
    outcomes = [c.fake.variables.get("IVR_OUTCOME") for c in after]
    assert outcomes[0] in ("solved", "queued") and outcomes[1] == "solved", outcomes
    wait_for(lambda: db.count("call_records", outcome="solved") >= 1, "a record after it")
    gate_let_go(server)


def test_a_call_killed_in_the_middle_of_its_transaction_gives_its_connection_back(
    on_loop: Start, seeded_url: str, postgres_admin: Engine
) -> None:
    hotline, server = on_loop()
    port = server.address[1]
    locker = connect(seeded_url)
    try:
        with locker.connect() as held:
            held.execute(text("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE"))
            stuck = verifying_caller(1, LI_WEI)  # its transaction waits for the lock
            waiting = threading.Thread(target=stuck.talk, args=(port,))
            waiting.start()
            wait_for(lambda: waiters(postgres_admin, seeded_url) == 1, "the call to wait")
            engine = hotline.call_database
            assert engine is not None and engine.sync_engine.pool.checkedout() == 1  # type: ignore[attr-defined]
            calls = server._loop
            assert calls is not None

            def kill() -> None:
                for task in calls._calls:
                    task.cancel()

            calls.loop.call_soon_threadsafe(kill)
            waiting.join(30)
            gate_let_go(server)
            wait_for(lambda: engine.sync_engine.pool.checkedout() == 0, "the connection back")  # type: ignore[attr-defined]
            held.rollback()
        assert "IVR_OUTCOME" not in stuck.fake.variables  # no outcome: the dialplan's safe route

        after = verifying_caller(2, LI_WEI)
        after.talk(port)
        assert after.fake.variables["IVR_OUTCOME"] == "solved"
        gate_let_go(server)
    finally:
        locker.dispose()


def test_stopping_closes_the_loops_connections(
    on_loop: Start, seeded_url: str, postgres_admin: Engine
) -> None:
    hotline, server = on_loop()
    Caller(server.address[1], "1 0", "1700000000.1").start().join(30)
    engine = hotline.call_database
    assert engine is not None and engine.sync_engine.pool.checkedin() >= 1  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()

    assert engine.sync_engine.pool.checkedin() == 0  # type: ignore[attr-defined]
    assert "call_database" not in hotline.__dict__  # a later loop would make its own


def test_a_call_counts_as_holding_a_connection_from_its_check_out_to_its_check_in(
    seeded_url: str, make_hotline: Callable[..., Components]
) -> None:
    hotline = make_hotline(seeded_url, role="fastagi")
    calls = CallLoop("holding")
    seen: list[tuple[str, int]] = []
    done = threading.Event()

    def work(_loop: object) -> None:
        try:
            call = CALL.get()
            assert call is not None
            seen.append(("before", call.first))
            with hotline.unit_of_work() as uow:
                seen.append(("connected", call.first))
                uow.accounts.pin_hash(LI_WEI[0])
                seen.append(("after a statement", call.first))
            seen.append(("after", call.first))
        finally:
            done.set()

    try:
        calls.submit(work)
        assert done.wait(30)
    finally:
        calls.close(hotline.call_loop_ended)
    assert seen == [("before", 0), ("connected", 1), ("after a statement", 1), ("after", 0)]
