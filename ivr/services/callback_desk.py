"""Callbacks: a waiting caller's place kept while they hang up (virtual hold), and a
six-digit reference code to prove it is us calling (or to phone back and take the place
over: ``resume``); an agent may take a waiting callback out of turn (``call_now``). The
dialler's side is ``ivr.services.callback_dialler``. Functions over a ``CenterContext``.

Nobody holds a callback waiting in line, so it has no lease; an attempt claimed for
dialling does (``due_callbacks``: the customer's phone ringing, the queue's ring timeout
and a margin), and once the customer answers, the process holding them renews it as for a
live caller (``callback_answered``, then ``place``). The reaper ends what a dead dialler
or holder left behind (``ivr.services.reaper``): a lapsed attempt counts as failed.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from ivr.center import lifecycle as lc
from ivr.center.lifecycle import Actor, Trigger
from ivr.errors import IvrError
from ivr.services import ports, tokens
from ivr.services.contact_callbacks import Callback, ResumeResult
from ivr.services.contact_context import CenterContext
from ivr.services.contact_entries import Entry, Refused
from ivr.services.contact_moves import about, agent_to, callback_to, entry_to, locked_with_agent
from ivr.services.contact_snapshots import Assignment

logger = logging.getLogger(__name__)

CALLBACK_TTL = timedelta(hours=24)
MAX_ATTEMPTS = 3
_SALT_TRIES = 20

#: Why ``call_now`` refuses a callback, by its state.
_NOT_WAITING = {
    lc.CB_DIALING: "callback is being dialled",
    lc.CB_CONNECTED: "callback already dialled",
    lc.CB_DONE: "callback already done",
    lc.CB_FAILED: "callback failed after its last attempt",
    lc.CB_EXPIRED: "callback expired",
    lc.CB_CANCELLED: "callback cancelled: the caller phoned back",
}


class CallbackRefused(IvrError):
    """``request_callback`` on an entry that cannot become a callback (not waiting)."""


def request_callback(ctx: CenterContext, entry_id: int, number: str) -> tuple[Callback, str]:
    """Turn a waiting live call into a callback at ``number``: the entry keeps its
    place (enqueued_at). Returns the callback and its code (to say to the caller).
    Raises ``CallbackRefused`` if the entry is no longer waiting."""
    key = ctx.key()
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        entry = locked_with_agent(uow, entry_id)
        asked = lc.allowed(lc.ENTRY, entry.state, Trigger.CALLBACK_REQUESTED)
        if not asked or entry.kind != lc.CALL:
            raise CallbackRefused(f"queue entry {entry_id} is {entry.kind} {entry.state}")
        for _ in range(_SALT_TRIES):  # active codes are unique: on a clash, a new salt
            salt = secrets.token_hex(16)
            code = tokens.derive_code(key, salt)
            code_hash = tokens.hash_code(key, code)
            if not uow.callbacks.code_in_use(code_hash):
                break
        else:
            raise RuntimeError("no free callback code found")
        expires = now + CALLBACK_TTL
        callback = uow.callbacks.add(entry, number, salt, code_hash, now, expires, MAX_ATTEMPTS)
        entry_to(  # nobody holds a callback: no lease
            uow, entry, Trigger.CALLBACK_REQUESTED, Actor.CALLER, kind=lc.KIND_CALLBACK,
            callback_id=callback.id, expires_at=expires, lease_until=None, held_by=None,
        )  # fmt: skip
        detail = {**about(entry), "callback": callback.id, "to_last4": number[-4:]}
        uow.audit.record(now, entry.call_id, entry.account_number, "callback_requested", detail)
        uow.commit()
        return callback, code


def resume(ctx: CenterContext, code: str, caller_id: str, call_id: str) -> ResumeResult:
    """A caller phoning back with their code takes over the callback's place: the
    entry is held (``resumed``) for this call's ``enqueue(resume_entry=...)``, the
    callback is cancelled (used). Wrong codes lock the caller number out like PINs."""
    key = ctx.key()
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        failures = uow.code_attempts.failures_since(caller_id, now - tokens.WRONG_CODES.lookback)
        if tokens.locked_out(failures, now):
            uow.audit.record(now, call_id, None, "callback_code_locked", {"ani": caller_id})
            uow.commit()
            return ResumeResult("locked", None, None)
        found = None
        if tokens.well_formed(code):
            found = uow.callbacks.by_code(tokens.hash_code(key, code))
        if found is None:
            uow.code_attempts.record(caller_id, call_id, now, False)
            locked = tokens.locked_out([*failures, now], now)
            uow.commit()
            return ResumeResult("locked" if locked else "wrong", None, None)
        outcome = _take_back(ctx, uow, found, caller_id, call_id, now)
        entry = uow.queue.get(found.entry_id)
        callback = uow.callbacks.get(found.id)
        detail = {"callback": found.id, "outcome": outcome, "entry": found.entry_id}
        uow.audit.record(now, call_id, found.account_number, "callback_resumed", detail)
        uow.commit()
        return ResumeResult(outcome, callback, entry if outcome == "ok" else None)


def _take_back(
    ctx: CenterContext,
    uow: ports.UnitOfWork,
    found: Callback,
    caller_id: str,
    call_id: str,
    now: datetime,
) -> str:
    entry = locked_with_agent(uow, found.entry_id)
    callback = uow.callbacks.lock(found.id)
    assert callback is not None
    if callback.state == lc.CB_WAITING and callback.expires_at <= now:
        expire(uow, callback.id, entry, now, Actor.CALLER)
        return "expired"
    if callback.state in (lc.CB_EXPIRED, lc.CB_FAILED):
        return "expired"
    resumable = lc.allowed(lc.CALLBACK, callback.state, Trigger.RESUME)
    if not resumable or not lc.allowed(lc.ENTRY, entry.state, Trigger.RESUME):
        return "used"
    entry_to(  # held (leased) by this process until the call takes it over
        uow, entry, Trigger.RESUME, Actor.CALLER, kind=lc.CALL, call_id=call_id,
        caller_id=caller_id, expires_at=None, not_before=None,
        lease_until=now + ctx.lease(), held_by=ctx.holder,
    )  # fmt: skip
    callback_to(uow, callback.id, Trigger.RESUME, Actor.CALLER, used_at=now)
    uow.code_attempts.record(caller_id, call_id, now, True)
    return "ok"


def callback_code(ctx: CenterContext, callback_id: int) -> str:
    """The callback's code, re-derived from its salt (said on the callback call)."""
    with ctx.unit_of_work() as uow:
        salt = uow.callbacks.salt(callback_id)
    if salt is None:
        raise LookupError(f"no callback {callback_id}")
    return tokens.derive_code(ctx.key(), salt)


def call_now(ctx: CenterContext, callback_id: int, agent_id: int) -> Assignment | Refused:
    """An agent takes a waiting callback out of turn: it is offered to them (and
    ``due_callbacks`` dials it). Refused unless the callback is waiting."""
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        agent = uow.agents.lock(agent_id)
        if agent is None:
            return Refused("no such agent")
        callback = uow.callbacks.get(callback_id)
        if callback is None:
            return Refused("no such callback")
        entry = uow.queue.lock(callback.entry_id)
        callback = uow.callbacks.lock(callback_id)
        assert entry is not None and callback is not None
        if not lc.allowed(lc.CALLBACK, callback.state, Trigger.CALLBACK_DIALLED):
            return Refused(_NOT_WAITING.get(callback.state, f"callback is {callback.state}"))
        if callback.expires_at <= now:
            expire(uow, callback.id, entry, now, Actor.AGENT)
            uow.commit()
            return Refused("callback expired")
        if not lc.allowed(lc.ENTRY, entry.state, Trigger.OFFER):
            return Refused("callback already offered to an agent")
        if not agent.free_at(now) or not uow.agents.take(agent_id, now, entry.id):
            return Refused(f"agent is {agent.state.replace('_', ' ')}")
        entry_to(
            uow, entry, Trigger.OFFER, Actor.AGENT, agent_id=agent_id, not_before=None,
            offered_at=now,
        )  # fmt: skip
        detail = {"callback": callback_id, "agent": agent.username}
        uow.audit.record(now, entry.call_id, entry.account_number, "callback_call_now", detail)
        uow.commit()
        offered, ringing = uow.queue.get(entry.id), uow.agents.get(agent_id)
        assert offered is not None and ringing is not None
        return Assignment(offered, ringing)


def expire(
    uow: ports.UnitOfWork, callback_id: int, entry: Entry, now: datetime, actor: str
) -> None:
    """A callback past its 24 hours is never dialled; an agent it was offered to is
    free again."""
    expired = Trigger.CALLBACK_EXPIRED
    callback_to(uow, callback_id, expired, actor)
    if lc.allowed(lc.ENTRY, entry.state, expired):
        entry_to(uow, entry, expired, actor, ended_at=now)
    if entry.state == lc.OFFERED and entry.agent_id is not None:
        agent_to(uow, entry.agent_id, expired, actor, now)
