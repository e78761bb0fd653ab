"""The hotline over Twilio webhooks: one engine step (or one tick of the wait) per request.

Theory of operation
-------------------
Each webhook carries ``step=N`` in its URL. The call's row (``ivr.store.twilio_calls``)
is at step N-1 until a process claims N with a conditional update; that process applies
the request (digits, a timeout, a tick of the wait, the end of a Dial), saves the new
state and the reply, and returns it. A replay of step N (Twilio retries) gets the saved
reply back and applies nothing; a request racing the winner gets a short pause and a
redirect to itself. The call's state (``memo``) is JSON: the engine's ``CallState`` (never
a PIN: the engine hands secure digits to the use case within the one step), the queue
entry, the hold state and the callback dialogue. The reply that tells a callback code is
saved without it (``callback:<id>`` or, for the greeting of a callback call the customer
answered, ``greeted:<id>``): a replay re-derives the code (``ContactCenter.callback_code``).

A callback call (``/twilio/voice?callback=<id>``, placed by ``TwilioRest.call_back``) is
the same machinery: its first reply greets the customer with their code, and its wait
rings the agent the callback was offered to; the status callback closes it. Its record
(``ivr.phone.callback_record``) is opened as the customer answers and closed by the
status callback: ``agent`` after a talk, else ``abandoned``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from twilio.twiml.voice_response import VoiceResponse

from ivr.center import lifecycle as lc
from ivr.flow import actions as act
from ivr.flow.events import Digits, Event, HungUp, Timeout
from ivr.flow.state import QUEUED, CallStart, CallState
from ivr.phone import callback_record
from ivr.phone.session import CallSession
from ivr.phone.twilio import twiml
from ivr.phone.twilio.hold import GREETED, TOLD, Waiting
from ivr.store.twilio_calls import TwilioCall, TwilioCalls

if TYPE_CHECKING:
    from ivr.app.bootstrap import Hotline

logger = logging.getLogger(__name__)

CHANNEL = "twilio"
#: A claimed step with no reply after this long is given up (the process died).
STALE_SECONDS = 30
#: CallStatus values that mean the call is over.
FINAL = frozenset({"completed", "no-answer", "busy", "failed", "canceled"})
#: Final statuses of a call that was never answered.
UNANSWERED = FINAL - {"completed"}

Work = Callable[[dict[str, Any]], tuple[dict[str, Any], VoiceResponse]]


@dataclass(frozen=True)
class Urls:
    """Builds the webhook URLs of a reply (``url(kind, **query)``)."""

    url: Callable[..., str]


@dataclass
class TwilioVoice:
    hotline: Hotline
    speech: twiml.Speech
    urls: Urls

    @property
    def calls(self) -> TwilioCalls:
        return TwilioCalls(self.hotline.sessions)

    def _now(self) -> datetime:
        return self.hotline.clock.now()

    # -- the webhooks --------------------------------------------------------------------

    def voice(self, call_sid: str, caller: str, called: str) -> str:
        """A call comes in: start the flow (a replay gets the first reply again)."""
        now = self._now()
        memo: dict[str, Any] = {
            "call": {"ani": caller, "dnid": called, "started_at": now.timestamp()},
            "began": now.timestamp(),
        }
        if not self.calls.create(call_sid, memo, now):
            return self._replay(call_sid, 0)
        return self._run(call_sid, 0, memo, lambda memo: self._start(call_sid, memo))

    def callback_call(self, call_sid: str, callback_id: int, customer: str) -> str:
        """The customer answered a callback call (``TwilioRest.call_back``): who is
        calling, why, their reference code twice, then the wait rings the agent."""
        now = self._now()
        memo: dict[str, Any] = {
            "call": {"ani": customer, "dnid": "", "started_at": now.timestamp()},
            "began": now.timestamp(),
            "callback": callback_id,
        }
        if not self.calls.create(call_sid, memo, now):
            return self._replay(call_sid, 0)
        return self._run(call_sid, 0, memo, lambda memo: self._callback_answered(call_sid, memo))

    def gather(self, call_sid: str, step: int, digits: str | None) -> str:
        event: Event = Digits(digits) if digits else Timeout()
        return self.advance(call_sid, step, lambda memo: self._answer(call_sid, memo, event))

    def wait(self, call_sid: str, step: int, digits: str | None) -> str:
        return self.advance(call_sid, step, lambda memo: self._tick(call_sid, memo, digits))

    def dialed(self, call_sid: str, step: int, status: str) -> str:
        return self.advance(call_sid, step, lambda memo: self._waiting(memo).dialed(memo, status))

    def answered(self, entry_id: int) -> None:
        """The agent picked up (Twilio runs the ``<Client url>`` on the agent's leg)."""
        center = self.hotline.contact_center
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
        if not self.calls.claim(call_sid, step, self._now()):
            return
        memo = dict(found.memo)
        try:
            self._close(call_sid, memo)
        except Exception:
            logger.exception("call %s: could not close it", call_sid)
        memo["closed"] = True
        self.calls.save(call_sid, step, memo, twiml.xml(twiml.apology()), self._now())

    def callback_status(self, call_sid: str, callback_id: int, status: str) -> None:
        """The status callback of a callback call: a call that never reached the voice
        webhook (no answer, busy, failed, canceled, or answered but our webhook never
        served) is a failed attempt, retried later; an answered one closes like any call."""
        if status not in FINAL:
            return
        if status in UNANSWERED or self.calls.get(call_sid) is None:
            center = self.hotline.contact_center
            try:
                kept = center.callback_failed(callback_id, f"Twilio: {status}")
            except LookupError:
                logger.warning("call %s (%s) for no callback %d", call_sid, status, callback_id)
                return
            logger.info("callback %d: %s %s, now %s", callback_id, call_sid, status, kept.state)
            return
        self.status(call_sid, status)

    # -- steps ---------------------------------------------------------------------------

    def advance(self, call_sid: str, step: int, work: Work) -> str:
        found = self.calls.get(call_sid)
        if found is None:
            logger.warning("webhook for unknown call %s (step %d): ended politely", call_sid, step)
            return twiml.xml(twiml.apology())
        if step == found.step + 1 and self.calls.claim(call_sid, step, self._now()):
            return self._run(call_sid, step, found.memo, work)
        return self._replay(call_sid, step)

    def _run(self, call_sid: str, step: int, memo: dict[str, Any], work: Work) -> str:
        memo = {**memo, "step": step}
        try:
            memo, response = work(dict(memo))
        except Exception:
            logger.exception("call %s: step %d failed", call_sid, step)
            response = twiml.apology(str(memo.get("language", "en")))
        xml = twiml.xml(response)
        told = memo.pop("told", None)  # a reply saying a callback code is saved without it
        saved = xml if told is None else str(told)
        self.calls.save(call_sid, step, memo, saved, self._now())
        return xml

    def _replay(self, call_sid: str, step: int) -> str:
        found = self.calls.get(call_sid)
        if found is None or found.step != step:
            logger.warning("call %s: webhook step %d, the call is at %s", call_sid, step,
                           found.step if found else None)  # fmt: skip
            return twiml.xml(twiml.apology())
        if found.reply is None:  # another process is on it
            age = (self._now() - found.updated_at).total_seconds()
            if age > STALE_SECONDS:
                return twiml.xml(twiml.apology())
            response = VoiceResponse()
            response.pause(length=1)
            response.redirect(self._current_url(found), method="POST")
            return twiml.xml(response)
        kind, _, told = found.reply.partition(":")
        if kind in (TOLD, GREETED) and told.isdigit():  # re-derive the code said
            waiting = self._waiting(found.memo)
            if kind == TOLD:
                return twiml.xml(waiting.told(found.memo, int(told)))
            return twiml.xml(waiting.greeting(found.memo, int(told)))
        return found.reply

    def _current_url(self, found: TwilioCall) -> str:
        kind = "wait" if found.memo.get("entry") is not None else "gather"
        return self.urls.url(kind, step=found.step)

    # -- the flow ------------------------------------------------------------------------

    def _session(self, call_sid: str, memo: dict[str, Any]) -> CallSession:
        call = memo["call"]
        start = CallStart(call_sid, call["ani"], call["dnid"], None, call["started_at"])
        session = self.hotline.session(start, CHANNEL, holds=True)
        # The record's end time counts from when the call began, not from this request.
        session._began = datetime.fromtimestamp(memo["began"], UTC)  # noqa: SLF001
        if "state" in memo:
            session.state = CallState.from_dict(memo["state"])
            session.queue = memo.get("queue")
            # Opened at the first step; a call that ended was closed then, unless it was
            # queued: a held caller's record is closed by the status callback.
            session.resumed(closed=session.state.ended and session.state.outcome != QUEUED)
        return session

    def _start(self, call_sid: str, memo: dict[str, Any]) -> tuple[dict[str, Any], VoiceResponse]:
        session = self._session(call_sid, memo)
        return self._after(session, memo, session.start())

    def _answer(
        self, call_sid: str, memo: dict[str, Any], event: Event
    ) -> tuple[dict[str, Any], VoiceResponse]:
        session = self._session(call_sid, memo)
        if session.state is None or session.ended:
            return memo, twiml.apology(str(memo.get("language", "en")))
        return self._after(session, memo, session.answer(event))

    def _after(
        self, session: CallSession, memo: dict[str, Any], actions: list[act.Action]
    ) -> tuple[dict[str, Any], VoiceResponse]:
        assert session.state is not None
        memo["state"] = session.state.to_dict()
        memo["language"] = session.state.language
        memo["queue"] = session.queue
        step = int(memo["step"]) + 1
        response = twiml.flow_reply(
            actions,
            self.speech,
            action=self.urls.url("gather", step=step),
            timed_out=self.urls.url("gather", step=step, timeout=1),
            wait=self.urls.url("wait", step=step),
        )
        last = actions[-1] if actions else None
        if isinstance(last, act.Enqueue):
            memo = self._waiting(memo).join(session, last, memo)
        return memo, response

    def _tick(
        self, call_sid: str, memo: dict[str, Any], digits: str | None
    ) -> tuple[dict[str, Any], VoiceResponse]:
        """A tick of the wait; when the queue's policy sends the caller on (``goto``),
        the flow resumes at that node in this same request, after what the tick said."""
        memo, response = self._waiting(memo).tick(memo, digits)
        node = memo.pop("goto", None)
        if node is None:
            return memo, response
        session = self._session(call_sid, memo)
        memo = {**memo, "entry": None, "hold": None, "policy": None, "done": False}
        memo, flow = self._after(session, memo, session.divert(str(node)))
        for verb in flow.verbs:
            response.append(verb)
        return memo, response

    def _callback_answered(
        self, call_sid: str, memo: dict[str, Any]
    ) -> tuple[dict[str, Any], VoiceResponse]:
        callback_id = int(memo["callback"])
        center = self.hotline.contact_center
        found = center.callback(callback_id)
        if found is None:
            logger.error("callback %d answered, but there is no such callback", callback_id)
            return memo, twiml.apology()
        began = datetime.fromtimestamp(memo["began"], UTC)
        self.hotline.recorder.keep(callback_record.opened(found, call_sid, CHANNEL, began))
        center.callback_answered(callback_id, call_sid)
        memo = {**memo, "language": found.language}
        return self._waiting(memo).callback_answered(memo, found)

    def _waiting(self, memo: dict[str, Any]) -> Waiting:
        return Waiting(self.hotline, self.speech, self.urls.url, str(memo.get("language", "en")))

    def _close(self, call_sid: str, memo: dict[str, Any]) -> None:
        entry = memo.get("entry")
        if entry is not None:
            self.hotline.contact_center.caller_left(int(entry))
        if memo.get("callback") is not None:
            self._close_callback_record(call_sid, memo)
        if "state" in memo:
            session = self._session(call_sid, memo)
            if not session.ended:
                session.answer(HungUp())  # the record: abandoned at the node
            session.close_record()  # a queued caller's, kept open through the hold

    def _close_callback_record(self, call_sid: str, memo: dict[str, Any]) -> None:
        """The callback call is over: its record closed with the talk's outcome."""
        center = self.hotline.contact_center
        found = center.callback(int(memo["callback"]))
        if found is None:
            return
        entry = center.entry(int(memo["entry"])) if memo.get("entry") is not None else None
        state = entry.state if entry is not None else ""
        began = datetime.fromtimestamp(memo["began"], UTC)
        opened = callback_record.opened(found, call_sid, CHANNEL, began)
        outcome = callback_record.outcome_of(state)
        self.hotline.recorder.keep(callback_record.closed(opened, outcome, self._now()))
