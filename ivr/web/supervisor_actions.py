"""What a supervisor does, shared by the supervisor's forms and the JSON API: pause an
agent, move a waiting caller to another queue, and administer agents
(``ivr.services.agent_admin``). Input is checked here or there (400 with the field); the
contact centre's refusals become 404 or 409."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ivr.services import agent_admin
from ivr.services.agent_admin import AdminRefused, Choices
from ivr.services.contact_agents import PAUSE_REASONS, Agent
from ivr.services.contact_entries import Entry, Refused
from ivr.services.queue_moves import NO_SUCH_ENTRY, QueueTarget
from ivr.web.context import center, hotline
from ivr.web.errors import WebError, bad_input

T = TypeVar("T")


def actor(supervisor: Agent) -> agent_admin.Actor:
    return agent_admin.Actor(f"agent:{supervisor.username}", supervisor.id)


def pause(supervisor: Agent, agent_id: int, reason: object) -> Agent:
    if reason not in PAUSE_REASONS:
        allowed = ", ".join(PAUSE_REASONS)
        raise bad_input(f"reason must be one of {allowed}, not {reason!r}", "reason")
    done = center().pause(agent_id, str(reason), supervisor)
    if isinstance(done, Refused) and done.reason == "no such agent":
        raise WebError(404, f"no agent {agent_id}")
    if isinstance(done, Refused):
        raise WebError(409, f"agent {agent_id} not paused: {done.reason}")
    return done


def move(supervisor: Agent, entry_id: int, queue: object) -> Entry:
    """Move a waiting caller to ``queue``, one of the flow's queues."""
    queues = hotline().flow.queues
    if not isinstance(queue, str) or queue not in queues:
        known = ", ".join(queues)
        raise bad_input(f"queue must be one of {known}, not {queue!r}", "queue")
    spec = queues[queue]
    target = QueueTarget(spec.name, spec.skill, spec.priority)
    done = center().move(entry_id, target, actor(supervisor).name)
    if isinstance(done, Refused) and done.reason == NO_SUCH_ENTRY:
        raise WebError(404, f"no caller {entry_id} in the queue")
    if isinstance(done, Refused):
        raise WebError(409, done.reason)
    return done


def choices() -> Choices:
    return agent_admin.choices(hotline().flow)


def admin(run: Callable[[], T]) -> T:
    """Run an ``agent_admin`` function; its refusals as ``WebError``."""
    try:
        return run()
    except AdminRefused as refused:
        raise WebError(refused.status, refused.message, refused.where) from None


def create(supervisor: Agent, values: Mapping[str, Any]) -> tuple[Agent, str | None]:
    ctx = center().context
    return admin(lambda: agent_admin.create(ctx, choices(), actor(supervisor), values))


def edit(supervisor: Agent, agent_id: int, values: Mapping[str, Any]) -> Agent:
    ctx = center().context
    return admin(lambda: agent_admin.edit(ctx, choices(), actor(supervisor), agent_id, values))


def set_disabled(supervisor: Agent, agent_id: int, disabled: bool) -> Agent:
    ctx, records = center().context, hotline().sign_in_records
    return admin(
        lambda: agent_admin.set_disabled(ctx, records, actor(supervisor), agent_id, disabled)
    )


def reset_password(supervisor: Agent, agent_id: int, password: object) -> tuple[Agent, str | None]:
    ctx, records = center().context, hotline().sign_in_records
    return admin(
        lambda: agent_admin.reset_password(ctx, records, actor(supervisor), agent_id, password)
    )
