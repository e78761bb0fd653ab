"""Twenty agents claiming at once from 200 waiting callers (SQLite and PostgreSQL): no
caller is given twice, none is lost, and the best callers go first."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

import pytest

from integration.support import StoppedClock
from ivr.app.bootstrap import Components, center_settings
from ivr.center import lifecycle as lc
from ivr.services.contact_agents import AGENT
from ivr.services.contact_center import Agent, Assignment, ContactCenter, Entry, WaitingCall

AGENTS, ENTRIES = 20, 200
PRIORITY = {"security": 10, "payments": 5, "closure": 3, "general": 1}
#: Nobody has security in Chinese: those callers can never be claimed here.
SKILL_SETS = (
    ({"general", "payments"}, {"en", "zh"}),
    ({"general", "closure", "security"}, {"en"}),
    ({"payments"}, {"zh"}),
    ({"general"}, {"en"}),
    ({"closure", "security"}, {"en"}),
)
T = TypeVar("T")


@pytest.fixture
def center(hotline: Components, clock: StoppedClock) -> ContactCenter:
    # The callers' holders are not simulated: their leases must outlast the set-up.
    settings = replace(
        hotline.settings, secret_key="concurrency", wrap_up_seconds=0, queue_lease_seconds=3600
    )
    hotline.sessions  # noqa: B018 - the schema check
    return ContactCenter(hotline.unit_of_work, clock, center_settings(settings))


@pytest.fixture
def crowd(hotline: Components, center: ContactCenter, clock: StoppedClock) -> list[Agent]:
    """20 available agents (skills and languages mixed) and 200 waiting callers."""
    rng = random.Random(5)
    with hotline.unit_of_work() as uow:
        for n in range(AGENTS):
            skills, languages = SKILL_SETS[n % len(SKILL_SETS)]
            agent = uow.agents.add(
                f"agent{n:02d}", f"Agent {n}", "-", AGENT, frozenset(skills),
                frozenset(languages), f"agent-{n:02d}", clock.now(),
            )  # fmt: skip
            uow.agents.set_state(agent.id, lc.AVAILABLE, clock.now() - timedelta(seconds=n))
        uow.commit()
    for n in range(ENTRIES):
        queue = rng.choice(list(PRIORITY))
        center.enqueue(
            WaitingCall(
                f"call-{n}", queue, PRIORITY[queue], queue, rng.choice(("en", "zh")),
                f"+1555{n:07d}", None, None, ("welcome",),
            )
        )  # fmt: skip
        clock.advance(seconds=rng.choice((0, 1)))  # some callers arrive together
    return [a for a in center.agents_view() if a.username.startswith("agent")]


def together(work: list[Callable[[], T]]) -> list[T]:
    """Run every function in its own thread, released at the same moment."""
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
        thread.join(timeout=60)
    assert not errors, errors
    return [r for r in results if r is not None]


def waiting(center: ContactCenter) -> list[Entry]:
    return [p.entry for p in center.queue_view() if p.entry.state == lc.WAITING]


def test_one_claim_each_at_once_gives_each_agent_the_best_it_can_take(
    center: ContactCenter, crowd: list[Agent]
) -> None:
    before = waiting(center)
    made = together([lambda a=a: center.claim_next(a.id) for a in crowd])
    assert len(made) == AGENTS  # every agent can take something
    taken = [a.entry.id for a in made if isinstance(a, Assignment)]
    assert len(set(taken)) == len(taken)
    for assignment in made:
        assert assignment is not None
        agent, entry = assignment.agent, assignment.entry
        assert agent.can_take(entry.skill, entry.language)
        better = [
            e
            for e in before
            if e.sort_key() < entry.sort_key() and agent.can_take(e.skill, e.language)
        ]
        # each better entry this agent could take went to another agent in this round
        assert {e.id for e in better} <= set(taken) - {entry.id}, agent.username


def test_draining_the_queue_gives_no_caller_twice_and_loses_none(
    center: ContactCenter, crowd: list[Agent]
) -> None:
    before = {e.id: e for e in waiting(center)}
    assert len(before) == ENTRIES

    def work(agent: Agent) -> list[Entry]:
        mine = []
        while (assignment := center.claim_next(agent.id)) is not None:
            mine.append(assignment.entry)
            center.connected(assignment.entry.id)
            center.finished(assignment.entry.id)  # wrap-up of 0 s: free again at once
        return mine

    claimed = together([lambda a=a: work(a) for a in crowd])
    taken = [entry.id for mine in claimed for entry in mine]
    assert len(taken) == len(set(taken)), "an entry was given twice"
    claimable = {
        e.id for e in before.values() if any(a.can_take(e.skill, e.language) for a in crowd)
    }
    assert set(taken) == claimable  # none lost
    assert {e.id for e in waiting(center)} == set(before) - claimable  # the rest still wait
    for mine in claimed:  # each agent took its callers best first
        keys = [before[e.id].sort_key() for e in mine]
        assert keys == sorted(keys)


def test_concurrent_dispatchers_assign_each_agent_and_entry_once(
    center: ContactCenter, crowd: list[Agent]
) -> None:
    rounds = together([center.dispatch for _ in range(4)])
    assignments = [a for made in rounds for a in made]
    assert len(assignments) == AGENTS
    assert len({a.agent.id for a in assignments}) == AGENTS
    assert len({a.entry.id for a in assignments}) == AGENTS
    offered = [p.entry for p in center.queue_view() if p.entry.state == lc.OFFERED]
    assert {e.id for e in offered} == {a.entry.id for a in assignments}
