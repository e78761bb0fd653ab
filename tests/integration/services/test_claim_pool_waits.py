"""Agents claiming on a pool smaller than they are (SQLite and PostgreSQL): a claim whose
wait for a pooled connection ran out is tried again after a pause instead of failing, so
no agent's thread ends on a busy pool; fifty agents on three connections still give no
caller twice and lose none."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from integration.support import StoppedClock
from ivr.center import lifecycle as lc
from ivr.services import metrics
from ivr.services.contact_agents import AGENT
from ivr.services.contact_center import Assignment, ContactCenter, WaitingCall
from ivr.services.contact_context import CenterSettings
from ivr.store import models as m
from ivr.store import queue_offers
from ivr.store.db import PoolSize, connect
from ivr.store.unit_of_work import SqlUnitOfWork

T = TypeVar("T")
QUEUES = {"security": 10, "payments": 5, "general": 1}
#: Between them the agents take every caller; not each of them every caller.
SKILL_SETS = (({"general", "payments"}, {"en", "zh"}), ({"security", "general"}, {"en"}),
              ({"security", "payments"}, {"zh"}))  # fmt: skip


class Pauses:
    """The pauses between tries, recorded, then slept (the others must get a turn)."""

    def __init__(self) -> None:
        self.taken: list[float] = []
        self.first = threading.Event()

    def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)
        self.first.set()
        time.sleep(seconds)


@pytest.fixture
def engine(upgraded_url: str) -> Iterator[Engine]:
    """The database on a pool of three connections, each waited for 0.05 s at most."""
    made = connect(upgraded_url, PoolSize(3, 0.05), busy_timeout=5)
    yield made
    made.dispose()


@pytest.fixture
def pauses() -> Pauses:
    return Pauses()


@pytest.fixture
def center(engine: Engine, clock: StoppedClock, pauses: Pauses) -> ContactCenter:
    sessions = sessionmaker(engine, expire_on_commit=False)
    writer = threading.Lock() if engine.dialect.name == "sqlite" else None
    settings = CenterSettings(lambda: b"pool-waits", wrap_up_seconds=0, queue_lease_seconds=3600)
    made = ContactCenter(lambda: SqlUnitOfWork(sessions, writer, 5.0), clock, settings)
    made.context = replace(made.context, pause=pauses)
    return made


def crowd(center: ContactCenter, engine: Engine, clock: StoppedClock, agents: int,
          callers: int) -> list[int]:  # fmt: skip
    """``agents`` available agents and ``callers`` waiting callers; the agents' ids."""
    rng = random.Random(4)
    sessions = sessionmaker(engine, expire_on_commit=False)
    ids = []
    with SqlUnitOfWork(sessions) as uow:
        for n in range(agents):
            skills, languages = SKILL_SETS[n % len(SKILL_SETS)]
            agent = uow.agents.add(
                f"agent{n:02d}", f"Agent {n}", "-", AGENT, frozenset(skills),
                frozenset(languages), f"agent-{n:02d}", clock.now(),
            )  # fmt: skip
            uow.agents.set_state(agent.id, lc.AVAILABLE, clock.now() - timedelta(seconds=n))
            ids.append(agent.id)
        uow.commit()
    for n in range(callers):
        queue = rng.choice(list(QUEUES))
        center.enqueue(
            WaitingCall(
                f"call-{n}", queue, QUEUES[queue], queue, rng.choice(("en", "zh")),
                f"+1555{n:07d}", None, None, ("welcome",),
            )
        )  # fmt: skip
        clock.advance(seconds=1)
    return ids


def together(work: list[Callable[[], T]]) -> list[T | None]:
    """Each function in its own thread, released at once; fails on any exception."""
    start = threading.Barrier(len(work))
    results: list[T | None] = [None] * len(work)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work[i]()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[:3]
    return results


def test_a_claim_that_finds_the_pool_taken_waits_its_turn_and_gets_the_caller(
    center: ContactCenter, engine: Engine, clock: StoppedClock, pauses: Pauses
) -> None:
    crowd(center, engine, clock, agents=3, callers=1)
    (waiting,) = [p.entry for p in center.queue_view()]
    agent = next(a.id for a in center.agents_view() if a.can_take(waiting.skill, waiting.language))
    held = [engine.connect() for _ in range(3)]  # every connection of the pool
    claimed: list[Assignment | None] = []
    agent_thread = threading.Thread(target=lambda: claimed.append(center.claim_next(agent)))
    agent_thread.start()
    assert pauses.first.wait(10), "the claim never found the pool busy"
    for conn in held:
        conn.close()
    agent_thread.join(30)
    assert not agent_thread.is_alive()
    (assignment,) = claimed
    assert assignment is not None and assignment.agent.id == agent
    assert assignment.entry.state == lc.OFFERED and assignment.agent.state == lc.RINGING


def test_fifty_agents_on_three_connections_drain_the_queue_without_a_double_or_a_loss(
    center: ContactCenter, engine: Engine, clock: StoppedClock, pauses: Pauses
) -> None:
    agents = crowd(center, engine, clock, agents=50, callers=150)
    waits_before = metrics.POOL_WAITS._value.get()  # type: ignore[attr-defined]
    taken: list[int] = []
    while True:
        round_ = [a for a in together([lambda a=a: center.claim_next(a) for a in agents]) if a]
        if not round_:
            break
        for assignment in round_:  # the callers' holders: answered, then over
            assert assignment.agent.can_take(assignment.entry.skill, assignment.entry.language)
            taken.append(assignment.entry.id)
            center.connected(assignment.entry.id)
            center.finished(assignment.entry.id)
    assert len(taken) == len(set(taken)), "a caller was given twice"
    assert len(taken) == 150  # every caller can be taken by some agent: none lost
    assert not [p for p in center.queue_view() if p.entry.state == lc.WAITING]
    if engine.dialect.name == "postgresql":  # SQLite: one writer at a time holds a connection
        # A wait that ran out is tried again by the unit of work itself (three waits),
        # then by the claim (``store_waits``, the pauses): either proves the pool was busy.
        waited = metrics.POOL_WAITS._value.get() - waits_before  # type: ignore[attr-defined]
        assert pauses.taken or waited, "no claim waited for the pool: the test proves nothing"


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # SQLite: no row locks
def test_a_claim_past_every_candidate_locked_by_other_claims_takes_the_next_caller(
    center: ContactCenter, engine: Engine, clock: StoppedClock
) -> None:
    """PostgreSQL reads a few candidates per skill and language; when other claims hold
    them all, the claim walks the whole line rather than leave a caller it could take."""
    crowd(center, engine, clock, agents=3, callers=0)
    for n in range(queue_offers.CANDIDATES + 2):
        center.enqueue(WaitingCall(f"general-{n}", "general", 1, "general", "en",
                                   f"+1555{n:07d}", None, None, ("welcome",)))  # fmt: skip
        clock.advance(seconds=1)
    line = [p.entry.id for p in center.queue_view()]
    agent = next(a for a in center.agents_view() if a.can_take("general", "en"))
    with engine.connect() as other:  # another process's claims, still in flight
        held = line[: queue_offers.CANDIDATES]
        other.execute(
            select(m.QueueEntryRow.id).where(m.QueueEntryRow.id.in_(held)).with_for_update()
        ).all()
        assignment = center.claim_next(agent.id)
        other.rollback()
    assert assignment is not None
    assert assignment.entry.id == line[queue_offers.CANDIDATES]  # the best nobody holds
