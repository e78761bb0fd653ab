"""The contact center's read-only views (the queue, agents, callbacks, per-queue stats)
and the steps its use cases share. ``ContactCenter`` is built on this class."""

from __future__ import annotations

import os
import platform
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ivr.app.config import Settings
from ivr.center import estimates
from ivr.center import lifecycle as lc
from ivr.services import ports
from ivr.services.contact_ports import Agent, Callback, Entry, Place, QueueStats

#: Queues the supervisor always sees, even when empty (callflows.yaml ``queues:``).
STANDARD_QUEUES = ("security", "payments", "closure", "general")
CALLBACKS_SHOWN = 200
#: How long an agent's phone rings for a queue that does not say (seconds).
DEFAULT_RING_TIMEOUT = 20
#: While an offer rings, the holder's lease covers the ring plus this much (seconds) on
#: top of the lease: past the reaper's own ring timeout (``reaper.GRACE``).
RING_MARGIN = 15


class ContactViews:
    def __init__(
        self,
        unit_of_work: Callable[[], ports.UnitOfWork],
        clock: ports.Clock,
        settings: Settings,
        ring_timeouts: Mapping[str, int] | None = None,
        holder: str | None = None,
    ) -> None:
        """``ring_timeouts``: seconds an offer rings, per queue (others: 20);
        ``holder``: who holds the callers this process enqueues (shown to supervisors;
        by default ``host:pid``)."""
        self.unit_of_work = unit_of_work
        self.clock = clock
        self.settings = settings
        self.ring_timeouts: Mapping[str, int] = ring_timeouts if ring_timeouts is not None else {}
        self.holder = (holder or f"{platform.node()}:{os.getpid()}")[:80]
        self._secret: bytes | None = None

    def ring_timeout(self, queue: str) -> int:
        """Seconds an agent's phone rings for an offer from ``queue``."""
        return int(self.ring_timeouts.get(queue, DEFAULT_RING_TIMEOUT))

    def lease(self) -> timedelta:
        """How long an entry lives after its holder last renewed it."""
        return timedelta(seconds=getattr(self.settings, "queue_lease_seconds", 30))

    def queue_view(self) -> list[Place]:
        """Waiting and offered entries in dispatch order, with positions and estimates."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            entries = uow.queue.active()
            agents = {agent.id: agent for agent in uow.agents.all()}
            aht = {q: self._aht(uow, q, now) for q in {e.queue for e in entries}}
        ahead: dict[str, int] = defaultdict(int)
        places = []
        for entry in entries:  # already in dispatch order
            position = 1
            if entry.state == lc.WAITING:
                position = ahead[entry.queue] + 1
                if entry.not_before is None or entry.not_before <= now:
                    ahead[entry.queue] += 1
            staffed = staffed_for(agents.values(), entry.skill, entry.language)
            estimate = estimates.estimate_seconds(position, aht[entry.queue], staffed)
            agent = agents.get(entry.agent_id) if entry.agent_id is not None else None
            places.append(Place(entry, position, estimate, agent, staffed))
        return places

    def agents_view(self) -> list[Agent]:
        with self.unit_of_work() as uow:
            return uow.agents.all()

    def entry(self, entry_id: int) -> Entry | None:
        """The queue entry as it stands (reading it renews no lease)."""
        with self.unit_of_work() as uow:
            return uow.queue.get(entry_id)

    def callback(self, callback_id: int) -> Callback | None:
        with self.unit_of_work() as uow:
            return uow.callbacks.get(callback_id)

    def callbacks_view(self) -> list[Callback]:
        """Active callbacks (oldest first), then recently ended ones."""
        with self.unit_of_work() as uow:
            return uow.callbacks.recent(CALLBACKS_SHOWN)

    def stats(self) -> dict[str, QueueStats]:
        """Per queue: waiting now, longest wait, AHT, handled and abandoned since midnight
        UTC, callbacks pending."""
        now = self.clock.now()
        midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        with self.unit_of_work() as uow:
            active = uow.queue.active()
            ended = uow.queue.ended_since(midnight)
            pending = uow.callbacks.pending_by_queue()
            names = {*STANDARD_QUEUES, *(e.queue for e in active + ended), *pending}
            aht = {q: self._aht(uow, q, now) for q in names}
        result = {}
        for queue in sorted(names, key=_queue_order):
            waiting = [e for e in active if e.queue == queue and e.state == lc.WAITING]
            longest = max((now - e.enqueued_at for e in waiting), default=timedelta(0))
            result[queue] = QueueStats(
                queue=queue,
                waiting=len(waiting),
                longest_wait_seconds=int(longest.total_seconds()),
                aht_seconds=aht[queue],
                handled_today=sum(e.queue == queue and e.state == lc.DONE for e in ended),
                abandoned_today=sum(e.queue == queue and e.state == lc.ABANDONED for e in ended),
                callbacks_pending=pending.get(queue, 0),
            )
        return result

    # -- steps the use cases share ---------------------------------------------------------

    def _aht(self, uow: ports.UnitOfWork, queue: str, now: datetime) -> int:
        talks = uow.queue.talk_times(queue, now - estimates.AHT_WINDOW, estimates.AHT_SAMPLE)
        return estimates.average_handle_time(talks)

    def _estimate(
        self, uow: ports.UnitOfWork, entry: Entry, position: int, now: datetime
    ) -> tuple[int, int]:
        """The estimated wait (seconds) and the agents staffed for the entry."""
        staffed = staffed_for(uow.agents.all(), entry.skill, entry.language)
        aht = self._aht(uow, entry.queue, now)
        return estimates.estimate_seconds(position, aht, staffed), staffed

    def _wrap_up(self) -> timedelta:
        return timedelta(seconds=self.settings.wrap_up_seconds)

    def _key(self) -> bytes:
        """The secret key, read (or created) on first need only."""
        if self._secret is None:
            self._secret = self.settings.secret()
        return self._secret

    @staticmethod
    def _entry(uow: ports.UnitOfWork, entry_id: int) -> Entry:
        entry = uow.queue.get(entry_id)
        if entry is None:
            raise LookupError(f"no queue entry {entry_id}")
        return entry

    def _locked_with_agent(self, uow: ports.UnitOfWork, entry_id: int) -> Entry:
        """The entry locked after its agent (the lock order everywhere: agent, entry,
        callback). If the entry changed agents meanwhile, lock again."""
        for _ in range(3):
            entry = self._entry(uow, entry_id)
            if entry.agent_id is not None:
                uow.agents.lock(entry.agent_id)
            locked = uow.queue.lock(entry_id)
            assert locked is not None
            if locked.agent_id is None or locked.agent_id == entry.agent_id:
                return locked
        raise RuntimeError(f"queue entry {entry_id} keeps changing agents")

    @staticmethod
    def _about(entry: Entry) -> dict[str, Any]:
        return {"entry": entry.id, "queue": entry.queue, "kind": entry.kind}

    # -- moves by the table (ivr.center.lifecycle), each a compare-and-set ----------------

    @staticmethod
    def _entry_to(
        uow: ports.UnitOfWork, entry: Entry, trigger: str, actor: str, **values: Any
    ) -> bool:
        """Move ``entry`` (as read, locked) on ``trigger``; False if it changed meanwhile.
        Raises ``IllegalTransition`` for a move the table does not have."""
        target = lc.next_state(lc.ENTRY, entry.state, trigger, actor)
        return uow.queue.change(entry.id, expect=(entry.state,), state=target, **values)

    @staticmethod
    def _agent_to(
        uow: ports.UnitOfWork,
        agent_id: int,
        trigger: str,
        actor: str,
        now: datetime,
        wrap_up_until: datetime | None = None,
    ) -> bool:
        """Move the agent on ``trigger`` if the table has a move from their state (an
        agent elsewhere already, e.g. forced offline, stays where they are)."""
        agent = uow.agents.get(agent_id)
        if agent is None or not lc.allowed(lc.AGENT, agent.state, trigger):
            return False
        target = lc.next_state(lc.AGENT, agent.state, trigger, actor)
        until = wrap_up_until if target == lc.WRAP_UP else None
        return uow.agents.set_state(agent_id, target, now, until, expect=(agent.state,))

    @staticmethod
    def _callback_to(
        uow: ports.UnitOfWork, callback_id: int | None, trigger: str, actor: str, **values: Any
    ) -> bool:
        """Move the callback on ``trigger`` if the table has a move from its state."""
        callback = uow.callbacks.get(callback_id) if callback_id is not None else None
        if callback is None or not lc.allowed(lc.CALLBACK, callback.state, trigger):
            return False
        target = lc.next_state(lc.CALLBACK, callback.state, trigger, actor)
        return uow.callbacks.change(callback.id, expect=(callback.state,), state=target, **values)

    def _abandon(
        self,
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
        if not self._entry_to(uow, entry, trigger, actor, **values):
            return False
        if entry.state == lc.OFFERED and entry.agent_id is not None:
            self._agent_to(uow, entry.agent_id, trigger, actor, now)
        # answered our call back, then hung up: it is over
        self._callback_to(uow, entry.callback_id, trigger, actor, used_at=now)
        return True

    def _finish(
        self, uow: ports.UnitOfWork, entry: Entry, trigger: str, actor: str, now: datetime
    ) -> bool:
        """The talk is over (``finish``, or the agent ``forced_offline``): the entry is
        done with its talk time, its callback too; the agent moves by the same trigger
        (to wrap-up, or offline)."""
        talk = int((now - (entry.answered_at or now)).total_seconds())
        if not self._entry_to(uow, entry, trigger, actor, ended_at=now, talk_seconds=talk):
            return False
        if entry.agent_id is not None:
            self._agent_to(uow, entry.agent_id, trigger, actor, now, now + self._wrap_up())
        self._callback_to(uow, entry.callback_id, trigger, actor, used_at=now)
        return True

    def _withdraw(
        self, uow: ports.UnitOfWork, entry: Entry, trigger: str, actor: str, now: datetime
    ) -> bool:
        """An offer ends unanswered (not answered, ring timeout, forced offline): the
        entry goes back to the head of the line (it keeps enqueued_at), the agent moves
        by the same trigger; a callback being dialled is dialled again later. The lease
        is cut back to an ordinary one: a holder that died while ringing is not waited
        for longer."""
        values: dict[str, Any] = {"agent_id": None, "offered_at": None}
        if entry.lease_until is not None:  # the ring's extra time is over
            values["lease_until"] = min(entry.lease_until, now + self.lease())
        if not self._entry_to(uow, entry, trigger, actor, **values):
            return False
        if entry.agent_id is not None:
            self._agent_to(uow, entry.agent_id, trigger, actor, now)
        self._callback_to(uow, entry.callback_id, trigger, actor)
        return True


def staffed_for(agents: Iterable[Agent], skill: str, language: str) -> int:
    """Agents signed in (available, ringing, on a call or in wrap-up; not offline or
    missed) who have the skill and speak the language; 0 means
    nobody can take the call (the estimate then counts one, but is not said)."""
    staffed = lc.STAFFED_AGENT_STATES
    return sum(1 for a in agents if a.state in staffed and a.can_take(skill, language))


def _queue_order(queue: str) -> tuple[int, str]:
    known = STANDARD_QUEUES.index(queue) if queue in STANDARD_QUEUES else len(STANDARD_QUEUES)
    return (known, queue)
