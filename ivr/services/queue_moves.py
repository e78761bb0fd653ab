"""A supervisor moves a waiting caller to another queue of the flow (``move``).

Only a ``waiting`` live caller moves. An offered one is refused (its agent's phone is
ringing: withdrawing the offer would put it back at the head of the old queue anyway, so
the supervisor waits the few seconds or sets the agent offline first); a connected or
ended one has nothing left to move; a callback waiting for its dial is refused too (its
callback row keeps the queue it was asked from).

The caller keeps their place by time: ``enqueued_at`` is not touched, so in the new
queue they stand behind whoever has waited longer there (at its priority). The entry
takes the new queue's skill and priority from the flow's queue definitions. The change
is one compare-and-set on ``state = 'waiting'`` inside one unit of work, so an offer made
meanwhile wins and the move is refused with nothing changed. A caller on hold hears the
new position at the next tick: the holder reads the entry afresh (``queue_desk.place``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ivr.center import lifecycle as lc
from ivr.services.contact_context import CenterContext
from ivr.services.contact_entries import Entry, Refused

logger = logging.getLogger(__name__)

#: ``Refused.reason`` for an entry id nobody has (a 404, not a 409).
NO_SUCH_ENTRY = "no such queue entry"


@dataclass(frozen=True)
class QueueTarget:
    """A queue of the flow as a move needs it (``Flow.queues``: its skill and priority)."""

    name: str
    skill: str
    priority: int


def move(ctx: CenterContext, entry_id: int, target: QueueTarget, actor: str) -> Entry | Refused:
    """Move the waiting entry to ``target``; audited (``queue_moved``) with who, from
    and to. ``actor``: who did it (``agent:<username>``)."""
    now = ctx.clock.now()
    with ctx.unit_of_work() as uow:
        entry = uow.queue.lock(entry_id)
        if entry is None:
            return Refused(NO_SUCH_ENTRY)
        if entry.kind != "call":
            return Refused(f"entry {entry_id} is a callback: only a live caller is moved")
        if entry.state != lc.WAITING:
            return Refused(_not_waiting(entry))
        if entry.queue == target.name:
            return Refused(f"caller {entry_id} is in queue {target.name} already")
        moved = uow.queue.change(
            entry.id,
            expect=(lc.WAITING,),
            queue=target.name,
            skill=target.skill,
            priority=target.priority,
        )
        if not moved:
            uow.rollback()
            return Refused(f"caller {entry_id} was offered to an agent meanwhile: not moved")
        detail = {"entry": entry.id, "from": entry.queue, "to": target.name, "by": actor}
        uow.audit.record(now, entry.call_id, entry.account_number, "queue_moved", detail, actor)
        uow.commit()
        logger.info("entry %s moved from %s to %s by %s", entry.id, entry.queue, target.name, actor)
        changed = uow.queue.get(entry.id)
        assert changed is not None
        return changed


def _not_waiting(entry: Entry) -> str:
    if entry.state == lc.OFFERED:
        return (
            f"caller {entry.id} is being offered to an agent: only a waiting caller is moved "
            "(try again once the offer ends, or set the agent offline)"
        )
    return f"caller {entry.id} is {entry.state.replace('_', ' ')}: only a waiting caller is moved"
