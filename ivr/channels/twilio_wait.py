"""Holding a Twilio caller for a person: one tick of ``ivr.calls.hold`` per webhook.

Each ``/twilio/wait`` request dispatches, reads the caller's place and asks ``hold.tick``
what to do; the reply says it and ends with a ``<Redirect>`` back to the wait. Once a
callback is on offer the hold segment sits inside ``<Gather numDigits="1">`` so "1" works.
An entry offered to an agent becomes ``<Dial action=/twilio/dialed>`` to the agent's
Twilio Client (named by the agent's username), or to their phone when their endpoint is an
E.164 number; the ``url=/twilio/answered`` of ``<Client>``/``<Number>`` marks the entry
connected when the agent picks up. The callback dialogue (the caller's number or a
typed one, confirmed) runs over the same wait URL, its phase kept in the call's state.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from twilio.twiml.voice_response import VoiceResponse

from ivr.calls import hold
from ivr.center import lifecycle as lc
from ivr.channels import twiml
from ivr.channels.waiting import (
    RING_SECONDS,
    TRIES,
    callback_greeting,
    prompter,
    secret_prompt,
)
from ivr.flow import actions as act
from ivr.services.caller_numbers import callback_number

if TYPE_CHECKING:
    from ivr.bootstrap import Hotline
    from ivr.calls.session import CallSession
    from ivr.services.contact_center import ContactCenter
    from ivr.services.contact_ports import Agent, Callback

logger = logging.getLogger(__name__)

Memo = dict[str, Any]
_E164 = re.compile(r"\+[1-9]\d{6,14}")
#: Saved in place of a reply that says a callback code (``TwilioVoice._run``).
TOLD, GREETED = "callback", "greeted"
Reply = tuple[Memo, VoiceResponse]


@dataclass
class Waiting:
    hotline: Hotline
    speech: twiml.Speech
    url: Callable[..., str]
    language: str

    @property
    def center(self) -> ContactCenter:
        return self.hotline.contact_center

    def prompt(self, prompt_id: str, **values: str) -> act.Prompt:
        return prompter(self.hotline.flow.catalog.text, self.language)(prompt_id, **values)

    def _next(self, memo: Memo, **query: Any) -> str:
        return str(self.url("wait", step=int(memo["step"]) + 1, entry=memo["entry"], **query))

    # -- joining and leaving ----------------------------------------------------------

    def join(self, session: CallSession, how: act.Enqueue, memo: Memo) -> Memo:
        """The flow ended in the queue: add the entry (the reply already redirects)."""
        entry = self.center.enqueue(session.waiting_call(how))
        offer_after = float(self.hotline.settings.callback_offer_after)
        return {
            **memo,
            "entry": entry.id,
            "language": how.language,
            "policy": {"callback": how.callback, "offer_after": offer_after},
            "hold": _hold_to_dict(hold.HoldState()),
        }

    # -- a tick -----------------------------------------------------------------------

    def tick(self, memo: Memo, digits: str | None) -> Reply:
        if memo.get("dialogue") is not None:
            self.center.renew(int(memo["entry"]))  # the holder is alive between ticks
            return self._dialogue(memo, digits or "")
        if memo.get("done"):
            return memo, twiml.apology(self.language)
        entry_id = int(memo["entry"])
        if digits == hold.CALLBACK_KEY and memo["hold"]["offer_made"]:
            return self._start_dialogue(memo)
        self.center.dispatch()
        place = self.center.place(entry_id)
        agent = dial_target(place.agent) if place.agent else None
        standing = hold.Standing(place.entry.state, place.position, place.estimate_seconds, agent)
        policy = hold.Policy(memo["policy"]["callback"], memo["policy"]["offer_after"])
        now = self.hotline.clock.now().timestamp()
        state, steps = hold.tick(policy, _hold_from_dict(memo["hold"]), standing, now)
        memo = {**memo, "hold": _hold_to_dict(state)}
        response = VoiceResponse()
        for step in steps:
            if isinstance(step, hold.Leave):
                memo["done"] = True
                response.hangup()
                return memo, response
            if isinstance(step, hold.DialAgent):
                ring = self.center.ring_timeout(place.entry.queue)
                return memo, self._dial(memo, step.endpoint, ring)
            if isinstance(step, hold.StartCallback):
                return self._start_dialogue(memo)
            if isinstance(step, hold.Announce):
                prompts = [self.prompt("queue_position", position=str(step.position))]
                if step.minutes:
                    prompts.append(self.prompt("queue_estimate", minutes=str(step.minutes)))
                else:
                    prompts.append(self.prompt("queue_estimate_short"))
                twiml.speak(response, prompts, self.speech)
            elif isinstance(step, hold.OfferCallback):
                twiml.speak(response, [self.prompt("queue_callback_offer")], self.speech)
            elif isinstance(step, hold.PlayHold):
                music = self.speech.audio_url(step.segment)
                if step.escape:
                    listen = response.gather(
                        input="dtmf", num_digits=1, action=self._next(memo), method="POST"
                    )
                    twiml.hold_segment(listen, music)
                else:
                    twiml.hold_segment(response, music)
        response.redirect(self._next(memo), method="POST")
        return memo, response

    # -- the agent --------------------------------------------------------------------

    def _dial(self, memo: Memo, target: str, ring_seconds: int = RING_SECONDS) -> VoiceResponse:
        response = VoiceResponse()
        twiml.speak(response, [self.prompt("agent_connecting")], self.speech)
        dial = response.dial(
            action=self.url("dialed", step=int(memo["step"]) + 1, entry=memo["entry"]),
            method="POST",
            timeout=ring_seconds,
        )
        answered = self.url("answered", entry=memo["entry"])
        if _E164.fullmatch(target):
            dial.number(target, url=answered, method="POST")
        else:
            dial.client(target, url=answered, method="POST")
        return response

    def dialed(self, memo: Memo, status: str) -> Reply:
        """The Dial ended: ``completed`` was a talk (now over); otherwise back in line."""
        entry_id = int(memo["entry"])
        response = VoiceResponse()
        if status == "completed":
            if lc.allowed(lc.ENTRY, self.center.place(entry_id).entry.state, lc.Trigger.ANSWER):
                self.center.connected(entry_id)  # the answered hook did not run
            self.center.finished(entry_id)
            response.hangup()
            return {**memo, "done": True}, response
        self.center.not_answered(entry_id)
        state = hold.after_agent_missed(_hold_from_dict(memo["hold"]))
        twiml.speak(response, [self.prompt("agent_no_answer")], self.speech)
        response.redirect(self._next(memo), method="POST")
        return {**memo, "hold": _hold_to_dict(state)}, response

    # -- the callback dialogue --------------------------------------------------------

    def _start_dialogue(self, memo: Memo) -> Reply:
        if _caller_number(memo) is not None:
            return self._ask({**memo, "dialogue": {"phase": "choose", "tries": 0}})
        return self._ask({**memo, "dialogue": {"phase": "enter", "tries": 0}})

    def _ask(self, memo: Memo) -> Reply:
        talk = memo["dialogue"]
        if talk["phase"] == "choose":
            ask = act.Gather("callback", (self._choice(memo),), 1, 1, 6.0)
        elif talk["phase"] == "enter":
            ask = act.Gather("callback", (self.prompt("callback_enter_number"),), 3, 15, 6, "#")
        else:
            confirm = self.prompt("callback_confirm_number", number=talk["number"])
            ask = act.Gather("callback", (confirm,), 1, 1, 6.0)
        response = VoiceResponse()
        action = self._next(memo)
        twiml.gather(response, ask, self.speech, action, self._next(memo, timeout=1))
        return memo, response

    def _choice(self, memo: Memo) -> act.Prompt:
        return self.prompt("callback_number_choice", last4=hold.last4(_caller_number(memo) or ""))

    def _dialogue(self, memo: Memo, keys: str) -> Reply:
        talk = dict(memo["dialogue"])
        keys = keys.rstrip("#")
        if talk["phase"] == "choose":
            if keys == "1":
                return self._arrange(memo, _caller_number(memo) or "")
            if keys == "2":
                return self._ask({**memo, "dialogue": {"phase": "enter", "tries": 0}})
        elif talk["phase"] == "enter":
            if hold.dialable(keys):
                phase = {**talk, "phase": "confirm", "number": keys}
                return self._ask({**memo, "dialogue": phase})
        elif keys == "1":
            return self._arrange(memo, str(talk["number"]))
        else:
            talk["phase"] = "enter"
        talk["tries"] = int(talk["tries"]) + 1
        if talk["tries"] >= TRIES:
            return self._unavailable(memo)
        return self._ask({**memo, "dialogue": talk})

    def _arrange(self, memo: Memo, number: str) -> Reply:
        try:
            callback, _ = self.center.request_callback(int(memo["entry"]), number)
        except Exception:
            logger.exception("entry %s: the callback could not be arranged", memo["entry"])
            return self._unavailable(memo)
        memo = {**memo, "dialogue": None, "done": True, "told": f"{TOLD}:{callback.id}"}
        return memo, self.told(memo, callback.id)

    def told(self, memo: Memo, callback_id: int) -> VoiceResponse:
        """The code (re-derived, never stored), twice, and goodbye."""
        code = self.center.callback_code(callback_id)
        told = secret_prompt(self.prompt, "callback_code", code=code)
        prompts = [told, self.prompt("callback_scheduled")]
        return twiml.ending(prompts, self.speech)

    def callback_answered(self, memo: Memo, callback: Callback) -> Reply:
        """The customer picked up a callback call: hold them on its entry (no callback
        offers: this is one) after the greeting."""
        memo = {
            **memo,
            "entry": callback.entry_id,
            "policy": {"callback": hold.NEVER, "offer_after": 0.0},
            "hold": _hold_to_dict(hold.HoldState()),
            "told": f"{GREETED}:{callback.id}",
        }
        return memo, self.greeting(memo, callback.id)

    def greeting(self, memo: Memo, callback_id: int) -> VoiceResponse:
        """Who calls, why, the code (re-derived) twice; then on to the wait."""
        found = self.center.callback(callback_id)
        reason = found.reason if found else None
        code = self.center.callback_code(callback_id)
        catalog = self.hotline.flow.catalog
        response = VoiceResponse()
        said = callback_greeting(self.prompt, catalog.__contains__, reason, code)
        twiml.speak(response, said, self.speech)
        response.redirect(self._next(memo), method="POST")
        return response

    def _unavailable(self, memo: Memo) -> Reply:
        response = VoiceResponse()
        twiml.speak(response, [self.prompt("callback_unavailable")], self.speech)
        response.redirect(self._next(memo), method="POST")
        return {**memo, "dialogue": None}, response


def dial_target(agent: Agent) -> str:
    """Where Twilio rings an agent: their phone when their endpoint is an E.164 number
    (``<Dial><Number>``), else the Twilio Client named by their username."""
    return agent.endpoint if _E164.fullmatch(agent.endpoint) else agent.username


def _hold_to_dict(state: hold.HoldState) -> dict[str, Any]:
    return asdict(state)


def _hold_from_dict(raw: dict[str, Any]) -> hold.HoldState:
    said = raw.get("said")
    return hold.HoldState(
        said=hold.Said(**said) if said else None,
        offer_made=bool(raw.get("offer_made")),
        callback_started=bool(raw.get("callback_started")),
        segment=int(raw.get("segment", 0)),
    )


def _caller_number(memo: Memo) -> str | None:
    """The number a callback to this caller would dial (``callback_number``)."""
    return callback_number(str(memo["call"]["ani"]))
