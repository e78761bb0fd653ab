"""What an agent (or a supervisor) does from the console: sign in, go available or
offline (which always works: an offer ringing is withdrawn, a talk is ended), the screen
pop of the call they were last offered, and the call's disposition. Functions over a
``CenterContext``; every move is looked up in ``ivr.center.lifecycle``."""

from __future__ import annotations

import logging

from ivr.center import lifecycle as lc
from ivr.center.lifecycle import Actor, Trigger
from ivr.services import call_story, ports
from ivr.services.contact_agents import DISPOSITIONS, PAUSE_REASONS, Agent, Note
from ivr.services.contact_context import CenterContext
from ivr.services.contact_entries import Entry, Refused
from ivr.services.contact_moves import agent_to, finish, withdraw
from ivr.services.contact_snapshots import Desk

logger = logging.getLogger(__name__)

#: The audit log's call id for an action on an agent outside any call.
NO_CALL = "-"


def authenticate(ctx: CenterContext, username: str, password: str) -> Agent | None:
    """The agent with this username and password, else None (the same work is done
    for an unknown username; a disabled agent is refused as a wrong password is)."""
    from werkzeug.security import check_password_hash

    with ctx.unit_of_work() as uow:
        found = uow.agents.by_username(username)
    stored = found[1] if found else _decoy_hash()
    ok = check_password_hash(stored, password)
    return found[0] if found and ok and not found[0].disabled else None


def agent(ctx: CenterContext, agent_id: int) -> Agent | None:
    with ctx.unit_of_work() as uow:
        return uow.agents.get(agent_id)


def set_availability(ctx: CenterContext, agent_id: int, available: bool) -> Agent | Refused:
    """Available (from offline, missed or wrap-up: ends a wrap-up early; refused
    while ringing or on a call) or offline (always: see ``force_offline``)."""
    if not available:
        return force_offline(ctx, agent_id, None)
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        agent = uow.agents.lock(agent_id)
        if agent is None:
            return Refused("no such agent")
        if agent.disabled:
            return Refused(f"{agent.name} is disabled")
        if agent.state != lc.AVAILABLE:
            if not lc.allowed(lc.AGENT, agent.state, Trigger.AVAILABLE):
                return Refused(f"agent is {agent.state.replace('_', ' ')}")
            agent_to(uow, agent_id, Trigger.AVAILABLE, Actor.AGENT, now)
            uow.commit()
        changed = uow.agents.get(agent_id)
        assert changed is not None
        return changed


def force_offline(
    ctx: CenterContext, agent_id: int, by: Agent | None, actor: str | None = None
) -> Agent | Refused:
    """The agent goes offline, whatever they are doing: an offer ringing is
    withdrawn (the caller back at the head of the line), a talk is finished. ``by``:
    the supervisor who did it (None: the agent themselves, unless ``actor`` names who
    did, e.g. ``cli:<user>`` disabling them). Audited with who."""
    now = ctx.clock.now()
    forced_by = actor
    actor = Actor.AGENT if by is None and forced_by is None else Actor.SUPERVISOR
    with ctx.unit_of_work() as uow:
        agent = uow.agents.lock(agent_id)
        if agent is None:
            return Refused("no such agent")
        if agent.state == lc.OFFLINE:
            return agent
        entry = uow.queue.lock(agent.entry_id) if agent.entry_id is not None else None
        if entry is not None and entry.agent_id == agent_id:
            if lc.allowed(lc.ENTRY, entry.state, Trigger.FINISH):
                finish(uow, entry, Trigger.FORCED_OFFLINE, actor, now, ctx.wrap_up())
            elif entry.state == lc.OFFERED:
                withdraw(uow, entry, Trigger.FORCED_OFFLINE, actor, now, ctx.lease())
        fresh = uow.agents.get(agent_id)
        assert fresh is not None
        if fresh.state != lc.OFFLINE:  # not moved with an entry above
            forced = lc.allowed(lc.AGENT, fresh.state, Trigger.FORCED_OFFLINE)
            trigger = Trigger.FORCED_OFFLINE if forced else Trigger.OFFLINE
            agent_to(uow, agent_id, trigger, actor, now)
        who = forced_by or f"agent:{(by or agent).username}"
        detail: dict[str, object] = {"agent": agent.username, "was": agent.state, "by": who}
        if entry is not None and entry.agent_id == agent_id:
            detail["entry"] = entry.id
        call_id = entry.call_id if entry is not None else NO_CALL
        action = "agent_offline" if actor == Actor.AGENT else "agent_forced_offline"
        uow.audit.record(now, call_id, None, action, detail, who)
        uow.commit()
        if agent.state in lc.BUSY_AGENT_STATES:
            logger.warning(
                "agent %s forced offline from %s by %s", agent.username, agent.state, who
            )
        changed = uow.agents.get(agent_id)
        assert changed is not None
        return changed


def pause(ctx: CenterContext, agent_id: int, reason: str, by: Agent | None) -> Agent | Refused:
    """The agent is paused for ``reason`` (one of ``PAUSE_REASONS``): signed in, offered no
    calls. From ringing the offer is withdrawn (the caller back at the head of the line);
    on a call it is refused (pause from the wrap-up). A paused agent paused again keeps
    their time in state and takes the new reason. ``by``: the supervisor who did it
    (None: the agent themselves). Audited with who."""
    if reason not in PAUSE_REASONS:
        return Refused(f"unknown pause reason {reason!r} (one of {', '.join(PAUSE_REASONS)})")
    now = ctx.clock.now()
    actor = Actor.AGENT if by is None else Actor.SUPERVISOR
    with ctx.unit_of_work() as uow:
        agent = uow.agents.lock(agent_id)
        if agent is None:
            return Refused("no such agent")
        if agent.disabled:
            return Refused(f"{agent.name} is disabled")
        entry = uow.queue.lock(agent.entry_id) if agent.entry_id is not None else None
        if entry is not None and entry.agent_id != agent_id:
            entry = None
        if agent.state == lc.PAUSED:
            uow.agents.set_state(
                agent_id, lc.PAUSED, agent.state_since, expect=(lc.PAUSED,), pause_reason=reason
            )
        elif not lc.allowed(lc.AGENT, agent.state, Trigger.PAUSE):
            said = agent.state.replace("_", " ")
            return Refused(f"{agent.name} is {said}: pause after the call")
        elif entry is not None and entry.state == lc.OFFERED:
            withdraw(uow, entry, Trigger.PAUSE, actor, now, ctx.lease())
            uow.agents.set_state(agent_id, lc.PAUSED, now, expect=(lc.PAUSED,), pause_reason=reason)
        else:
            agent_to(uow, agent_id, Trigger.PAUSE, actor, now, pause_reason=reason)
        who = f"agent:{(by or agent).username}"
        detail: dict[str, object] = {
            "agent": agent.username,
            "was": agent.state,
            "reason": reason,
            "by": who,
        }
        if entry is not None and entry.state == lc.OFFERED:
            detail["entry"] = entry.id
        call_id = entry.call_id if entry is not None else NO_CALL
        action = "agent_paused" if by is None else "agent_forced_pause"
        uow.audit.record(now, call_id, None, action, detail, who)
        uow.commit()
        changed = uow.agents.get(agent_id)
        assert changed is not None
        return changed


def desk(ctx: CenterContext, agent_id: int) -> Desk:
    """The screen pop: the entry the agent was last offered while it is theirs (or
    just finished and has not noted), its callback, and notes from earlier calls
    about the same person."""
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        agent = uow.agents.get(agent_id)
        if agent is None:
            raise LookupError(f"no agent {agent_id}")
        entry = _desk_entry(uow, agent)
        if entry is None:
            return Desk(agent, None, None, [])
        callback = uow.callbacks.get(entry.callback_id) if entry.callback_id else None
        notes = uow.notes.about(entry.account_number, entry.caller_id, 10)
        story = call_story.story(uow, entry)
        actor = f"agent:{agent.username}"
        if not uow.audit.recorded(entry.call_id, "desk_viewed", actor):
            detail = {"entry": entry.id, "agent": agent.username}
            uow.audit.record(now, entry.call_id, entry.account_number, "desk_viewed", detail, actor)
            uow.commit()
        return Desk(agent, entry, callback, notes, story)


def _desk_entry(uow: ports.UnitOfWork, agent: Agent) -> Entry | None:
    if agent.entry_id is None:
        return None
    entry = uow.queue.get(agent.entry_id)
    if entry is None or entry.agent_id != agent.id:
        return None  # the offer was withdrawn (and maybe made to someone else)
    if entry.state in (lc.OFFERED, lc.CONNECTED):
        return entry
    if entry.state == lc.DONE and uow.notes.for_entry(entry.id) is None:
        return entry
    return None


def complete(
    ctx: CenterContext, agent_id: int, entry_id: int, disposition: str, text: str
) -> Note | Refused:
    """Note the call's disposition; ends the agent's wrap-up early. Completing a
    call still connected ends it (its holder may be gone: the talk is the agent's)."""
    if disposition not in DISPOSITIONS:
        return Refused(f"unknown disposition {disposition!r}")
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        agent = uow.agents.lock(agent_id)
        entry = uow.queue.lock(entry_id)
        if agent is None or entry is None or entry.agent_id != agent_id:
            return Refused("not this agent's call")
        if lc.allowed(lc.ENTRY, entry.state, Trigger.FINISH):
            finish(uow, entry, Trigger.FINISH, Actor.AGENT, now, ctx.wrap_up())
        elif entry.state != lc.DONE:
            return Refused("the call was not connected")
        if uow.notes.for_entry(entry_id) is not None:
            return Refused("the call already has a disposition")
        note = uow.notes.add(agent_id, entry, disposition, text.strip()[:4000], now)
        agent_to(uow, agent_id, Trigger.NOTE_WRITTEN, Actor.AGENT, now)
        detail = {"entry": entry_id, "agent": agent.username, "disposition": disposition}
        uow.audit.record(now, entry.call_id, entry.account_number, "call_noted", detail)
        uow.commit()
        return note


_DECOY: list[str] = []


def _decoy_hash() -> str:
    """A password hash nobody's password is checked against for real, made once."""
    if not _DECOY:
        from werkzeug.security import generate_password_hash

        _DECOY.append(generate_password_hash("no agent has this password"))
    return _DECOY[0]
