"""Moving a waiting caller to another queue (issue 14) on both databases: the new queue's
skill and priority, the place kept by time, audited with who/from/to; an offered caller
refused, and an offer made between the read and the move wins with nothing half-moved.
Also what the supervisor is shown: each agent's current call, and no invented handle time
for a queue without data (while the caller's estimate still has one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from integration.services.test_contact_store import available, caller, center, ids
from integration.support import Db, StoppedClock
from ivr.app.bootstrap import Components
from ivr.center import estimates
from ivr.center import lifecycle as lc
from ivr.services import ports, queue_moves
from ivr.services.contact_center import ContactCenter, Refused
from ivr.services.contact_entries import Entry
from ivr.services.queue_moves import QueueTarget

__all__ = ["center", "ids"]  # the fixtures, used by name

SECURITY = QueueTarget("security", "security", 10)
GENERAL = QueueTarget("general", "general", 1)


def test_a_moved_caller_takes_the_new_queues_skill_and_keeps_their_time(
    center: ContactCenter, clock: StoppedClock, db: Db
) -> None:
    first = center.enqueue(caller("general"))
    clock.advance(seconds=30)
    already = center.enqueue(caller("security"))
    moved = center.move(first.id, SECURITY, "agent:sam")
    assert not isinstance(moved, Refused)
    assert (moved.queue, moved.skill, moved.priority) == ("security", "security", 10)
    assert moved.enqueued_at == first.enqueued_at and moved.state == lc.WAITING
    # waiting longer than the one already there: first in the new queue
    assert center.place(first.id).position == 1 and center.place(already.id).position == 2
    row = db.one("audit_log", action="queue_moved")
    assert row["actor"] == "agent:sam" and row["call_id"] == first.call_id
    assert row["detail"] == {"entry": first.id, "from": "general", "to": "security",
                             "by": "agent:sam"}  # fmt: skip


def test_the_moved_caller_goes_to_an_agent_with_the_new_skill(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int]
) -> None:
    waiting = center.enqueue(caller("general"))
    available(center, clock, ids["alice"])  # general and payments, not security
    assert not isinstance(center.move(waiting.id, SECURITY, "agent:sam"), Refused)
    assert center.dispatch() == []
    available(center, clock, ids["bob"])  # security
    assert [(a.entry.id, a.agent.username) for a in center.dispatch()] == [(waiting.id, "bob")]


def test_an_offered_caller_is_refused_and_stays_where_they_are(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    waiting = center.enqueue(caller("general"))
    available(center, clock, ids["bob"])
    center.dispatch()
    refused = center.move(waiting.id, SECURITY, "agent:sam")
    assert isinstance(refused, Refused) and "being offered to an agent" in refused.reason
    assert isinstance(center.move(waiting.id + 999, SECURITY, "agent:sam"), Refused)
    entry = center.entry(waiting.id)
    assert entry is not None and (entry.queue, entry.state) == ("general", lc.OFFERED)
    assert db.count("audit_log", action="queue_moved") == 0
    center.connected(waiting.id)
    assert "is connected" in str(center.move(waiting.id, GENERAL, "agent:sam"))


class StaleQueue:
    """The queue port, but ``lock`` answers with the entry as it was before an offer
    another process made meanwhile (the read of a move that lost the race)."""

    def __init__(self, real: ports.QueueEntries, stale: Entry) -> None:
        self.real, self.stale = real, stale

    def lock(self, entry_id: int) -> Entry | None:
        return self.stale if entry_id == self.stale.id else self.real.lock(entry_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class StaleUnit:
    """The hotline's unit of work with a ``StaleQueue``."""

    def __init__(self, real: ports.UnitOfWork, stale: Entry) -> None:
        self.real, self.stale = real, stale

    def __enter__(self) -> ports.UnitOfWork:
        entered = self.real.__enter__()
        entered.queue = StaleQueue(entered.queue, self.stale)  # type: ignore[assignment]
        return entered

    def __exit__(self, *exc: object) -> Any:
        return self.real.__exit__(*exc)  # type: ignore[arg-type]


def stale_units(hotline: Components, stale: Entry) -> Callable[[], Any]:
    return lambda: StaleUnit(hotline.unit_of_work(), stale)


def test_an_offer_made_between_the_read_and_the_move_wins_and_nothing_is_half_moved(
    center: ContactCenter, hotline: Components, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    waiting = center.enqueue(caller("general"))
    available(center, clock, ids["bob"])
    [offer] = center.dispatch()  # the other process's offer
    racing = replace(center.context, unit_of_work=stale_units(hotline, waiting))
    refused = queue_moves.move(racing, waiting.id, SECURITY, "agent:sam")
    assert isinstance(refused, Refused) and "offered to an agent meanwhile" in refused.reason
    entry = center.entry(waiting.id)
    assert entry is not None
    assert (entry.queue, entry.skill, entry.priority) == ("general", "general", 1)
    assert (entry.state, entry.agent_id) == (lc.OFFERED, offer.agent.id)
    assert db.count("audit_log", action="queue_moved") == 0


def test_agents_now_shows_each_agents_current_call(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int]
) -> None:
    waiting = center.enqueue(caller("general"))
    available(center, clock, ids["bob"])
    center.dispatch()
    ringing = {a.agent.username: a.entry for a in center.agents_now()}
    assert ringing["bob"] is not None and ringing["bob"].state == lc.OFFERED
    assert ringing["alice"] is None
    clock.advance(seconds=5)
    center.connected(waiting.id)
    talking = {a.agent.username: a.entry for a in center.agents_now()}
    assert talking["bob"] is not None and talking["bob"].state == lc.CONNECTED
    center.finished(waiting.id)
    assert {a.agent.username: a.entry for a in center.agents_now()}["bob"] is None


def test_a_queue_without_handled_calls_shows_no_handle_time_but_callers_get_an_estimate(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int]
) -> None:
    waiting = center.enqueue(caller("payments"))
    stats = center.stats()
    assert stats["payments"].aht_seconds is None and stats["security"].aht_seconds is None
    assert center.place(waiting.id).estimate_seconds == estimates.DEFAULT_AHT_SECONDS
    available(center, clock, ids["alice"])
    center.dispatch()
    center.connected(waiting.id)
    clock.advance(seconds=95)
    center.finished(waiting.id)
    assert center.stats()["payments"].aht_seconds == 95
