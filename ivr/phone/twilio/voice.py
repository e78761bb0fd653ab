"""The hotline over Twilio webhooks: one engine step (or one tick of the wait) per request.

Theory of operation
-------------------
Each webhook is one step of the call (``ivr.phone.twilio.steps``: claimed once, replayed
after, its state saved behind the ``CallStates`` port). The call's state (``memo``) is
JSON: the engine's ``CallState`` (never a PIN: the engine hands secure digits to the use
case within the one step), the queue entry, the hold state and the callback dialogue. The
reply that tells a callback code is saved without it (``callback:<id>`` or, for the
greeting of a callback call the customer answered, ``greeted:<id>``): a replay re-derives
the code (``ContactCenter.callback_code``).

A callback call (``/twilio/voice?callback=<id>``, placed by ``TwilioRest.call_back``) is
the same machinery (``ivr.phone.twilio.callback_call``): its first reply greets the
customer with their code, and its wait rings the agent the callback was offered to; the
status callback closes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from twilio.twiml.voice_response import VoiceResponse

from ivr.center import lifecycle as lc
from ivr.flow import actions as act
from ivr.flow.events import Digits, Event, HungUp, Recorded, Timeout
from ivr.flow.state import QUEUED, CallStart, CallState
from ivr.phone.twilio import twiml
from ivr.phone.twilio.call_state import CallStates
from ivr.phone.twilio.callback_call import GREETED, CallbackCall
from ivr.phone.twilio.dialogue import TOLD, WebhookDialogue
from ivr.phone.twilio.held import HeldCall
from ivr.phone.twilio.hold import WebhookHold
from ivr.phone.twilio.steps import Memo, Reply, Steps
from ivr.services.metrics import LIVE_CALLS

if TYPE_CHECKING:
    from ivr.phone.channel import Parts
    from ivr.phone.session import CallSession

logger = logging.getLogger(__name__)

CHANNEL = "twilio"
#: CallStatus values that mean the call is over.
FINAL = frozenset({"completed", "no-answer", "busy", "failed", "canceled"})
#: Final statuses of a call that was never answered.
UNANSWERED = FINAL - {"completed"}


@dataclass(frozen=True)
class Urls:
    """Builds the webhook URLs of a reply (``url(kind, **query)``)."""

    url: Callable[..., str]


@dataclass
class TwilioVoice:
    parts: Parts
    speech: twiml.Speech
    urls: Urls
    calls: CallStates

    @property
    def steps(self) -> Steps:
        return Steps(self.calls, self.parts.clock, self.urls.url, self._said_again)

    # -- the webhooks --------------------------------------------------------------------

    def voice(self, call_sid: str, caller: str, called: str) -> str:
        """A call comes in: start the flow (a replay gets the first reply again)."""
        now = self.parts.clock.now()
        memo: Memo = {
            "call": {"ani": caller, "dnid": called, "started_at": now.timestamp()},
            "began": now.timestamp(),
        }
        return self.steps.begin(call_sid, memo, now, lambda memo: self._start(call_sid, memo))

    def _began(self, call_sid: str, reply: Reply) -> Reply:
        LIVE_CALLS.began(CHANNEL, call_sid)
        return reply

    def callback_call(self, call_sid: str, callback_id: int, customer: str) -> str:
        """The customer answered a callback call (``TwilioRest.call_back``): who is
        calling, why, their reference code twice, then the wait rings the agent."""
        now = self.parts.clock.now()
        memo: Memo = {
            "call": {"ani": customer, "dnid": "", "started_at": now.timestamp()},
            "began": now.timestamp(),
            "callback": callback_id,
        }
        answered = self._callback(memo).answered
        return self.steps.begin(
            call_sid, memo, now, lambda memo: self._began(call_sid, answered(call_sid, memo))
        )

    def gather(self, call_sid: str, step: int, digits: str | None) -> str:
        event: Event = Digits(digits) if digits else Timeout()
        return self.steps.advance(call_sid, step, lambda memo: self._answer(call_sid, memo, event))

    def wait(self, call_sid: str, step: int, digits: str | None) -> str:
        return self.steps.advance(call_sid, step, lambda memo: self._tick(call_sid, memo, digits))

    def dialed(self, call_sid: str, step: int, status: str) -> str:
        """The ``<Dial action>``: a completed talk goes on to the queue's ``after_agent``
        node (the survey) while the caller is still on the line."""
        return self.steps.advance(call_sid, step, lambda memo: self._dialed(call_sid, memo, status))

    def recorded(self, call_sid: str, step: int, recording: Recorded) -> str:
        """``<Record action>`` (or its ``<Redirect>`` when nothing was recorded)."""
        return self.steps.advance(
            call_sid, step, lambda memo: self._answer(call_sid, memo, recording)
        )

    def answered(self, entry_id: int) -> None:
        """The agent picked up (Twilio runs the ``<Client url>`` on the agent's leg)."""
        center = self.parts.contact_center
        if lc.allowed(lc.ENTRY, center.place(entry_id).entry.state, lc.Trigger.ANSWER):
            center.connected(entry_id)

    def status(self, call_sid: str, status: str) -> None:
        """The call status callback: a final status closes the call."""
        if status not in FINAL:
            return
        found = self.calls.get(call_sid)
        if found is None or found.memo.get("closed"):
            return
        step = found.step + 1
        claimed = self.calls.claim(call_sid, step, self.parts.clock.now())
        if claimed is None:
            return
        memo = dict(claimed)
        LIVE_CALLS.ended(CHANNEL, call_sid)
        try:
            self._close(call_sid, memo)
        except Exception:
            logger.exception("call %s: could not close it", call_sid)
        memo["closed"] = True
        self.calls.save(call_sid, step, memo, twiml.xml(twiml.apology()), self.parts.clock.now())

    def callback_status(self, call_sid: str, callback_id: int, status: str) -> None:
        """The status callback of a callback call: a call that never reached the voice
        webhook (no answer, busy, failed, canceled, or answered but our webhook never
        served) is a failed attempt, retried later; an answered one closes like any call."""
        if status not in FINAL:
            return
        if status in UNANSWERED or self.calls.get(call_sid) is None:
            center = self.parts.contact_center
            try:
                kept = center.callback_failed(callback_id, f"Twilio: {status}")
            except LookupError:
                logger.warning("call %s (%s) for no callback %d", call_sid, status, callback_id)
                return
            logger.info("callback %d: %s %s, now %s", callback_id, call_sid, status, kept.state)
            return
        self.status(call_sid, status)

    # -- the flow ------------------------------------------------------------------------

    def _session(self, call_sid: str, memo: Memo) -> CallSession:
        call = memo["call"]
        start = CallStart(call_sid, call["ani"], call["dnid"], None, call["started_at"])
        session = self.parts.session(start, CHANNEL, holds=True)
        # The record's end time counts from when the call began, not from this request.
        session._began = datetime.fromtimestamp(memo["began"], UTC)  # noqa: SLF001
        if "state" in memo:
            session.state = CallState.from_dict(memo["state"])
            session.queue = memo.get("queue")
            session.talked = bool(memo.get("talked"))
            # Opened at the first step; a call that ended was closed then, unless it was
            # queued: a held caller's record is closed by the status callback.
            session.resumed(closed=session.state.ended and session.state.outcome != QUEUED)
        return session

    def _start(self, call_sid: str, memo: Memo) -> Reply:
        LIVE_CALLS.began(CHANNEL, call_sid)
        session = self._session(call_sid, memo)
        return self._after(session, memo, session.start())

    def _answer(self, call_sid: str, memo: Memo, event: Event) -> Reply:
        session = self._session(call_sid, memo)
        if session.state is None or session.ended:
            return memo, twiml.apology(str(memo.get("language", "en")))
        return self._after(session, memo, session.answer(event))

    def _after(self, session: CallSession, memo: Memo, actions: list[act.Action]) -> Reply:
        assert session.state is not None
        memo["state"] = session.state.to_dict()
        memo["language"] = session.state.language
        memo["queue"] = session.queue
        step = int(memo["step"]) + 1
        url = self.urls.url
        response = twiml.flow_reply(
            actions,
            self.speech,
            action=url("gather", step=step),
            timed_out=url("gather", step=step, timeout=1),
            wait=url("wait", step=step),
            recorded=url("recorded", step=step),
            not_recorded=url("recorded", step=step, timeout=1),
        )
        last = actions[-1] if actions else None
        if isinstance(last, act.Enqueue):
            memo = self._hold(memo).join(session, last, memo)
        return memo, response

    def _dialed(self, call_sid: str, memo: Memo, status: str) -> Reply:
        memo, response = self._hold(memo).dialed(memo, status)
        if status != "completed" or not memo.get("done"):
            return memo, response
        session = self._session(call_sid, memo)
        try:
            actions = session.after_agent()
        except Exception:  # the talk is over: whatever the survey's trouble, say goodbye
            logger.exception("call %s: the survey after the agent failed", call_sid)
            return memo, response
        if actions is None:
            return memo, response
        memo = {**memo, "talked": True, "hold": None, "policy": None}
        return self._after(session, memo, actions)

    def _tick(self, call_sid: str, memo: Memo, digits: str | None) -> Reply:
        """A tick of the wait; when the queue's policy sends the caller on (``goto``),
        the flow resumes at that node in this same request, after what the tick said."""
        memo, response = self._hold(memo).tick(memo, digits)
        node = memo.pop("goto", None)
        if node is None:
            return memo, response
        session = self._session(call_sid, memo)
        memo = {**memo, "entry": None, "hold": None, "policy": None, "done": False}
        memo, flow = self._after(session, memo, session.divert(str(node)))
        for verb in flow.verbs:
            response.append(verb)
        return memo, response

    def _held(self, memo: Memo) -> HeldCall:
        language = str(memo.get("language", "en"))
        return HeldCall(self.parts, self.speech, self.urls.url, language)

    def _hold(self, memo: Memo) -> WebhookHold:
        return WebhookHold(self._held(memo))

    def _callback(self, memo: Memo) -> CallbackCall:
        return CallbackCall(self._held(memo))

    def _said_again(self, saved: str, memo: Memo) -> VoiceResponse | None:
        """A reply saved as ``callback:<id>`` or ``greeted:<id>``, with the code
        re-derived; None for any other saved reply."""
        kind, _, told = saved.partition(":")
        if kind == TOLD and told.isdigit():
            return WebhookDialogue(self._held(memo)).told(int(told))
        if kind == GREETED and told.isdigit():
            return self._callback(memo).greeting(memo, int(told))
        return None

    def _close(self, call_sid: str, memo: Memo) -> None:
        entry = memo.get("entry")
        if entry is not None:
            self.parts.contact_center.caller_left(int(entry))
        if memo.get("callback") is not None:
            self._callback(memo).closed(call_sid, memo)
        if "state" in memo:
            session = self._session(call_sid, memo)
            if not session.ended:
                session.answer(HungUp())  # the record: abandoned at the node
            session.close_record()  # a queued caller's, kept open through the hold
