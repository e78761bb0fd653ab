"""Holding a Twilio caller for a person: one tick of ``ivr.center.hold`` per webhook.

Each ``/twilio/wait`` request dispatches, reads the caller's place and asks ``hold.tick``
what to do; the reply says it and ends with a ``<Redirect>`` back to the wait. Once a
callback is on offer the hold segment sits inside ``<Gather numDigits="1">`` so "1" works.
An entry offered to an agent becomes ``<Dial action=/twilio/dialed>`` to the agent's
Twilio Client (named by the agent's username), or to their phone when their endpoint is an
E.164 number; the ``url=/twilio/answered`` of ``<Client>``/``<Number>`` marks the entry
connected when the agent picks up. The callback dialogue (``ivr.center.callback_dialogue``:
the caller's number or a typed one, confirmed, the code read twice) runs over the same wait
URL, one step per request, its state kept in the call's memo. When the queue's policy
sends the caller on to a node, the reply's memo has ``goto`` and ``TwilioVoice`` resumes
the flow there in the same request.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from twilio.twiml.voice_response import VoiceResponse

from ivr.center import callback_dialogue as talk
from ivr.center import hold
from ivr.center import lifecycle as lc
from ivr.flow import actions as act
from ivr.phone.hold_prompts import callback_greeting, prompter, said
from ivr.phone.holding import RING_SECONDS
from ivr.phone.twilio import twiml
from ivr.services.caller_numbers import callback_number

if TYPE_CHECKING:
    from ivr.app.bootstrap import Hotline
    from ivr.phone.session import CallSession
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
        policy = hold.policy_for(how.callback, offer_after, how.policy)
        return {
            **memo,
            "entry": entry.id,
            "language": how.language,
            "policy": _policy_to_dict(policy),
            "hold": _hold_to_dict(hold.HoldState()),
            "done": False,
            "dialogue": None,
        }

    # -- a tick -----------------------------------------------------------------------

    def tick(self, memo: Memo, digits: str | None) -> Reply:
        """One tick of the hold, or one step of the callback dialogue. A reply whose memo
        has ``goto`` ends the wait there: the caller (``TwilioVoice``) resumes the flow."""
        if memo.get("dialogue") is not None:
            return self._dialogue(memo, digits or "")
        if memo.get("done"):
            return memo, twiml.apology(self.language)
        entry_id = int(memo["entry"])
        if digits == hold.CALLBACK_KEY and memo["hold"]["offer_made"]:
            return self._start_dialogue(memo, VoiceResponse())
        self.center.dispatch()
        place = self.center.place(entry_id)
        agent = dial_target(place.agent) if place.agent else None
        standing = hold.Standing(
            place.entry.state, place.position, place.estimate_seconds, agent, place.staffed
        )
        policy = _policy_from_dict(memo["policy"])
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
                return self._start_dialogue(memo, response, step.stays)
            if isinstance(step, hold.GoTo | hold.GiveUp):
                return self._leave_queue(memo, response, step)
            if isinstance(step, hold.Tell):
                twiml.speak(response, [self.prompt(step.prompt)], self.speech)
            elif isinstance(step, hold.Announce):
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

    def _leave_queue(
        self, memo: Memo, response: VoiceResponse, step: hold.GoTo | hold.GiveUp
    ) -> Reply:
        """The policy ends the wait: the entry leaves the line (``max_wait`` or
        ``no_agents``); the flow goes on at a node (``goto``) or the call ends."""
        logger.info("entry %s leaves the queue: %s", memo["entry"], step)
        self.center.left_line(int(memo["entry"]), step.why)
        memo = {**memo, "done": True}
        if isinstance(step, hold.GoTo):
            return {**memo, "goto": step.node}, response
        twiml.speak(response, [self.prompt(step.prompt)], self.speech)
        response.hangup()
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

    # -- the callback dialogue (``ivr.center.callback_dialogue``) -----------------------

    def _start_dialogue(self, memo: Memo, response: VoiceResponse, stays: bool = True) -> Reply:
        dialogue, actions = talk.start(_caller_number(memo), stays)
        return self._perform(memo, dialogue, actions, response)

    def _dialogue(self, memo: Memo, keys: str) -> Reply:
        entry_id = int(memo["entry"])
        if not self.center.renew(entry_id):  # between ticks: no place() renews it
            logger.warning("entry %d: its lease was lost in the callback dialogue", entry_id)
        dialogue = talk.Dialogue.from_dict(memo["dialogue"])
        dialogue, actions = talk.step(dialogue, talk.Keys(keys))
        return self._perform(memo, dialogue, actions, VoiceResponse())

    def _perform(
        self,
        memo: Memo,
        dialogue: talk.Dialogue,
        actions: list[talk.Action],
        response: VoiceResponse,
    ) -> Reply:
        """Say what the dialogue says up to its next question (a ``<Gather>`` back to the
        wait URL) or its end."""
        callback_id: int | None = None
        while True:
            event: talk.Event | None = None
            for action in actions:
                if isinstance(action, talk.Ask):
                    memo = {**memo, "dialogue": dialogue.to_dict()}
                    ask = act.Gather(
                        "callback",
                        (self.prompt(action.prompt, **action.values),),
                        action.min_digits,
                        action.max_digits,
                        action.timeout,
                        action.finish_key,
                    )
                    action_url, timed_out = self._next(memo), self._next(memo, timeout=1)
                    twiml.gather(response, ask, self.speech, action_url, timed_out)
                    return memo, response
                if isinstance(action, talk.ArrangeAt):
                    callback_id, event = self._arrange(memo, action.number)
                elif isinstance(action, talk.Say):
                    twiml.speak(response, [said(self.prompt, action)], self.speech)
                elif action.arranged:
                    assert callback_id is not None
                    told = f"{TOLD}:{callback_id}"  # the code is saved as this, not said
                    memo = {**memo, "dialogue": None, "done": True, "told": told}
                    response.hangup()
                    return memo, response
                else:
                    response.redirect(self._next(memo), method="POST")
                    return {**memo, "dialogue": None}, response
            assert event is not None, "a dialogue step ends in Ask, ArrangeAt or Over"
            dialogue, actions = talk.step(dialogue, event)

    def _arrange(self, memo: Memo, number: str) -> tuple[int | None, talk.Event]:
        try:
            callback, code = self.center.request_callback(int(memo["entry"]), number)
        except Exception:
            logger.exception("entry %s: the callback could not be arranged", memo["entry"])
            return None, talk.NotArranged()
        return callback.id, talk.Arranged(code)

    def told(self, memo: Memo, callback_id: int) -> VoiceResponse:
        """A replay of the reply that said the code: the code (re-derived, never
        stored), twice, and goodbye, as the dialogue says it."""
        code = self.center.callback_code(callback_id)
        arranging = talk.Dialogue(talk.ARRANGING)
        _, actions = talk.step(arranging, talk.Arranged(code))
        says = [said(self.prompt, a) for a in actions if isinstance(a, talk.Say)]
        return twiml.ending(says, self.speech)

    def callback_answered(self, memo: Memo, callback: Callback) -> Reply:
        """The customer picked up a callback call: hold them on its entry (no callback
        offers: this is one) after the greeting."""
        memo = {
            **memo,
            "entry": callback.entry_id,
            "policy": _policy_to_dict(hold.policy_for(hold.NEVER, 0.0, None)),
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


def dial_target(agent: Agent) -> str:
    """Where Twilio rings an agent: their phone when their endpoint is an E.164 number
    (``<Dial><Number>``), else the Twilio Client named by their username."""
    return agent.endpoint if _E164.fullmatch(agent.endpoint) else agent.username


def _hold_to_dict(state: hold.HoldState) -> dict[str, Any]:
    return asdict(state)


def _hold_from_dict(raw: dict[str, Any]) -> hold.HoldState:
    was_said = raw.get("said")
    since = raw.get("since")
    return hold.HoldState(
        said=hold.Said(**was_said) if was_said else None,
        offer_made=bool(raw.get("offer_made")),
        callback_started=bool(raw.get("callback_started")),
        segment=int(raw.get("segment", 0)),
        since=None if since is None else float(since),
        max_wait_done=bool(raw.get("max_wait_done")),
        nobody_told=bool(raw.get("nobody_told")),
    )


def _policy_to_dict(policy: hold.Policy) -> dict[str, Any]:
    """JSON-ready (no infinity: PostgreSQL's JSON refuses it)."""
    raw = asdict(policy)
    raw.pop("segments")
    raw["max_wait"] = None if math.isinf(policy.max_wait) else policy.max_wait
    return raw


def _policy_from_dict(raw: dict[str, Any]) -> hold.Policy:
    max_wait = raw.get("max_wait")
    return hold.Policy(
        callback=str(raw["callback"]),
        offer_after=float(raw["offer_after"]),
        max_wait=math.inf if max_wait is None else float(max_wait),
        on_max_wait=raw.get("on_max_wait"),
        no_agents_node=raw.get("no_agents_node"),
        announce_every=float(raw.get("announce_every", 0.0)),
        nobody_rule=bool(raw.get("nobody_rule", True)),
    )


def _caller_number(memo: Memo) -> str | None:
    """The number a callback to this caller would dial (``callback_number``)."""
    return callback_number(str(memo["call"]["ani"]))
