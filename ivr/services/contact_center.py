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
"""

from __future__ import annotations

import logging
from datetime import datetime

from ivr.services import contact_ports as cp
from ivr.services import ports
from ivr.services.callback_desk import CallbackDesk, CallbackRefused
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


class ContactCenter(CallbackDesk):
    """The phone side (drivers) and the agent side (web console, API) of the queue.
    Callbacks live in ``CallbackDesk``, the read-only views and shared steps in
    ``ContactViews``."""

    # -- the phone side ------------------------------------------------------------------

    def enqueue(self, call: WaitingCall) -> Entry:
        """Put a live caller in the queue. With ``resume_entry`` (from ``resume``) the
        caller takes over that entry and its place; otherwise a new entry at the tail."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            entry = None
            if call.resume_entry is not None:
                entry = self._take_over(uow, call)
            if entry is None:
                entry = uow.queue.add(call, now)
            uow.audit.record(
                now, call.call_id, call.account_number, "queue_entered", self._about(entry)
            )
            uow.commit()
            return entry

    @staticmethod
    def _take_over(uow: ports.UnitOfWork, call: WaitingCall) -> Entry | None:
        assert call.resume_entry is not None
        held = uow.queue.lock(call.resume_entry)
        if held is None or held.state != cp.RESUMED or held.call_id != call.call_id:
            return None
        uow.queue.change(
            held.id,
            expect=(cp.RESUMED,),
            state=cp.WAITING,
            queue=call.queue,
            priority=call.priority,
            skill=call.skill,
            language=call.language,
            account_number=call.account_number or held.account_number,
            reason=call.reason or held.reason,
            path=list(call.path),
        )
        return uow.queue.get(held.id)

    def place(self, entry_id: int) -> Place:
        """Where the entry stands: position, estimated wait, and the agent to dial once
        it is offered."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            entry = self._entry(uow, entry_id)
            position = uow.queue.ahead_of(entry, now) + 1 if entry.state == cp.WAITING else 1
            estimate, staffed = self._estimate(uow, entry, position, now)
            agent = None
            if entry.state == cp.OFFERED and entry.agent_id is not None:
                agent = uow.agents.get(entry.agent_id)
            return Place(entry, position, estimate, agent, staffed)

    def renew(self, entry_id: int) -> bool:
        """Renew the entry's lease between hold ticks (the callback dialogue's steps).
        A stand-in that does nothing and returns True: helper "lease" fills it in."""
        return True

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
                assignment = self._claim(uow, agents[0], now)
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
            return self._claim(uow, agent, now)

    def _claim(self, uow: ports.UnitOfWork, agent: Agent, now: datetime) -> Assignment | None:
        """Offer the best entry ``agent`` can take (commits), or None (changes nothing)."""
        entry = uow.queue.lock_best(agent.skills, agent.languages, now)
        if entry is None or not uow.agents.take(agent.id, now):
            return None
        if not uow.queue.change(
            entry.id, expect=(cp.WAITING,), state=cp.OFFERED, agent_id=agent.id
        ):
            uow.rollback()  # another process won the entry; the agent stays free
            return None
        offered, ringing = uow.queue.get(entry.id), uow.agents.get(agent.id)
        assert offered is not None and ringing is not None
        detail = {**self._about(offered), "agent": agent.username}
        uow.audit.record(now, entry.call_id, entry.account_number, "queue_offered", detail)
        uow.commit()
        return Assignment(offered, ringing)

    def connected(self, entry_id: int) -> None:
        """The agent answered: the entry is connected, the agent on the call."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            entry = self._locked_with_agent(uow, entry_id)
            if entry.state != cp.OFFERED or entry.agent_id is None:
                logger.warning("entry %s connected in state %s", entry_id, entry.state)
                return
            wait = int((now - entry.enqueued_at).total_seconds())
            uow.queue.change(
                entry.id, expect=(cp.OFFERED,), state=cp.CONNECTED, answered_at=now,
                wait_seconds=wait,
            )  # fmt: skip
            uow.agents.set_state(entry.agent_id, cp.ON_CALL, now)
            uow.commit()

    def finished(self, entry_id: int) -> None:
        """The talk is over: the entry is done (its callback too), the agent in wrap-up.
        An entry that never connected counts as abandoned."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            entry = self._locked_with_agent(uow, entry_id)
            if entry.state in (cp.WAITING, cp.OFFERED):
                self._abandon(uow, entry, now)
                uow.commit()
                return
            if entry.state != cp.CONNECTED:
                return  # already ended: finishing twice changes nothing
            talk = int((now - (entry.answered_at or now)).total_seconds())
            uow.queue.change(entry.id, state=cp.DONE, ended_at=now, talk_seconds=talk)
            if entry.agent_id is not None:
                until = now + self._wrap_up()
                uow.agents.set_state(entry.agent_id, cp.WRAP_UP, now, wrap_up_until=until)
            if entry.callback_id is not None:
                uow.callbacks.change(
                    entry.callback_id, expect=cp.ACTIVE_CALLBACK_STATES, state=cp.CB_DONE,
                    used_at=now,
                )  # fmt: skip
            uow.commit()

    def not_answered(self, entry_id: int) -> None:
        """The agent did not answer: the entry goes back to the head of the line (it
        keeps enqueued_at), the agent goes offline."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            entry = self._locked_with_agent(uow, entry_id)
            if entry.state != cp.OFFERED:
                return
            uow.queue.change(entry.id, expect=(cp.OFFERED,), state=cp.WAITING, agent_id=None)
            if entry.agent_id is not None:
                uow.agents.set_state(entry.agent_id, cp.OFFLINE, now, expect=(cp.RINGING,))
            if entry.callback_id is not None:  # dial it again when an agent is found
                uow.callbacks.change(
                    entry.callback_id, expect=(cp.CB_DIALING,), state=cp.CB_WAITING
                )
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
        if entry.state == cp.CONNECTED:
            self.finished(entry_id)
        else:
            self.abandoned(entry_id)

    def abandoned(self, entry_id: int) -> None:
        """The caller hung up while waiting or offered."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            entry = self._locked_with_agent(uow, entry_id)
            if entry.state in (cp.WAITING, cp.OFFERED, cp.RESUMED):
                self._abandon(uow, entry, now)
                uow.commit()

    def _abandon(self, uow: ports.UnitOfWork, entry: Entry, now: datetime) -> None:
        wait = int((now - entry.enqueued_at).total_seconds())
        uow.queue.change(entry.id, state=cp.ABANDONED, ended_at=now, wait_seconds=wait)
        if entry.state == cp.OFFERED and entry.agent_id is not None:
            uow.agents.set_state(entry.agent_id, cp.AVAILABLE, now, expect=(cp.RINGING,))
        if entry.callback_id is not None:  # answered our call back, then hung up: it is over
            uow.callbacks.change(
                entry.callback_id, expect=(cp.CB_CONNECTED,), state=cp.CB_DONE, used_at=now
            )

    # -- the agent side ------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> Agent | None:
        """The agent with this username and password, else None (the same work is done
        for an unknown username)."""
        from werkzeug.security import check_password_hash

        with self.unit_of_work() as uow:
            found = uow.agents.by_username(username)
        stored = found[1] if found else _decoy_hash()
        ok = check_password_hash(stored, password)
        return found[0] if found and ok else None

    def agent(self, agent_id: int) -> Agent | None:
        with self.unit_of_work() as uow:
            return uow.agents.get(agent_id)

    def set_availability(self, agent_id: int, available: bool) -> Agent | Refused:
        """Available or offline; refused while ringing or on a call. Going available
        ends a wrap-up early."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            agent = uow.agents.lock(agent_id)
            if agent is None:
                return Refused("no such agent")
            if agent.state in (cp.RINGING, cp.ON_CALL):
                return Refused(f"agent is {agent.state.replace('_', ' ')}")
            target = cp.AVAILABLE if available else cp.OFFLINE
            if agent.state != target:
                uow.agents.set_state(agent_id, target, now)
                uow.commit()
            changed = uow.agents.get(agent_id)
            assert changed is not None
            return changed

    def desk(self, agent_id: int) -> Desk:
        """The screen pop: the entry the agent is on (or just finished and has not
        noted), its callback, and notes from earlier calls about the same person."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            agent = uow.agents.get(agent_id)
            if agent is None:
                raise LookupError(f"no agent {agent_id}")
            entry = uow.queue.for_agent(agent_id)
            if entry is not None and entry.state not in (cp.OFFERED, cp.CONNECTED):
                if uow.notes.for_entry(entry.id) is not None or entry.state != cp.DONE:
                    entry = None
            if entry is None:
                return Desk(agent, None, None, [])
            callback = uow.callbacks.get(entry.callback_id) if entry.callback_id else None
            notes = uow.notes.about(entry.account_number, entry.caller_id, 10)
            actor = f"agent:{agent.username}"
            if not uow.audit.recorded(entry.call_id, "desk_viewed", actor):
                detail = {"entry": entry.id, "agent": agent.username}
                uow.audit.record(
                    now, entry.call_id, entry.account_number, "desk_viewed", detail, actor
                )
                uow.commit()
            return Desk(agent, entry, callback, notes)

    def complete(self, agent_id: int, entry_id: int, disposition: str, text: str) -> Note | Refused:
        """Note the call's disposition; ends the agent's wrap-up early."""
        if disposition not in DISPOSITIONS:
            return Refused(f"unknown disposition {disposition!r}")
        now = self.clock.now()
        with self.unit_of_work() as uow:
            agent = uow.agents.lock(agent_id)
            entry = uow.queue.get(entry_id)
            if agent is None or entry is None or entry.agent_id != agent_id:
                return Refused("not this agent's call")
            if entry.state not in (cp.CONNECTED, cp.DONE):
                return Refused("the call was not connected")
            if uow.notes.for_entry(entry_id) is not None:
                return Refused("the call already has a disposition")
            note = uow.notes.add(agent_id, entry, disposition, text.strip()[:4000], now)
            if agent.state == cp.WRAP_UP:
                uow.agents.set_state(agent_id, cp.AVAILABLE, now)
            detail = {"entry": entry_id, "agent": agent.username, "disposition": disposition}
            uow.audit.record(now, entry.call_id, entry.account_number, "call_noted", detail)
            uow.commit()
            return note

    def _expire_callbacks(self) -> None:
        with self.unit_of_work() as uow:
            expired = uow.queue.expire_callbacks(self.clock.now())
            if expired:
                uow.commit()
                logger.info("callbacks expired: %s", expired)


_DECOY: list[str] = []


def _decoy_hash() -> str:
    """A password hash nobody's password is checked against for real, made once."""
    if not _DECOY:
        from werkzeug.security import generate_password_hash

        _DECOY.append(generate_password_hash("no agent has this password"))
    return _DECOY[0]
