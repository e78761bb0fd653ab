"""The steps the contact center's use cases share, each inside the caller's unit of
work: finding and locking an entry in the lock order, and the moves of the one
transition table (``ivr.center.lifecycle``), each a compare-and-set on the state the row
was read in; and the offer's and the talk's moves read off that table (``offer_move``,
``talk_move``) for the store's one-statement moves."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from ivr.center import lifecycle as lc
from ivr.services import ports
from ivr.services.contact_entries import Entry
from ivr.services.contact_ports import OfferMove, TalkMove


def entry_of(uow: ports.UnitOfWork, entry_id: int) -> Entry:
    """The entry; raises ``LookupError`` for an unknown id (a caller's bug)."""
    entry = uow.queue.get(entry_id)
    if entry is None:
        raise LookupError(f"no queue entry {entry_id}")
    return entry


def locked_with_agent(uow: ports.UnitOfWork, entry_id: int) -> Entry:
    """The entry locked after its agent (the lock order everywhere: agent, entry,
    callback). If the entry changed agents meanwhile, lock again."""
    for _ in range(3):
        entry = entry_of(uow, entry_id)
        if entry.agent_id is not None:
            uow.agents.lock(entry.agent_id)
        locked = uow.queue.lock(entry_id)
        assert locked is not None
        if locked.agent_id is None or locked.agent_id == entry.agent_id:
            return locked
    raise RuntimeError(f"queue entry {entry_id} keeps changing agents")


def about(entry: Entry) -> dict[str, Any]:
    """The audit detail naming an entry."""
    return {"entry": entry.id, "queue": entry.queue, "kind": entry.kind}


# -- moves by the table (ivr.center.lifecycle), each a compare-and-set --------------------


def entry_to(uow: ports.UnitOfWork, entry: Entry, trigger: str, actor: str, **values: Any) -> bool:
    """Move ``entry`` (as read, locked) on ``trigger``; False if it changed meanwhile.
    Raises ``IllegalTransition`` for a move the table does not have."""
    target = lc.next_state(lc.ENTRY, entry.state, trigger, actor)
    return uow.queue.change(entry.id, expect=(entry.state,), state=target, **values)


def agent_to(
    uow: ports.UnitOfWork,
    agent_id: int,
    trigger: str,
    actor: str,
    now: datetime,
    wrap_up_until: datetime | None = None,
    pause_reason: str | None = None,
) -> bool:
    """Move the agent on ``trigger`` if the table has a move from their state (an
    agent elsewhere already, e.g. forced offline, stays where they are). A move to
    ``paused`` keeps ``pause_reason``; any other move clears it."""
    agent = uow.agents.get(agent_id)
    if agent is None or not lc.allowed(lc.AGENT, agent.state, trigger):
        return False
    target = lc.next_state(lc.AGENT, agent.state, trigger, actor)
    until = wrap_up_until if target == lc.WRAP_UP else None
    reason = pause_reason if target == lc.PAUSED else None
    return uow.agents.set_state(
        agent_id, target, now, until, expect=(agent.state,), pause_reason=reason
    )


def callback_to(
    uow: ports.UnitOfWork, callback_id: int | None, trigger: str, actor: str, **values: Any
) -> bool:
    """Move the callback on ``trigger`` if the table has a move from its state."""
    callback = uow.callbacks.get(callback_id) if callback_id is not None else None
    if callback is None or not lc.allowed(lc.CALLBACK, callback.state, trigger):
        return False
    target = lc.next_state(lc.CALLBACK, callback.state, trigger, actor)
    return uow.callbacks.change(callback.id, expect=(callback.state,), state=target, **values)


def abandon(
    uow: ports.UnitOfWork,
    entry: Entry,
    now: datetime,
    trigger: str = lc.Trigger.HANG_UP,
    actor: str = lc.Actor.CALLER,
) -> bool:
    """The caller is gone before a talk: abandoned, with the wait until then (for an
    expired lease, until the lease ran out); an agent it was offered to is free.
    False (nothing changed) if the entry moved meanwhile."""
    ended = entry.lease_until if trigger == lc.Trigger.LEASE_EXPIRED else None
    ended = min(ended or now, now)
    wait = max(0, int((ended - entry.enqueued_at).total_seconds()))
    values = {"ended_at": ended, "wait_seconds": wait, "lease_until": None}
    if not entry_to(uow, entry, trigger, actor, **values):
        return False
    if entry.state == lc.OFFERED and entry.agent_id is not None:
        agent_to(uow, entry.agent_id, trigger, actor, now)
    # answered our call back, then hung up: it is over
    callback_to(uow, entry.callback_id, trigger, actor, used_at=now)
    return True


def finish(
    uow: ports.UnitOfWork,
    entry: Entry,
    trigger: str,
    actor: str,
    now: datetime,
    wrap_up: timedelta,
) -> bool:
    """The talk is over (``finish``, or the agent ``forced_offline``): the entry is
    done with its talk time, its callback too; the agent moves by the same trigger
    (to a wrap-up of ``wrap_up``, or offline)."""
    talk = int((now - (entry.answered_at or now)).total_seconds())
    if not entry_to(uow, entry, trigger, actor, ended_at=now, talk_seconds=talk):
        return False
    if entry.agent_id is not None:
        agent_to(uow, entry.agent_id, trigger, actor, now, now + wrap_up)
    callback_to(uow, entry.callback_id, trigger, actor, used_at=now)
    return True


def withdraw(
    uow: ports.UnitOfWork,
    entry: Entry,
    trigger: str,
    actor: str,
    now: datetime,
    lease: timedelta,
) -> bool:
    """An offer ends unanswered (not answered, ring timeout, forced offline): the
    entry goes back to the head of the line (it keeps enqueued_at), the agent moves
    by the same trigger; a callback being dialled is dialled again later. The lease
    is cut back to an ordinary one (``lease``): a holder that died while ringing is
    not waited for longer."""
    values: dict[str, Any] = {"agent_id": None, "offered_at": None}
    if entry.lease_until is not None:  # the ring's extra time is over
        values["lease_until"] = min(entry.lease_until, now + lease)
    if not entry_to(uow, entry, trigger, actor, **values):
        return False
    if entry.agent_id is not None:
        agent_to(uow, entry.agent_id, trigger, actor, now)
    callback_to(uow, entry.callback_id, trigger, actor)
    return True


@cache
def talk_move(trigger: str, actor: str) -> TalkMove:
    """A talk's moves on ``trigger`` by ``actor``, from the lifecycle table (the callback
    moves only if the table moves it on ``trigger``)."""
    entry_from = lc.sources(lc.ENTRY, trigger)
    agent_from = lc.sources(lc.AGENT, trigger)
    (entry_to,) = {lc.next_state(lc.ENTRY, s, trigger, actor) for s in entry_from}
    (agent_to,) = {lc.next_state(lc.AGENT, s, trigger, actor) for s in agent_from}
    callbacks = [r for r in lc.TRANSITIONS if r.machine == lc.CALLBACK and r.trigger == trigger]
    if not callbacks:
        return TalkMove(entry_from, entry_to, agent_from, agent_to)
    callback_from = lc.sources(lc.CALLBACK, trigger)
    (callback_to,) = {lc.next_state(lc.CALLBACK, s, trigger, actor) for s in callback_from}
    return TalkMove(entry_from, entry_to, agent_from, agent_to, callback_from, callback_to)


@cache
def offer_move(actor: str) -> OfferMove:
    """The offer's moves by ``actor``, from the lifecycle table."""
    entry_from = lc.sources(lc.ENTRY, lc.Trigger.OFFER)
    agent_from = lc.sources(lc.AGENT, lc.Trigger.OFFER)
    (entry_to,) = {lc.next_state(lc.ENTRY, s, lc.Trigger.OFFER, actor) for s in entry_from}
    (agent_to,) = {lc.next_state(lc.AGENT, s, lc.Trigger.OFFER, actor) for s in agent_from}
    return OfferMove(entry_from, entry_to, agent_from, agent_to)
