"""Callbacks: a waiting caller's place kept while they hang up (virtual hold), a six-digit
reference code to prove it is us calling (or to phone back and take the place over), and
a dialler that never calls one request twice. Part of ``ContactCenter``.

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
from ivr.services import contact_ports as cp
from ivr.services import ports, tokens
from ivr.services.contact_ports import Assignment, Callback, Refused, ResumeResult
from ivr.services.contact_views import RING_MARGIN, ContactViews

logger = logging.getLogger(__name__)

CALLBACK_TTL = timedelta(hours=24)
MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=5)
#: How long the customer's phone rings (seconds) when the dialler does not say (the call
#: file's WaitTime, Twilio's timeout: ``CallbackSettings.ring_seconds``).
DIAL_SECONDS = 30
_SALT_TRIES = 20

#: Why ``call_now`` refuses a callback, by its state.
_NOT_WAITING = {
    cp.CB_DIALING: "callback is being dialled",
    cp.CB_CONNECTED: "callback already dialled",
    cp.CB_DONE: "callback already done",
    cp.CB_FAILED: "callback failed after its last attempt",
    cp.CB_EXPIRED: "callback expired",
    cp.CB_CANCELLED: "callback cancelled: the caller phoned back",
}


class CallbackRefused(IvrError):
    """``request_callback`` on an entry that cannot become a callback (not waiting)."""


class CallbackDesk(ContactViews):
    def request_callback(self, entry_id: int, number: str) -> tuple[Callback, str]:
        """Turn a waiting live call into a callback at ``number``: the entry keeps its
        place (enqueued_at). Returns the callback and its code (to say to the caller).
        Raises ``CallbackRefused`` if the entry is no longer waiting."""
        key = self._key()
        now = self.clock.now()
        with self.unit_of_work() as uow:
            entry = self._locked_with_agent(uow, entry_id)
            asked = lc.allowed(lc.ENTRY, entry.state, Trigger.CALLBACK_REQUESTED)
            if not asked or entry.kind != cp.CALL:
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
            self._entry_to(  # nobody holds a callback: no lease
                uow, entry, Trigger.CALLBACK_REQUESTED, Actor.CALLER, kind=cp.CALLBACK,
                callback_id=callback.id, expires_at=expires, lease_until=None, held_by=None,
            )  # fmt: skip
            detail = {**self._about(entry), "callback": callback.id, "to_last4": number[-4:]}
            uow.audit.record(now, entry.call_id, entry.account_number, "callback_requested", detail)
            uow.commit()
            return callback, code

    def resume(self, code: str, caller_id: str, call_id: str) -> ResumeResult:
        """A caller phoning back with their code takes over the callback's place: the
        entry is held (``resumed``) for this call's ``enqueue(resume_entry=...)``, the
        callback is cancelled (used). Wrong codes lock the caller number out like PINs."""
        key = self._key()
        now = self.clock.now()
        with self.unit_of_work() as uow:
            failures = uow.code_attempts.failures_since(
                caller_id, now - tokens.WRONG_CODES.lookback
            )
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
            outcome = self._take_back(uow, found, caller_id, call_id, now)
            entry = uow.queue.get(found.entry_id)
            callback = uow.callbacks.get(found.id)
            detail = {"callback": found.id, "outcome": outcome, "entry": found.entry_id}
            uow.audit.record(now, call_id, found.account_number, "callback_resumed", detail)
            uow.commit()
            return ResumeResult(outcome, callback, entry if outcome == "ok" else None)

    def _take_back(
        self, uow: ports.UnitOfWork, found: Callback, caller_id: str, call_id: str, now: datetime
    ) -> str:
        entry = self._locked_with_agent(uow, found.entry_id)
        callback = uow.callbacks.lock(found.id)
        assert callback is not None
        if callback.state == lc.CB_WAITING and callback.expires_at <= now:
            self._expire(uow, callback.id, entry, now, Actor.CALLER)
            return "expired"
        if callback.state in (lc.CB_EXPIRED, lc.CB_FAILED):
            return "expired"
        resumable = lc.allowed(lc.CALLBACK, callback.state, Trigger.RESUME)
        if not resumable or not lc.allowed(lc.ENTRY, entry.state, Trigger.RESUME):
            return "used"
        self._entry_to(  # held (leased) by this process until the call takes it over
            uow, entry, Trigger.RESUME, Actor.CALLER, kind=cp.CALL, call_id=call_id,
            caller_id=caller_id, expires_at=None, not_before=None,
            lease_until=now + self.lease(), held_by=self.holder,
        )  # fmt: skip
        self._callback_to(uow, callback.id, Trigger.RESUME, Actor.CALLER, used_at=now)
        uow.code_attempts.record(caller_id, call_id, now, True)
        return "ok"

    def callback_code(self, callback_id: int) -> str:
        """The callback's code, re-derived from its salt (said on the callback call)."""
        with self.unit_of_work() as uow:
            salt = uow.callbacks.salt(callback_id)
        if salt is None:
            raise LookupError(f"no callback {callback_id}")
        return tokens.derive_code(self._key(), salt)

    def due_callbacks(self, ring_seconds: int = DIAL_SECONDS) -> list[Assignment]:
        """Callback entries ``dispatch`` offered to an agent and not yet being dialled,
        each claimed ``waiting -> dialing`` (one attempt) and returned once only. Each
        claimed entry gets this process's lease for the attempt: the customer's phone
        ringing ``ring_seconds``, the queue's ring timeout and a margin; an attempt whose
        end nobody reports by then is counted failed by the reaper."""
        now = self.clock.now()
        claimed = []
        with self.unit_of_work() as uow:
            for entry in uow.queue.offered_callbacks():
                if entry.callback_id is None or entry.agent_id is None:
                    continue
                callback = uow.callbacks.get(entry.callback_id)
                dialled = Trigger.CALLBACK_DIALLED
                if callback is None or not lc.allowed(lc.CALLBACK, callback.state, dialled):
                    continue
                if callback.expires_at <= now:
                    uow.agents.lock(entry.agent_id)  # the lock order: agent, entry, callback
                    self._expire(uow, callback.id, entry, now, Actor.DIALLER)
                    continue
                if not self._callback_to(
                    uow, callback.id, dialled, Actor.DIALLER, attempts=callback.attempts + 1,
                    last_attempt_at=now,
                ):  # fmt: skip
                    continue  # another dialler took it
                ring = ring_seconds + self.ring_timeout(entry.queue) + RING_MARGIN
                uow.queue.change(
                    entry.id, expect=(entry.state,), held_by=self.holder,
                    lease_until=now + timedelta(seconds=ring),
                )  # fmt: skip
                agent = uow.agents.get(entry.agent_id)
                assert agent is not None
                claimed.append(Assignment(entry, agent))
                detail = {"callback": callback.id, "attempt": callback.attempts + 1}
                uow.audit.record(
                    now, entry.call_id, entry.account_number, "callback_dialled", detail
                )
            uow.commit()
        return claimed

    def callback_answered(self, callback_id: int, call_id: str | None = None) -> bool:
        """The person called back answered (on the call ``call_id``: its record's). This
        process holds them from now on: the entry's lease covers the greeting, then each
        ``place`` renews it. An attempt given up meanwhile (its lease ran out, the agent
        went offline) is taken up again: the customer is on the line. False if the
        callback or its entry is over (nothing changes)."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            found = uow.callbacks.get(callback_id)
            if found is None:
                return False
            entry = self._locked_with_agent(uow, found.entry_id)
            answered = Trigger.CALLBACK_ANSWERED
            if entry.state not in lc.HELD:
                return False
            values = {} if call_id is None else {"call_id": call_id}
            if not self._callback_to(uow, callback_id, answered, Actor.DIALLER, **values):
                return False
            # the greeting (the code read twice) comes before the first tick's ``place``
            until = now + self.lease() + timedelta(seconds=RING_MARGIN)
            uow.queue.change(
                entry.id, expect=(entry.state,), lease_until=until, held_by=self.holder,
                not_before=None,
            )  # fmt: skip
            detail = {"callback": callback_id, "entry": entry.id, "was": found.state}
            uow.audit.record(now, entry.call_id, entry.account_number, "callback_answered", detail)
            uow.commit()
            return True

    def callback_failed(self, callback_id: int, why: str) -> Callback:
        """The person did not answer (busy, no answer, ...): try again in 5 minutes, in
        the same place in line, up to 3 attempts in all; then the callback has failed.
        The agent it was offered to is free again."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
            callback = uow.callbacks.get(callback_id)
            if callback is None:
                raise LookupError(f"no callback {callback_id}")
            entry = self._locked_with_agent(uow, callback.entry_id)
            locked = uow.callbacks.lock(callback_id)
            assert locked is not None
            last = locked.attempts >= locked.max_attempts
            trigger = Trigger.CALLBACK_GAVE_UP if last else Trigger.CALLBACK_FAILED
            if not lc.allowed(lc.CALLBACK, locked.state, trigger):
                return locked  # already settled: a second report changes nothing
            self._attempt_over(uow, entry, locked, trigger, Actor.DIALLER, now)
            detail = {"callback": callback_id, "attempts": locked.attempts, "why": why[:200]}
            uow.audit.record(now, entry.call_id, entry.account_number, "callback_failed", detail)
            uow.commit()
            changed = uow.callbacks.get(callback_id)
            assert changed is not None
            return changed

    def _attempt_over(
        self,
        uow: ports.UnitOfWork,
        entry: cp.Entry,
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
            if not self._entry_to(uow, entry, trigger, actor, **values):
                return False
        if entry.state == lc.OFFERED and entry.agent_id is not None:
            self._agent_to(uow, entry.agent_id, trigger, actor, now)
        self._callback_to(uow, callback.id, trigger, actor)
        return True

    def call_now(self, callback_id: int, agent_id: int) -> Assignment | Refused:
        """An agent takes a waiting callback out of turn: it is offered to them (and
        ``due_callbacks`` dials it). Refused unless the callback is waiting."""
        now = self.clock.now()
        with self.unit_of_work() as uow:
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
                self._expire(uow, callback.id, entry, now, Actor.AGENT)
                uow.commit()
                return Refused("callback expired")
            if not lc.allowed(lc.ENTRY, entry.state, Trigger.OFFER):
                return Refused("callback already offered to an agent")
            if not agent.free_at(now) or not uow.agents.take(agent_id, now, entry.id):
                return Refused(f"agent is {agent.state.replace('_', ' ')}")
            self._entry_to(
                uow, entry, Trigger.OFFER, Actor.AGENT, agent_id=agent_id, not_before=None,
                offered_at=now,
            )  # fmt: skip
            detail = {"callback": callback_id, "agent": agent.username}
            uow.audit.record(now, entry.call_id, entry.account_number, "callback_call_now", detail)
            uow.commit()
            offered, ringing = uow.queue.get(entry.id), uow.agents.get(agent_id)
            assert offered is not None and ringing is not None
            return Assignment(offered, ringing)

    def _expire(
        self, uow: ports.UnitOfWork, callback_id: int, entry: cp.Entry, now: datetime, actor: str
    ) -> None:
        """A callback past its 24 hours is never dialled; an agent it was offered to is
        free again."""
        expired = Trigger.CALLBACK_EXPIRED
        self._callback_to(uow, callback_id, expired, actor)
        if lc.allowed(lc.ENTRY, entry.state, expired):
            self._entry_to(uow, entry, expired, actor, ended_at=now)
        if entry.state == lc.OFFERED and entry.agent_id is not None:
            self._agent_to(uow, entry.agent_id, expired, actor, now)
