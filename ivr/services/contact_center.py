"""The contact center's use cases: the queue, live agents, callbacks with reference codes.

Each method is one unit of work. Refusals a person can cause (a callback already
dialled, an agent on a call) come back as ``Refused``/``ResumeResult`` values; a method
raises only for a caller's bug (an unknown entry id) or a broken store.

Theory of operation. An entry is claimed by exactly one agent because every claim is a
compare-and-set inside one transaction, in one lock order: agent row, then entry row,
then callback row. On PostgreSQL the agent and the entry are picked ``FOR UPDATE SKIP
LOCKED`` (so concurrent dispatchers take different rows instead of queueing); on SQLite
the unit of work holds the process-wide writer lock, and the compare-and-set updates
(``... WHERE state = 'waiting'``) keep two processes from both winning. Callbacks ride
the same queue (a callback entry keeps the enqueued_at of the call that asked for it),
so ``dispatch`` offers them in the same order as live calls; ``due_callbacks`` then
claims each offered callback ``waiting -> dialing`` once for the dialler.

Every move is looked up in ``ivr.center.lifecycle`` (the one transition table) and made
as a compare-and-set on the state it was read in. A live caller's entry carries a lease
its holder renews (``place``, ``renew``), and so does a callback from the claim of an
attempt to its end; the reaper (``ivr.services.reaper``) ends the entries whose holder
stopped renewing (a lapsed dial attempt counts as failed) and takes back offers nobody
answered.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ivr.center import lifecycle as lc
from ivr.center.lifecycle import Actor, Trigger
from ivr.services import contact_ports as cp
from ivr.services import ports
from ivr.services.agent_desk import AgentDesk
from ivr.services.callback_desk import CallbackRefused
from ivr.services.contact_ports import (
    Agent,
    Assignment,
    Callback,
    Desk,
    Entry,
    Note,
    Place,
    QueueStats,
    Refused,
    ResumeResult,
    WaitingCall,
)
from ivr.services.contact_views import RING_MARGIN
from ivr.services.reaper import Reaped, reap

__all__ = [
    "DISPOSITIONS",
    "Agent",
    "Assignment",
    "Callback",
    "CallbackRefused",
    "ContactCenter",
    "Desk",
    "Entry",
    "Note",
    "Place",
    "QueueStats",
    "Refused",
    "ResumeResult",
    "WaitingCall",
]

logger = logging.getLogger(__name__)

DISPOSITIONS = cp.DISPOSITIONS


class ContactCenter(AgentDesk):
    """The phone side (drivers) and the agent side (web console, API) of the queue.
    Callbacks live in ``CallbackDesk``, the agent's own actions in ``AgentDesk``, the
    read-only views and shared steps in ``ContactViews``."""

    # -- the phone side ------------------------------------------------------------------

    def enqueue(self, call: WaitingCall) -> Entry:
        """Put a live caller in the queue, held (leased) by this process. With
        ``resume_entry`` (from ``resume``) the caller takes over that entry and its place;
        otherwise a new entry at the tail."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            entry = None
            if call.resume_entry is not None:
                entry = self._take_over(uow, call, now)
            if entry is None:
                entry = uow.queue.add(call, now, now + self.lease(), self.holder)
            uow.audit.record(
                now, call.call_id, call.account_number, "queue_entered", self._about(entry)
            )
            uow.commit()
            return entry

    def _take_over(self, uow: ports.UnitOfWork, call: WaitingCall, now: datetime) -> Entry | None:
        assert call.resume_entry is not None
        held = uow.queue.lock(call.resume_entry)
        if held is None or held.call_id != call.call_id:
            return None
        if not lc.allowed(lc.ENTRY, held.state, Trigger.TAKE_OVER):
            return None
        self._entry_to(
            uow, held, Trigger.TAKE_OVER, Actor.CALLER,
            queue=call.queue, priority=call.priority, skill=call.skill,
            language=call.language, account_number=call.account_number or held.account_number,
            reason=call.reason or held.reason, path=list(call.path),
            lease_until=now + self.lease(), held_by=self.holder,
        )  # fmt: skip
        return uow.queue.get(held.id)

    def place(self, entry_id: int) -> Place:
        """Where the entry stands: position, estimated wait, and the agent to dial once
        it is offered. Reading its place renews the holder's lease (while the offer
        rings, for the ring timeout and a margin): a live caller's, and a callback
        entry's, whose lease starts when its attempt is claimed (``due_callbacks``) and
        is taken over by the holder of the customer who answered (``callback_answered``).
        A callback waiting in line has none: nobody holds it."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            entry = self._entry(uow, entry_id)
            if entry.state in lc.HELD and entry.lease_until is not None:
                until = now + self.lease()
                if entry.state == lc.OFFERED:  # the holder rings: past the ring timeout
                    until += timedelta(seconds=self.ring_timeout(entry.queue) + RING_MARGIN)
                if uow.queue.renew(entry.id, until):
                    uow.commit()
            held = entry.state in lc.HELD
            position = uow.queue.ahead_of(entry, now) + 1 if entry.state == lc.WAITING else 1
            estimate, staffed = self._estimate(uow, entry, position, now)
            agent = None
            if held and entry.state == lc.OFFERED and entry.agent_id is not None:
                agent = uow.agents.get(entry.agent_id)
            return Place(entry, position, estimate, agent, staffed)

    def renew(self, entry_id: int) -> bool:
        """Renew the holder's lease between ticks (one compare-and-set; it never
        shortens a longer one): False if the entry is no longer held (ended, or reaped)."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            renewed = uow.queue.renew(entry_id, now + self.lease())
            uow.commit()
            return renewed

    def dispatch(self) -> list[Assignment]:
        """Offer waiting entries to free agents, longest-idle agent first, each the best
        entry they can take; one transaction per claim. Expired callbacks are retired
        first, so they are never offered."""
        self._expire_callbacks()
        done: list[Assignment] = []
        tried: set[int] = set()
        while True:
            with self.unit_of_work() as uow:
                now = self.clock.now()
                agents = uow.agents.lock_free(now, frozenset(tried), 1)
                if not agents:
                    return done
                assignment = self._claim(uow, agents[0], now, Actor.DISPATCHER)
                if assignment is None:
                    tried.add(agents[0].id)
                else:
                    done.append(assignment)

    def claim_next(self, agent_id: int) -> Assignment | None:
        """The agent's "next caller": the best entry they can take, if they are free."""
        with self.unit_of_work() as uow:
            now = self.clock.now()
            agent = uow.agents.lock(agent_id)
            if agent is None or not agent.free_at(now):
                return None
            return self._claim(uow, agent, now, Actor.AGENT)

    def _claim(
        self, uow: ports.UnitOfWork, agent: Agent, now: datetime, actor: str
    ) -> Assignment | None:
        """Offer the best entry ``agent`` can take (commits), or None (changes nothing)."""
        entry = uow.queue.lock_best(agent.skills, agent.languages, now)
        if entry is None or not uow.agents.take(agent.id, now, entry.id):
            return None
        if not self._entry_to(uow, entry, Trigger.OFFER, actor, agent_id=agent.id, offered_at=now):
            uow.rollback()  # another process won the entry; the agent stays free
            return None
        offered, ringing = uow.queue.get(entry.id), uow.agents.get(agent.id)
        assert offered is not None and ringing is not None
        detail = {**self._about(offered), "agent": agent.username}
        uow.audit.record(now, entry.call_id, entry.account_number, "queue_offered", detail)
        uow.commit()
        return Assignment(offered, ringing)

    def connected(self, entry_id: int) -> None:
        """The agent answered: the entry is connected (no lease: the talk is the
        agent's), the agent on the call."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            entry = self._locked_with_agent(uow, entry_id)
            if not lc.allowed(lc.ENTRY, entry.state, Trigger.ANSWER) or entry.agent_id is None:
                logger.warning("entry %s connected in state %s", entry_id, entry.state)
                return
            wait = int((now - entry.enqueued_at).total_seconds())
            self._entry_to(
                uow, entry, Trigger.ANSWER, Actor.HOLDER, answered_at=now, wait_seconds=wait,
                lease_until=None,
            )  # fmt: skip
            self._agent_to(uow, entry.agent_id, Trigger.ANSWER, Actor.HOLDER, now)
            uow.commit()

    def finished(self, entry_id: int) -> None:
        """The talk is over: the entry is done (its callback too), the agent in wrap-up.
        An entry that never connected counts as abandoned."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            entry = self._locked_with_agent(uow, entry_id)
            if lc.allowed(lc.ENTRY, entry.state, Trigger.HANG_UP):
                self._abandon(uow, entry, now)
                uow.commit()
            elif lc.allowed(lc.ENTRY, entry.state, Trigger.FINISH):
                self._finish(uow, entry, Trigger.FINISH, Actor.HOLDER, now)
                uow.commit()
            # else already ended: finishing twice changes nothing

    def not_answered(self, entry_id: int) -> None:
        """The agent did not answer: the entry goes back to the head of the line (it
        keeps enqueued_at), the agent to ``missed`` (offered nothing until they say
        they are available)."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            entry = self._locked_with_agent(uow, entry_id)
            if not lc.allowed(lc.ENTRY, entry.state, Trigger.NOT_ANSWERED):
                return  # taken back already (ring timeout, forced offline)
            self._withdraw(uow, entry, Trigger.NOT_ANSWERED, Actor.HOLDER, now)
            uow.queue.renew(entry.id, now + self.lease())
            detail = {"entry": entry.id, "agent_id": entry.agent_id}
            uow.audit.record(now, entry.call_id, entry.account_number, "agent_no_answer", detail)
            uow.commit()

    def caller_left(self, entry_id: int) -> None:
        """The caller (or the customer called back) hung up: abandoned while held,
        finished once an agent had answered; an entry already over stays as it is."""
        with self.unit_of_work() as uow:
            entry = uow.queue.get(entry_id)
        if entry is None:
            raise LookupError(f"no queue entry {entry_id}")
        if lc.allowed(lc.ENTRY, entry.state, Trigger.FINISH):
            self.finished(entry_id)
        else:
            self.abandoned(entry_id)

    def abandoned(self, entry_id: int) -> None:
        """The caller hung up while waiting or offered."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            entry = self._locked_with_agent(uow, entry_id)
            if lc.allowed(lc.ENTRY, entry.state, Trigger.HANG_UP):
                self._abandon(uow, entry, now)
                uow.commit()

    def left_line(self, entry_id: int, trigger: str) -> bool:
        """The holder takes its waiting caller out of line elsewhere (``max_wait`` or
        ``no_agents``, ``ivr.center.lifecycle``): abandoned, with the wait until now.
        False if the entry was no longer waiting."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            entry = self._locked_with_agent(uow, entry_id)
            if not lc.allowed(lc.ENTRY, entry.state, trigger):
                return False
            if not self._abandon(uow, entry, now, trigger, Actor.HOLDER):
                return False
            detail = {**self._about(entry), "why": trigger}
            uow.audit.record(now, entry.call_id, entry.account_number, "queue_left", detail)
            uow.commit()
            return True

    def reap(self) -> Reaped:
        """One round of the reaper (``ivr.services.reaper``): entries whose lease ran
        out are abandoned, offers past their ring timeout taken back."""
        return reap(self)

    def _expire_callbacks(self) -> None:
        with self.unit_of_work() as uow:
            expired = uow.queue.expire_callbacks(self.clock.now())
            if expired:
                uow.commit()
                logger.info("callbacks expired: %s", expired)
