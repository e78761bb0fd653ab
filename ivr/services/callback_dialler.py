"""The dialler's side of callbacks: each callback ``dispatch`` offered to an agent is
claimed for one attempt (``due_callbacks``), then answered (``callback_answered``) or
not (``callback_failed``: retried after ``RETRY_AFTER`` in its place in line, up to its
last attempt). A dialler never calls one request twice: every claim is a compare-and-set.
Functions over a ``CenterContext``; see ``ivr.services.callback_desk`` for the leases.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ivr.center import lifecycle as lc
from ivr.center.lifecycle import Actor, Trigger
from ivr.services import ports
from ivr.services.callback_desk import expire
from ivr.services.contact_callbacks import Callback
from ivr.services.contact_context import RING_MARGIN, CenterContext
from ivr.services.contact_entries import Entry
from ivr.services.contact_moves import agent_to, callback_to, entry_to, locked_with_agent
from ivr.services.contact_snapshots import Assignment

RETRY_AFTER = timedelta(minutes=5)
#: How long the customer's phone rings (seconds) when the dialler does not say (the call
#: file's WaitTime, Twilio's timeout: ``CallbackSettings.ring_seconds``).
DIAL_SECONDS = 30


def due_callbacks(ctx: CenterContext, ring_seconds: int = DIAL_SECONDS) -> list[Assignment]:
    """Callback entries ``dispatch`` offered to an agent and not yet being dialled,
    each claimed ``waiting -> dialing`` (one attempt) and returned once only. Each
    claimed entry gets this process's lease for the attempt: the customer's phone
    ringing ``ring_seconds``, the queue's ring timeout and a margin; an attempt whose
    end nobody reports by then is counted failed by the reaper."""
    now = ctx.clock.now()
    claimed = []
    with ctx.unit_of_work() as uow:
        for entry in uow.queue.offered_callbacks():
            if entry.callback_id is None or entry.agent_id is None:
                continue
            callback = uow.callbacks.get(entry.callback_id)
            dialled = Trigger.CALLBACK_DIALLED
            if callback is None or not lc.allowed(lc.CALLBACK, callback.state, dialled):
                continue
            if callback.expires_at <= now:
                uow.agents.lock(entry.agent_id)  # the lock order: agent, entry, callback
                expire(uow, callback.id, entry, now, Actor.DIALLER)
                continue
            if not callback_to(
                uow, callback.id, dialled, Actor.DIALLER, attempts=callback.attempts + 1,
                last_attempt_at=now,
            ):  # fmt: skip
                continue  # another dialler took it
            ring = ring_seconds + ctx.ring_timeout(entry.queue) + RING_MARGIN
            uow.queue.change(
                entry.id, expect=(entry.state,), held_by=ctx.holder,
                lease_until=now + timedelta(seconds=ring),
            )  # fmt: skip
            agent = uow.agents.get(entry.agent_id)
            assert agent is not None
            claimed.append(Assignment(entry, agent))
            detail = {"callback": callback.id, "attempt": callback.attempts + 1}
            uow.audit.record(now, entry.call_id, entry.account_number, "callback_dialled", detail)
        uow.commit()
    return claimed


def callback_answered(ctx: CenterContext, callback_id: int, call_id: str | None = None) -> bool:
    """The person called back answered (on the call ``call_id``: its record's). This
    process holds them from now on: the entry's lease covers the greeting, then each
    ``place`` renews it. An attempt given up meanwhile (its lease ran out, the agent
    went offline) is taken up again: the customer is on the line. False if the
    callback or its entry is over (nothing changes)."""
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        found = uow.callbacks.get(callback_id)
        if found is None:
            return False
        entry = locked_with_agent(uow, found.entry_id)
        answered = Trigger.CALLBACK_ANSWERED
        if entry.state not in lc.HELD:
            return False
        values = {} if call_id is None else {"call_id": call_id}
        if not callback_to(uow, callback_id, answered, Actor.DIALLER, **values):
            return False
        # the greeting (the code read twice) comes before the first tick's ``place``
        until = now + ctx.lease() + timedelta(seconds=RING_MARGIN)
        uow.queue.change(
            entry.id, expect=(entry.state,), lease_until=until, held_by=ctx.holder,
            not_before=None,
        )  # fmt: skip
        detail = {"callback": callback_id, "entry": entry.id, "was": found.state}
        uow.audit.record(now, entry.call_id, entry.account_number, "callback_answered", detail)
        uow.commit()
        return True


def callback_failed(ctx: CenterContext, callback_id: int, why: str) -> Callback:
    """The person did not answer (busy, no answer, ...): try again in 5 minutes, in
    the same place in line, up to 3 attempts in all; then the callback has failed.
    The agent it was offered to is free again."""
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        callback = uow.callbacks.get(callback_id)
        if callback is None:
            raise LookupError(f"no callback {callback_id}")
        entry = locked_with_agent(uow, callback.entry_id)
        locked = uow.callbacks.lock(callback_id)
        assert locked is not None
        last = locked.attempts >= locked.max_attempts
        trigger = Trigger.CALLBACK_GAVE_UP if last else Trigger.CALLBACK_FAILED
        if not lc.allowed(lc.CALLBACK, locked.state, trigger):
            return locked  # already settled: a second report changes nothing
        attempt_over(uow, entry, locked, trigger, Actor.DIALLER, now)
        detail = {"callback": callback_id, "attempts": locked.attempts, "why": why[:200]}
        uow.audit.record(now, entry.call_id, entry.account_number, "callback_failed", detail)
        uow.commit()
        changed = uow.callbacks.get(callback_id)
        assert changed is not None
        return changed


def attempt_over(
    uow: ports.UnitOfWork,
    entry: Entry,
    callback: Callback,
    trigger: str,
    actor: str,
    now: datetime,
) -> bool:
    """A dial attempt ended without reaching the customer (the dialler's
    ``callback_failed``/``callback_gave_up``, the reaper's ``callback_lapsed``/
    ``callback_lapsed_last``): the agent it was offered to is free, the entry waits
    for the retry in its place in line (or has failed), held by nobody; the callback
    moves by the same trigger. False (nothing changed) if the entry moved meanwhile."""
    if lc.allowed(lc.ENTRY, entry.state, trigger):
        if lc.next_state(lc.ENTRY, entry.state, trigger, actor) == lc.FAILED:
            values: dict[str, object] = {"ended_at": now}
        else:
            values = {"agent_id": None, "offered_at": None, "not_before": now + RETRY_AFTER}
        values.update(lease_until=None, held_by=None)
        if not entry_to(uow, entry, trigger, actor, **values):
            return False
    if entry.state == lc.OFFERED and entry.agent_id is not None:
        agent_to(uow, entry.agent_id, trigger, actor, now)
    callback_to(uow, callback.id, trigger, actor)
    return True
