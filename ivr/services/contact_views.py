"""The contact center's read-only views: the queue, the agents, the callbacks and the
per-queue numbers, and an entry's estimated wait (functions over a ``CenterContext``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from ivr.center import estimates
from ivr.center import lifecycle as lc
from ivr.services import ports
from ivr.services.contact_agents import Agent
from ivr.services.contact_callbacks import Callback
from ivr.services.contact_context import CenterContext
from ivr.services.contact_entries import Entry
from ivr.services.contact_snapshots import AgentNow, Place, QueueStats

#: Queues the supervisor always sees, even when empty (callflows.yaml ``queues:``).
STANDARD_QUEUES = ("security", "payments", "closure", "general")
CALLBACKS_SHOWN = 200


def queue_view(ctx: CenterContext) -> list[Place]:
    """Waiting and offered entries in dispatch order, with positions and estimates."""
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        entries = uow.queue.active()
        agents = {agent.id: agent for agent in uow.agents.all()}
        aht = {q: average_handle_time(uow, q, now) for q in {e.queue for e in entries}}
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


def agents_view(ctx: CenterContext) -> list[Agent]:
    with ctx.unit_of_work() as uow:
        return uow.agents.all()


def agents_now(ctx: CenterContext) -> list[AgentNow]:
    """Every agent with the call they are offered or on (the entry still theirs)."""
    with ctx.unit_of_work() as uow:
        agents = uow.agents.all()
        calls = {e.id: e for e in uow.queue.active() if e.agent_id is not None}
        for agent in agents:
            if agent.entry_id is not None and agent.entry_id not in calls:
                entry = uow.queue.get(agent.entry_id)
                if entry is not None and entry.state == lc.CONNECTED:
                    calls[entry.id] = entry
    return [AgentNow(a, _call_of(a, calls)) for a in agents]


def _call_of(agent: Agent, calls: dict[int, Entry]) -> Entry | None:
    entry = calls.get(agent.entry_id) if agent.entry_id is not None else None
    return entry if entry is not None and entry.agent_id == agent.id else None


def entry(ctx: CenterContext, entry_id: int) -> Entry | None:
    """The queue entry as it stands (reading it renews no lease)."""
    with ctx.unit_of_work() as uow:
        return uow.queue.get(entry_id)


def callback(ctx: CenterContext, callback_id: int) -> Callback | None:
    with ctx.unit_of_work() as uow:
        return uow.callbacks.get(callback_id)


def callbacks_view(ctx: CenterContext) -> list[Callback]:
    """Active callbacks (oldest first), then recently ended ones."""
    with ctx.unit_of_work() as uow:
        return uow.callbacks.recent(CALLBACKS_SHOWN)


def stats(ctx: CenterContext) -> dict[str, QueueStats]:
    """Per queue: waiting now, longest wait, AHT (None before any call was handled in
    the window: never the estimates' default), handled and abandoned since midnight UTC,
    callbacks pending."""
    now = ctx.clock.now()
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with ctx.unit_of_work() as uow:
        active = uow.queue.active()
        ended = uow.queue.ended_since(midnight)
        pending = uow.callbacks.pending_by_queue()
        names = {*STANDARD_QUEUES, *(e.queue for e in active + ended), *pending}
        aht = {q: measured_handle_time(uow, q, now) for q in names}
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


def average_handle_time(uow: ports.UnitOfWork, queue: str, now: datetime) -> int:
    """The queue's average handle time (seconds) over its recent talks, or the default
    with none (what a caller's estimated wait is made with)."""
    talks = uow.queue.talk_times(queue, now - estimates.AHT_WINDOW, estimates.AHT_SAMPLE)
    return estimates.average_handle_time(talks)


def measured_handle_time(uow: ports.UnitOfWork, queue: str, now: datetime) -> int | None:
    """The queue's average handle time as measured: None before any talk in the window."""
    talks = uow.queue.talk_times(queue, now - estimates.AHT_WINDOW, estimates.AHT_SAMPLE)
    return estimates.measured_handle_time(talks)


def estimate(uow: ports.UnitOfWork, entry: Entry, position: int, now: datetime) -> tuple[int, int]:
    """The estimated wait (seconds) and the agents staffed for the entry."""
    staffed = staffed_for(uow.agents.all(), entry.skill, entry.language)
    aht = average_handle_time(uow, entry.queue, now)
    return estimates.estimate_seconds(position, aht, staffed), staffed


def staffed_for(agents: Iterable[Agent], skill: str, language: str) -> int:
    """Agents signed in (available, ringing, on a call or in wrap-up; not offline or
    missed) who have the skill and speak the language; 0 means
    nobody can take the call (the estimate then counts one, but is not said)."""
    staffed = lc.STAFFED_AGENT_STATES
    return sum(1 for a in agents if a.state in staffed and a.can_take(skill, language))


def _queue_order(queue: str) -> tuple[int, str]:
    known = STANDARD_QUEUES.index(queue) if queue in STANDARD_QUEUES else len(STANDARD_QUEUES)
    return (known, queue)
