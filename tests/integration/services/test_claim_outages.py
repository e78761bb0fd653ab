"""Agents claiming through a database outage (SQLite and PostgreSQL, ``tests/outage.py``:
PostgreSQL behind a proxy that drops every connection, SQLite's write lock taken by
another connection): a claim, an answer or the end of a talk whose connection was lost
(or whose write failed) is tried again after a pause (``store_waits``) instead of ending
the agent's thread; once the database is back it goes through, once. On PostgreSQL the
server also ends every backend of the pool (``pg_terminate_backend``) while fifty agents
drain the queue: no thread dies, no caller is offered twice, none is left waiting."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from outage import Outage
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from integration.services.test_claim_pool_waits import crowd, together
from integration.support import Db, StoppedClock
from ivr.app.bootstrap import Components
from ivr.center import lifecycle as lc
from ivr.services import metrics, store_waits
from ivr.services.contact_center import ContactCenter
from ivr.services.contact_context import CenterSettings
from ivr.services.ports import StoreLost
from ivr.store import unit_of_work
from ivr.store.db import PoolSize, connect
from ivr.store.unit_of_work import SqlUnitOfWork

#: Every other backend of this database ended by the server, as an admin (or a restart) does.
END_THE_OTHERS = text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
#: How many times the server ends the pool's backends while the agents drain the queue.
KILLS = 5


class Restoring:
    """The pauses between tries, recorded; the first one gives the database back."""

    def __init__(self, outage: Outage) -> None:
        self.outage = outage
        self.taken: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)
        self.outage.restore()


def lost_retried() -> float:
    return metrics.STORE_LOST_RETRIED._value.get()  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def engine(outage: Outage) -> Iterator[Engine]:
    """The product's engine, through the outage's switch (SQLite: writers wait 0.2 s)."""
    made = connect(outage.url, PoolSize(5, 1.0), busy_timeout=0.2)
    yield made
    made.dispose()


def center_on(engine: Engine, clock: StoppedClock, pause: object) -> ContactCenter:
    sessions = sessionmaker(engine, expire_on_commit=False)
    writer = threading.Lock() if engine.dialect.name == "sqlite" else None
    settings = CenterSettings(lambda: b"outages", wrap_up_seconds=0, queue_lease_seconds=3600)
    made = ContactCenter(lambda: SqlUnitOfWork(sessions, writer, 5.0), clock, settings)
    made.context = replace(made.context, pause=pause)  # type: ignore[arg-type]
    return made


def test_a_claim_its_answer_and_its_end_each_lost_once_are_tried_again_and_go_through(
    engine: Engine, outage: Outage, clock: StoppedClock
) -> None:
    pauses = Restoring(outage)
    center = center_on(engine, clock, pauses)
    agents = crowd(center, engine, clock, agents=3, callers=3)
    before = lost_retried()
    outage.cut()
    assignment = next(a for a in (center.claim_next(agent) for agent in agents) if a)
    assert len(pauses.taken) == 1 and lost_retried() == before + 1
    entry_id = assignment.entry.id
    assert assignment.entry.state == lc.OFFERED and assignment.agent.state == lc.RINGING
    outage.cut()
    center.connected(entry_id)
    outage.cut()
    center.finished(entry_id)
    assert len(pauses.taken) == 3 and lost_retried() == before + 3
    entry = center.entry(entry_id)
    assert entry is not None and entry.state == lc.DONE
    agent = center.agent(assignment.agent.id)
    assert agent is not None and agent.state == lc.WRAP_UP
    db = Db(outage.direct)
    try:
        assert db.count("audit_log", action="queue_offered", call_id=entry.call_id) == 1
    finally:
        db.close()


def test_a_database_that_stays_away_lets_the_claim_fail_after_the_last_try(
    engine: Engine, outage: Outage, clock: StoppedClock
) -> None:
    pauses: list[float] = []
    center = center_on(engine, clock, pauses.append)  # the database never comes back
    agents = crowd(center, engine, clock, agents=3, callers=3)  # each caller some agent's
    outage.cut()
    with pytest.raises(StoreLost):
        for agent in agents:
            center.claim_next(agent)  # writes, if it can take one: it fails
    assert len(pauses) == store_waits.ATTEMPTS - 1  # bounded: then the error route
    outage.restore()
    assert any(center.claim_next(agent) for agent in agents)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_backends_ended_mid_run_kill_no_agent_thread_and_give_no_caller_twice(
    engine: Engine, outage: Outage, clock: StoppedClock
) -> None:
    center = center_on(engine, clock, time.sleep)
    agents = crowd(center, engine, clock, agents=50, callers=300)
    before = lost_retried()
    stop = threading.Event()
    taken: list[int] = []
    lock = threading.Lock()

    def agent(agent_id: int) -> None:
        misses = 0
        while misses < 2:
            assignment = center.claim_next(agent_id)
            if assignment is None:
                misses += 1
                time.sleep(0.05)
                continue
            misses = 0
            with lock:
                taken.append(assignment.entry.id)
            center.connected(assignment.entry.id)
            center.finished(assignment.entry.id)

    def killer() -> None:  # the server ends every backend, a few times over the run
        admin = connect(outage.direct)
        try:
            with admin.connect() as conn:
                for kill in range(KILLS):
                    if stop.wait(0.05 if kill == 0 else 0.3):  # first: the pool, in use
                        return
                    conn.execute(END_THE_OTHERS)
                    conn.commit()
        finally:
            admin.dispose()

    ending = threading.Thread(target=killer)
    ending.start()
    try:
        together([lambda a=a: agent(a) for a in agents])  # fails on any thread's exception
    finally:
        stop.set()
        ending.join(10)
    assert lost_retried() > before, "no claim lost its connection: the test proves nothing"
    assert len(taken) == len(set(taken)), "a caller was given twice"
    db = Db(outage.direct)
    try:
        offered = db.rows("audit_log", action="queue_offered")
        assert len(offered) == len({row["call_id"] for row in offered}) == 300
        assert db.count("queue_entries", state=lc.WAITING) == 0
    finally:
        db.close()


def test_the_hotlines_retries_wait_on_the_event_loop_in_a_calls_greenlet(
    hotline: Components,
) -> None:
    """The holder's ``connected`` and ``finished`` are retried too: in a FastAGI call on
    the event loop a pause must not stop the other calls (``unit_of_work.pause``)."""
    assert hotline.contact_center.context.pause is unit_of_work.pause
