"""The contact center's read-only views (the queue, agents, callbacks, per-queue stats)
and the steps its use cases share. ``ContactCenter`` is built on this class."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from ivr.config import Settings
from ivr.services import contact_ports as cp
from ivr.services import estimates, ports
from ivr.services.contact_ports import Agent, Callback, Entry, Place, QueueStats

#: Queues the supervisor always sees, even when empty (callflows.yaml ``queues:``).
STANDARD_QUEUES = ("security", "payments", "closure", "general")
CALLBACKS_SHOWN = 200


class ContactViews:
    def __init__(
        self,
        unit_of_work: Callable[[], ports.UnitOfWork],
        clock: ports.Clock,
        settings: Settings,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock
        self.settings = settings
        self._secret: bytes | None = None

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
            if entry.state == cp.WAITING:
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
            waiting = [e for e in active if e.queue == queue and e.state == cp.WAITING]
            longest = max((now - e.enqueued_at for e in waiting), default=timedelta(0))
            result[queue] = QueueStats(
                queue=queue,
                waiting=len(waiting),
                longest_wait_seconds=int(longest.total_seconds()),
                aht_seconds=aht[queue],
                handled_today=sum(e.queue == queue and e.state == cp.DONE for e in ended),
                abandoned_today=sum(e.queue == queue and e.state == cp.ABANDONED for e in ended),
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


def staffed_for(agents: Iterable[Agent], skill: str, language: str) -> int:
    """Agents signed in (not offline) who have the skill and speak the language; 0 means
    nobody can take the call (the estimate then counts one, but is not said)."""
    return sum(1 for a in agents if a.state != cp.OFFLINE and a.can_take(skill, language))


def _queue_order(queue: str) -> tuple[int, str]:
    known = STANDARD_QUEUES.index(queue) if queue in STANDARD_QUEUES else len(STANDARD_QUEUES)
    return (known, queue)
