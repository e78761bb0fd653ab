"""The contact center: the queue, live agents, callbacks with reference codes.

``ContactCenter`` is the one object the drivers (phone), the web console and the
dispatcher hold. It keeps no rules of its own: it holds the shared ``CenterContext``
and hands each call to the desk whose use case it is (``queue_desk``, ``agent_desk``,
``callback_desk``, ``callback_dialler``, ``contact_views``, ``reaper``; functions over
the context). Each use case is one unit of work. Refusals a person can cause (a
callback already dialled, an agent on a call) come back as ``Refused``/``ResumeResult``
values; a use case raises only for a caller's bug (an unknown entry id) or a broken
store.

Theory of operation. An entry is claimed by exactly one agent because every claim is a
compare-and-set inside one transaction, in one lock order: agent row, then entry row,
then callback row. On PostgreSQL the agent and the entry are picked ``FOR UPDATE SKIP
LOCKED`` (so concurrent dispatchers take different rows instead of queueing); on SQLite
the unit of work holds the process-wide writer lock, and the compare-and-set updates
(``... WHERE state = 'waiting'``) keep two processes from both winning. Callbacks ride
the same queue (a callback entry keeps the enqueued_at of the call that asked for it),
so ``dispatch`` offers them in the same order as live calls; ``due_callbacks`` then
claims each offered callback ``waiting -> dialing`` once for the dialler.

Every move is looked up in ``ivr.center.lifecycle`` (the one transition table) and made
as a compare-and-set on the state it was read in (``contact_moves``). A live caller's
entry carries a lease its holder renews (``place``, ``renew``), and so does a callback
from the claim of an attempt to its end; the reaper (``ivr.services.reaper``) ends the
entries whose holder stopped renewing (a lapsed dial attempt counts as failed) and takes
back offers nobody answered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import timedelta

from ivr.services import (
    agent_desk,
    callback_desk,
    callback_dialler,
    contact_views,
    ports,
    queue_desk,
    queue_moves,
    reaper,
)
from ivr.services.callback_desk import CallbackRefused
from ivr.services.contact_agents import DISPOSITIONS, Agent, Note
from ivr.services.contact_callbacks import Callback, ResumeResult
from ivr.services.contact_context import CenterContext, CenterSettings, default_holder
from ivr.services.contact_entries import Entry, Refused, WaitingCall
from ivr.services.contact_snapshots import AgentNow, Assignment, Desk, Place, QueueStats
from ivr.services.queue_moves import QueueTarget
from ivr.services.reaper import Reaped

__all__ = [
    "DISPOSITIONS", "Agent", "Assignment", "Callback", "CallbackRefused", "CenterSettings",
    "ContactCenter", "Desk", "Entry", "Note", "Place", "QueueStats", "Refused",
    "ResumeResult", "WaitingCall",
]  # fmt: skip


class ContactCenter:
    """The phone side (drivers), the dispatcher's and the agent side (web console, API)
    of the queue, over one ``CenterContext``. ``ring_timeouts``: seconds an offer rings,
    per queue (others: 20); ``holder``: who holds the callers this process enqueues
    (shown to supervisors; by default ``host:pid``); ``pause``: how a retry of a busy or
    lost store waits (a call's greenlet on an event loop must wait on the loop)."""

    def __init__(
        self,
        unit_of_work: Callable[[], ports.UnitOfWork],
        clock: ports.Clock,
        settings: CenterSettings,
        ring_timeouts: Mapping[str, int] | None = None,
        holder: str | None = None,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        timeouts: Mapping[str, int] = {} if ring_timeouts is None else ring_timeouts
        self.context = CenterContext(
            unit_of_work, clock, settings, timeouts, holder or default_holder(), pause
        )

    @property
    def holder(self) -> str:
        return self.context.holder

    def ring_timeout(self, queue: str) -> int:
        """Seconds an agent's phone rings for an offer from ``queue``."""
        return self.context.ring_timeout(queue)

    def lease(self) -> timedelta:
        """How long an entry lives after its holder last renewed it."""
        return self.context.lease()

    # -- the phone side and the dispatcher (queue_desk, reaper) ----------------------------

    def enqueue(self, call: WaitingCall) -> Entry:
        return queue_desk.enqueue(self.context, call)

    def place(self, entry_id: int) -> Place:
        return queue_desk.place(self.context, entry_id)

    def renew(self, entry_id: int) -> bool:
        return queue_desk.renew(self.context, entry_id)

    def dispatch(self) -> list[Assignment]:
        return queue_desk.dispatch(self.context)

    def claim_next(self, agent_id: int) -> Assignment | None:
        return queue_desk.claim_next(self.context, agent_id)

    def connected(self, entry_id: int) -> None:
        queue_desk.connected(self.context, entry_id)

    def finished(self, entry_id: int) -> None:
        queue_desk.finished(self.context, entry_id)

    def not_answered(self, entry_id: int) -> None:
        queue_desk.not_answered(self.context, entry_id)

    def caller_left(self, entry_id: int) -> None:
        queue_desk.caller_left(self.context, entry_id)

    def abandoned(self, entry_id: int) -> None:
        queue_desk.abandoned(self.context, entry_id)

    def left_line(self, entry_id: int, trigger: str) -> bool:
        return queue_desk.left_line(self.context, entry_id, trigger)

    def reap(self) -> Reaped:
        return reaper.reap(self.context)

    # -- the agent's console (agent_desk) -----------------------------------------------

    def authenticate(self, username: str, password: str) -> Agent | None:
        return agent_desk.authenticate(self.context, username, password)

    def agent(self, agent_id: int) -> Agent | None:
        return agent_desk.agent(self.context, agent_id)

    def set_availability(self, agent_id: int, available: bool) -> Agent | Refused:
        return agent_desk.set_availability(self.context, agent_id, available)

    def force_offline(self, agent_id: int, by: Agent | None) -> Agent | Refused:
        return agent_desk.force_offline(self.context, agent_id, by)

    def pause(self, agent_id: int, reason: str, by: Agent | None) -> Agent | Refused:
        return agent_desk.pause(self.context, agent_id, reason, by)

    def desk(self, agent_id: int) -> Desk:
        return agent_desk.desk(self.context, agent_id)

    def complete(self, agent_id: int, entry_id: int, disposition: str, text: str) -> Note | Refused:
        return agent_desk.complete(self.context, agent_id, entry_id, disposition, text)

    # -- callbacks (callback_desk, callback_dialler) --------------------------------------

    def request_callback(self, entry_id: int, number: str) -> tuple[Callback, str]:
        return callback_desk.request_callback(self.context, entry_id, number)

    def resume(self, code: str, caller_id: str, call_id: str) -> ResumeResult:
        return callback_desk.resume(self.context, code, caller_id, call_id)

    def callback_code(self, callback_id: int) -> str:
        return callback_desk.callback_code(self.context, callback_id)

    def call_now(self, callback_id: int, agent_id: int) -> Assignment | Refused:
        return callback_desk.call_now(self.context, callback_id, agent_id)

    def due_callbacks(self, ring_seconds: int = callback_dialler.DIAL_SECONDS) -> list[Assignment]:
        return callback_dialler.due_callbacks(self.context, ring_seconds)

    def callback_answered(self, callback_id: int, call_id: str | None = None) -> bool:
        return callback_dialler.callback_answered(self.context, callback_id, call_id)

    def callback_failed(self, callback_id: int, why: str) -> Callback:
        return callback_dialler.callback_failed(self.context, callback_id, why)

    # -- read-only views (contact_views) -------------------------------------------------

    def queue_view(self) -> list[Place]:
        return contact_views.queue_view(self.context)

    def agents_view(self) -> list[Agent]:
        return contact_views.agents_view(self.context)

    def agents_now(self) -> list[AgentNow]:
        return contact_views.agents_now(self.context)

    def entry(self, entry_id: int) -> Entry | None:
        return contact_views.entry(self.context, entry_id)

    def callback(self, callback_id: int) -> Callback | None:
        return contact_views.callback(self.context, callback_id)

    def callbacks_view(self) -> list[Callback]:
        return contact_views.callbacks_view(self.context)

    def stats(self) -> dict[str, QueueStats]:
        return contact_views.stats(self.context)

    # -- supervisors' moves (queue_moves) ------------------------------------------------

    def move(self, entry_id: int, target: QueueTarget, actor: str) -> Entry | Refused:
        """Move a waiting caller to another queue of the flow (``queue_moves``)."""
        return queue_moves.move(self.context, entry_id, target, actor)
