"""The queue as the phone side sees it: a live caller enters the line (``enqueue``),
its holder asks where it stands (``place``, which renews the holder's lease) and reports
how the offer went (``connected``, ``not_answered``, ``finished``, ``caller_left``, ...);
the dispatcher offers waiting entries to free agents (``dispatch``), an agent may take
the next one (``claim_next``). Functions over a ``CenterContext``, each one unit of work;
every move is looked up in ``ivr.center.lifecycle``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ivr.center import lifecycle as lc
from ivr.center.lifecycle import Actor, Trigger
from ivr.services import contact_views, ports
from ivr.services.contact_agents import Agent
from ivr.services.contact_context import RING_MARGIN, CenterContext
from ivr.services.contact_entries import Entry, WaitingCall
from ivr.services.contact_moves import (
    abandon,
    about,
    agent_to,
    entry_of,
    entry_to,
    finish,
    locked_with_agent,
    offer_move,
    talk_move,
    withdraw,
)
from ivr.services.contact_snapshots import Assignment, Place
from ivr.services.store_waits import retrying

logger = logging.getLogger(__name__)


def enqueue(ctx: CenterContext, call: WaitingCall) -> Entry:
    """Put a live caller in the queue, held (leased) by this process. With
    ``resume_entry`` (from ``resume``) the caller takes over that entry and its place;
    otherwise a new entry at the tail."""
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        entry = None
        if call.resume_entry is not None:
            entry = _take_over(ctx, uow, call, now)
        if entry is None:
            entry = uow.queue.add(call, now, now + ctx.lease(), ctx.holder)
        uow.audit.record(now, call.call_id, call.account_number, "queue_entered", about(entry))
        uow.commit()
        return entry


def _take_over(
    ctx: CenterContext, uow: ports.UnitOfWork, call: WaitingCall, now: datetime
) -> Entry | None:
    assert call.resume_entry is not None
    held = uow.queue.lock(call.resume_entry)
    if held is None or held.call_id != call.call_id:
        return None
    if not lc.allowed(lc.ENTRY, held.state, Trigger.TAKE_OVER):
        return None
    entry_to(
        uow, held, Trigger.TAKE_OVER, Actor.CALLER,
        queue=call.queue, priority=call.priority, skill=call.skill,
        language=call.language, account_number=call.account_number or held.account_number,
        reason=call.reason or held.reason, path=list(call.path),
        lease_until=now + ctx.lease(), held_by=ctx.holder,
    )  # fmt: skip
    return uow.queue.get(held.id)


def place(ctx: CenterContext, entry_id: int) -> Place:
    """Where the entry stands: position, estimated wait, and the agent to dial once
    it is offered. Reading its place renews the holder's lease (while the offer
    rings, for the ring timeout and a margin): a live caller's, and a callback
    entry's, whose lease starts when its attempt is claimed (``due_callbacks``) and
    is taken over by the holder of the customer who answered (``callback_answered``).
    A callback waiting in line has none: nobody holds it."""
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        entry = entry_of(uow, entry_id)
        if entry.state in lc.HELD and entry.lease_until is not None:
            until = now + ctx.lease()
            if entry.state == lc.OFFERED:  # the holder rings: past the ring timeout
                until += timedelta(seconds=ctx.ring_timeout(entry.queue) + RING_MARGIN)
            if uow.queue.renew(entry.id, until):
                uow.commit()
        held = entry.state in lc.HELD
        position = uow.queue.ahead_of(entry, now) + 1 if entry.state == lc.WAITING else 1
        estimate, staffed = contact_views.estimate(uow, entry, position, now)
        agent = None
        if held and entry.state == lc.OFFERED and entry.agent_id is not None:
            agent = uow.agents.get(entry.agent_id)
        return Place(entry, position, estimate, agent, staffed)


def renew(ctx: CenterContext, entry_id: int) -> bool:
    """Renew the holder's lease between ticks (one compare-and-set; it never
    shortens a longer one): False if the entry is no longer held (ended, or reaped)."""
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        renewed = uow.queue.renew(entry_id, now + ctx.lease())
        uow.commit()
        return renewed


def dispatch(ctx: CenterContext) -> list[Assignment]:
    """Offer waiting entries to free agents, longest-idle agent first, each the best
    entry they can take; one transaction per claim. Expired callbacks are retired
    first, so they are never offered."""
    _expire_callbacks(ctx)
    done: list[Assignment] = []
    tried: set[int] = set()
    while True:
        with ctx.unit_of_work() as uow:
            now = ctx.clock.now()
            agents = uow.agents.lock_free(now, frozenset(tried), 1)
            if not agents:
                return done
            assignment = _claim(uow, agents[0], now, Actor.DISPATCHER)
            if assignment is None:
                tried.add(agents[0].id)
            else:
                done.append(assignment)


def claim_next(ctx: CenterContext, agent_id: int) -> Assignment | None:
    """The agent's "next caller": the best entry they can take, if they are free. A wait
    for a database connection that runs out, or a lost connection, is tried again
    (``store_waits``). One statement where the store has it (``OneStatementMoves``)."""
    return retrying(lambda: _claim_next(ctx, agent_id), ctx.pause)


def _claim_next(ctx: CenterContext, agent_id: int) -> Assignment | None:
    uow = ctx.unit_of_work()
    alone = uow.one_statement()
    if alone is not None:
        claimed = alone.claim(agent_id, ctx.clock.now(), offer_move(Actor.AGENT))
        return None if claimed is None else Assignment(*claimed)
    with uow:
        now = ctx.clock.now()
        agent = uow.agents.lock(agent_id)
        if agent is None or not agent.free_at(now):
            return None
        return _claim(uow, agent, now, Actor.AGENT)


def _claim(uow: ports.UnitOfWork, agent: Agent, now: datetime, actor: str) -> Assignment | None:
    """Offer the best entry ``agent`` (locked) can take (commits), or None (changes
    nothing): one statement on PostgreSQL (``ivr.store.queue_offers``), the audit row,
    the commit."""
    claimed = uow.queue.offer_best(agent, now, offer_move(actor))
    if claimed is None:
        uow.rollback()  # nothing to take, or the agent is no longer free
        return None
    offered, ringing = claimed
    detail = {**about(offered), "agent": agent.username}
    uow.audit.record(now, offered.call_id, offered.account_number, "queue_offered", detail)
    uow.commit()
    return Assignment(offered, ringing)


def _expire_callbacks(ctx: CenterContext) -> None:
    with ctx.unit_of_work() as uow:
        expired = uow.queue.expire_callbacks(ctx.clock.now())
        if expired:
            uow.commit()
            logger.info("callbacks expired: %s", expired)


def connected(ctx: CenterContext, entry_id: int) -> None:
    """The agent answered: the entry is connected (no lease: the talk is the
    agent's), the agent on the call. One statement where the store has it; a busy pool
    or a lost connection is tried again (``store_waits``)."""
    retrying(lambda: _connected(ctx, entry_id), ctx.pause)


def _connected(ctx: CenterContext, entry_id: int) -> None:
    now = ctx.clock.now()
    uow = ctx.unit_of_work()
    alone = uow.one_statement()
    if alone is not None and alone.answer(entry_id, now, talk_move(Trigger.ANSWER, Actor.HOLDER)):
        return
    with uow:  # not offered as the statement expects: every other case
        entry = locked_with_agent(uow, entry_id)
        if not lc.allowed(lc.ENTRY, entry.state, Trigger.ANSWER) or entry.agent_id is None:
            logger.warning("entry %s connected in state %s", entry_id, entry.state)
            return
        wait = int((now - entry.enqueued_at).total_seconds())
        entry_to(
            uow, entry, Trigger.ANSWER, Actor.HOLDER, answered_at=now, wait_seconds=wait,
            lease_until=None,
        )  # fmt: skip
        agent_to(uow, entry.agent_id, Trigger.ANSWER, Actor.HOLDER, now)
        uow.commit()


def finished(ctx: CenterContext, entry_id: int) -> None:
    """The talk is over: the entry is done (its callback too), the agent in wrap-up.
    An entry that never connected counts as abandoned. One statement where the store has
    it; a busy pool or a lost connection is tried again (``store_waits``)."""
    retrying(lambda: _finished(ctx, entry_id), ctx.pause)


def _finished(ctx: CenterContext, entry_id: int) -> None:
    now = ctx.clock.now()
    uow = ctx.unit_of_work()
    alone = uow.one_statement()
    move = talk_move(Trigger.FINISH, Actor.HOLDER)
    if alone is not None and alone.finish(entry_id, now, move, now + ctx.wrap_up()):
        return
    with uow:  # not connected as the statement expects: every other case
        entry = locked_with_agent(uow, entry_id)
        if lc.allowed(lc.ENTRY, entry.state, Trigger.HANG_UP):
            abandon(uow, entry, now)
            uow.commit()
        elif lc.allowed(lc.ENTRY, entry.state, Trigger.FINISH):
            finish(uow, entry, Trigger.FINISH, Actor.HOLDER, now, ctx.wrap_up())
            uow.commit()
        # else already ended: finishing twice changes nothing


def not_answered(ctx: CenterContext, entry_id: int) -> None:
    """The agent did not answer: the entry goes back to the head of the line (it
    keeps enqueued_at), the agent to ``missed`` (offered nothing until they say
    they are available)."""
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        entry = locked_with_agent(uow, entry_id)
        if not lc.allowed(lc.ENTRY, entry.state, Trigger.NOT_ANSWERED):
            return  # taken back already (ring timeout, forced offline)
        withdraw(uow, entry, Trigger.NOT_ANSWERED, Actor.HOLDER, now, ctx.lease())
        uow.queue.renew(entry.id, now + ctx.lease())
        detail = {"entry": entry.id, "agent_id": entry.agent_id}
        uow.audit.record(now, entry.call_id, entry.account_number, "agent_no_answer", detail)
        uow.commit()


def caller_left(ctx: CenterContext, entry_id: int) -> None:
    """The caller (or the customer called back) hung up: abandoned while held,
    finished once an agent had answered; an entry already over stays as it is."""
    with ctx.unit_of_work() as uow:
        entry = uow.queue.get(entry_id)
    if entry is None:
        raise LookupError(f"no queue entry {entry_id}")
    if lc.allowed(lc.ENTRY, entry.state, Trigger.FINISH):
        finished(ctx, entry_id)
    else:
        abandoned(ctx, entry_id)


def abandoned(ctx: CenterContext, entry_id: int) -> None:
    """The caller hung up while waiting or offered."""
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        entry = locked_with_agent(uow, entry_id)
        if lc.allowed(lc.ENTRY, entry.state, Trigger.HANG_UP):
            abandon(uow, entry, now)
            uow.commit()


def left_line(ctx: CenterContext, entry_id: int, trigger: str) -> bool:
    """The holder takes its waiting caller out of line elsewhere (``max_wait`` or
    ``no_agents``, ``ivr.center.lifecycle``): abandoned, with the wait until now.
    False if the entry was no longer waiting."""
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        entry = locked_with_agent(uow, entry_id)
        if not lc.allowed(lc.ENTRY, entry.state, trigger):
            return False
        if not abandon(uow, entry, now, trigger, Actor.HOLDER):
            return False
        detail = {**about(entry), "why": trigger}
        uow.audit.record(now, entry.call_id, entry.account_number, "queue_left", detail)
        uow.commit()
        return True
