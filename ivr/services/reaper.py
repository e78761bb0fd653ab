"""The reaper: ends what nobody will end. Run in every dispatcher round (every
``ivr serve`` and ``ivr fastagi`` process), at most every few seconds.

- **Leases.** The process holding a caller (an AGI process, a FastAGI thread, a Twilio
  wait loop) renews its entry's lease at every tick (``queue_desk.place``/``renew``).
  An entry whose lease ran out has lost its holder (killed, cut off from the database):
  it is ``abandoned``, its wait counted until the lease ran out, and an agent it was
  offered to is free again.
- **Callbacks.** An attempt claimed for dialling carries the dialler's lease. If it runs
  out while the callback is still ``dialing`` (the dialler died, Asterisk's failure
  report never came) the attempt counts as failed (``callback_lapsed``): the callback
  waits for its retry (or has failed after its last attempt) and the agent it was
  offered to is available again (not missed: their phone never rang). A customer held on
  an answered callback whose holder died is an abandoned wait, as above.
- **Ring timeouts.** An offer still ringing its queue's ring timeout (plus ``GRACE``, for
  the holder's own Dial result to come first) after it was made is taken back: the
  caller goes to the head of the line, the agent to ``missed``.

Several processes may share one database and must not fight: on PostgreSQL one reaper at
a time holds ``pg_try_advisory_xact_lock`` (the others skip the round), rows are picked
``FOR UPDATE SKIP LOCKED`` and an agent row another transaction holds is left for the
next round (so the reaper never waits for a lock, nor deadlocks); every change is a
compare-and-set on the state it was read in. Each action is audited and logged as one
line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from ivr.center import lifecycle as lc
from ivr.center.lifecycle import Actor, Trigger
from ivr.services import metrics, ports
from ivr.services.callback_dialler import attempt_over
from ivr.services.contact_callbacks import Callback
from ivr.services.contact_context import CenterContext
from ivr.services.contact_entries import Entry
from ivr.services.contact_moves import abandon, withdraw

logger = logging.getLogger(__name__)

#: Seconds past the ring timeout before the reaper takes an offer back.
GRACE = 10
#: Entries looked at per round (the rest wait for the next round).
BATCH = 100
#: What ``_lapse`` did with an entry whose lease ran out.
ABANDONED, REDIAL = "abandoned", "redial"


@dataclass(frozen=True)
class Reaped:
    """What one round did (counts for metrics)."""

    lapsed: int = 0  # entries abandoned: their lease ran out
    rung_out: int = 0  # offers taken back after the ring timeout
    skipped: bool = False  # another process was reaping
    dials_lapsed: int = 0  # callback attempts nobody reported the end of: failed


def reap(ctx: CenterContext) -> Reaped:
    """One round over the unit of work: lapsed leases, then ring timeouts (one
    transaction; on PostgreSQL only one process at a time)."""
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        if not uow.queue.reaper_lock():
            return Reaped(skipped=True)
        held = lc.sources(lc.ENTRY, Trigger.LEASE_EXPIRED)
        ended = [_lapse(uow, e, now) for e in uow.queue.lock_lapsed(held, now, BATCH)]
        shortest = min([*ctx.ring_timeouts.values(), ctx.ring_timeout("")])
        before = now - timedelta(seconds=shortest + GRACE)
        rung_out = sum(
            _ring_out(ctx, uow, entry, now) for entry in uow.queue.lock_rung_out(before, BATCH)
        )
        uow.commit()
    reaped = Reaped(ended.count(ABANDONED), rung_out, dials_lapsed=ended.count(REDIAL))
    metrics.reaped("lease_expired", reaped.lapsed)
    metrics.reaped("ring_timeout", reaped.rung_out)
    metrics.reaped("callback_lapsed", reaped.dials_lapsed)
    return reaped


def _agent_free_to_change(uow: ports.UnitOfWork, entry: Entry) -> bool:
    """Lock the entry's agent without waiting (the reaper holds the entry already; the
    lock order elsewhere is agent first): False if another transaction holds it."""
    if entry.state != lc.OFFERED or entry.agent_id is None:
        return True
    return uow.agents.lock(entry.agent_id, skip_locked=True) is not None


def _lapse(uow: ports.UnitOfWork, entry: Entry, now: datetime) -> str:
    """End an entry whose lease ran out (see the module): ABANDONED, REDIAL (a callback
    attempt counted failed), or "" (nothing: it moved meanwhile, or was no one's)."""
    if not _agent_free_to_change(uow, entry):
        return ""
    callback = _callback(uow, entry)
    if callback is not None and lc.allowed(lc.CALLBACK, callback.state, Trigger.CALLBACK_LAPSED):
        return REDIAL if _dial_lapsed(uow, entry, callback, now) else ""
    if callback is not None and not lc.allowed(lc.CALLBACK, callback.state, Trigger.LEASE_EXPIRED):
        # A callback back in line after its attempt was settled: nobody holds it, so the
        # lease left over from the attempt is nobody's (no state changes).
        if uow.queue.change(entry.id, expect=(entry.state,), lease_until=None, held_by=None):
            logger.info(
                "reaper: callback %d (entry %d) is %s: the lease left from its attempt dropped",
                *(callback.id, entry.id, callback.state),
            )
        return ""
    agent = uow.agents.get(entry.agent_id) if entry.agent_id is not None else None
    if not abandon(uow, entry, now, Trigger.LEASE_EXPIRED, Actor.REAPER):
        return ""  # another reaper (or the holder) was first
    detail = {
        "entry": entry.id, "queue": entry.queue, "was": entry.state, "held_by": entry.held_by,
        "lease_until": entry.lease_until.isoformat() if entry.lease_until else None,
        "agent": agent.username if agent and entry.state == lc.OFFERED else None,
        "callback": callback.id if callback is not None else None,
    }  # fmt: skip
    uow.audit.record(now, entry.call_id, entry.account_number, "queue_lease_expired", detail)
    logger.warning(
        "reaper: %s entry %d (%s, %s, held by %s) abandoned: its lease ran out at %s",
        *(entry.kind, entry.id, entry.queue, entry.state, entry.held_by, entry.lease_until),
    )
    return ABANDONED


def _callback(uow: ports.UnitOfWork, entry: Entry) -> Callback | None:
    """The callback of a callback entry (a resumed one is a live call again: None)."""
    if entry.kind != lc.KIND_CALLBACK or entry.callback_id is None:
        return None
    return uow.callbacks.get(entry.callback_id)


def _dial_lapsed(uow: ports.UnitOfWork, entry: Entry, callback: Callback, now: datetime) -> bool:
    """Nobody reported the end of the attempt being dialled: a failed attempt."""
    last = callback.attempts >= callback.max_attempts
    trigger = Trigger.CALLBACK_LAPSED_LAST if last else Trigger.CALLBACK_LAPSED
    agent = uow.agents.get(entry.agent_id) if entry.agent_id is not None else None
    if not attempt_over(uow, entry, callback, trigger, Actor.REAPER, now):
        return False
    now_state = lc.next_state(lc.CALLBACK, callback.state, trigger, Actor.REAPER)
    detail = {
        "entry": entry.id, "queue": entry.queue, "callback": callback.id,
        "attempt": callback.attempts, "of": callback.max_attempts, "now": now_state,
        "dialled_by": entry.held_by, "agent": agent.username if agent else None,
        "lease_until": entry.lease_until.isoformat() if entry.lease_until else None,
    }  # fmt: skip
    uow.audit.record(now, entry.call_id, entry.account_number, "callback_lapsed", detail)
    logger.warning(
        "reaper: callback %d (entry %d, attempt %d of %d, dialled by %s): no end reported "
        "by %s, counted failed; callback now %s, agent %s available again",
        *(callback.id, entry.id, callback.attempts, callback.max_attempts, entry.held_by),
        *(entry.lease_until, now_state, agent.username if agent else None),
    )
    return True


def _ring_out(ctx: CenterContext, uow: ports.UnitOfWork, entry: Entry, now: datetime) -> bool:
    assert entry.offered_at is not None
    limit = timedelta(seconds=ctx.ring_timeout(entry.queue) + GRACE)
    if entry.offered_at + limit > now or not _agent_free_to_change(uow, entry):
        return False
    agent = uow.agents.get(entry.agent_id) if entry.agent_id is not None else None
    if not withdraw(uow, entry, Trigger.RING_TIMEOUT, Actor.REAPER, now, ctx.lease()):
        return False
    detail = {
        "entry": entry.id, "queue": entry.queue, "agent": agent.username if agent else None,
        "offered_at": entry.offered_at.isoformat(),
    }  # fmt: skip
    uow.audit.record(now, entry.call_id, entry.account_number, "queue_ring_timeout", detail)
    logger.warning(
        "reaper: entry %d (%s) rang %s without an answer since %s: back to the head of the "
        "line, the agent missed it",
        *(entry.id, entry.queue, agent.username if agent else None, entry.offered_at),
    )
    return True
