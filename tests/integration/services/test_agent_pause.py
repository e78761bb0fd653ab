"""Pausing an agent with a reason (issue 14), on a real database: a paused agent is offered
nothing, a ringing offer goes back to the head of the line, a call is never cut, a supervisor
may pause anyone, and every pause is audited with who and why."""

from __future__ import annotations

from integration.services.test_contact_store import available, caller, center, ids
from integration.support import Db, StoppedClock
from ivr.center import lifecycle as lc
from ivr.services.contact_center import ContactCenter, Refused

__all__ = ["center", "ids"]  # the fixtures, used by name


def test_a_paused_agent_is_offered_nothing_until_available(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    bob = ids["bob"]
    available(center, clock, bob)
    paused = center.pause(bob, "lunch", None)
    assert not isinstance(paused, Refused)
    assert (paused.state, paused.pause_reason) == (lc.PAUSED, "lunch")
    center.enqueue(caller("general"))
    assert center.dispatch() == []
    again = center.set_availability(bob, True)
    assert not isinstance(again, Refused)
    assert (again.state, again.pause_reason) == (lc.AVAILABLE, None)
    assert [a.agent.id for a in center.dispatch()] == [bob]
    audit = db.rows("audit_log", action="agent_paused")
    assert audit[0]["detail"] == {"agent": "bob", "was": "available", "reason": "lunch",
                                  "by": "agent:bob"}  # fmt: skip


def test_a_supervisor_pausing_a_ringing_agent_puts_the_caller_back_at_the_head(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    bob, sam = ids["bob"], ids["sam"]
    supervisor = center.agent(sam)
    assert supervisor is not None
    waiting = center.enqueue(caller("general"))
    available(center, clock, bob)
    assert [a.entry.id for a in center.dispatch()] == [waiting.id]
    paused = center.pause(bob, "coaching", supervisor)
    assert not isinstance(paused, Refused) and paused.state == lc.PAUSED
    entry = center.entry(waiting.id)
    assert entry is not None and (entry.state, entry.agent_id) == (lc.WAITING, None)
    row = db.rows("audit_log", action="agent_forced_pause")[0]
    assert row["detail"]["entry"] == waiting.id and row["detail"]["by"] == "agent:sam"
    assert row["call_id"] == waiting.call_id


def test_a_call_is_never_cut_by_a_pause_and_bad_reasons_are_refused(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int], db: Db
) -> None:
    bob = ids["bob"]
    waiting = center.enqueue(caller("general"))
    available(center, clock, bob)
    center.dispatch()
    center.connected(waiting.id)
    refused = center.pause(bob, "break", None)
    assert isinstance(refused, Refused) and "after the call" in refused.reason
    assert isinstance(center.pause(bob, "nap", None), Refused)
    assert isinstance(center.pause(999_999, "break", None), Refused)
    agent = center.agent(bob)
    assert agent is not None and agent.state == lc.ON_CALL
    assert db.count("audit_log", action="agent_paused") == 0


def test_a_new_reason_keeps_the_time_in_pause_and_offline_clears_it(
    center: ContactCenter, clock: StoppedClock, ids: dict[str, int]
) -> None:
    bob = ids["bob"]
    first = center.pause(bob, "break", None)  # from offline
    assert not isinstance(first, Refused)
    clock.advance(seconds=300)
    second = center.pause(bob, "training", None)
    assert not isinstance(second, Refused)
    assert (second.pause_reason, second.state_since) == ("training", first.state_since)
    gone = center.force_offline(bob, None)
    assert not isinstance(gone, Refused)
    assert (gone.state, gone.pause_reason) == (lc.OFFLINE, None)
