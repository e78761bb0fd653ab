"""Holding a Twilio caller for a person: one tick of ``ivr.center.hold`` per webhook.

Each ``/twilio/wait`` request dispatches, reads the caller's place and asks ``hold.tick``
what to do; the reply says it and ends with a ``<Redirect>`` back to the wait. Once a
callback is on offer the hold segment sits inside ``<Gather numDigits="1">`` so "1" works.
An entry offered to an agent becomes ``<Dial action=/twilio/dialed>`` to the agent's
Twilio Client (named by the agent's username), or to their phone when their endpoint is an
E.164 number; the ``url=/twilio/answered`` of ``<Client>``/``<Number>`` marks the entry
connected when the agent picks up. The callback dialogue (``ivr.phone.twilio.dialogue``)
runs over the same wait URL. When the queue's policy sends the caller on to a node, the
reply's memo has ``goto`` and ``TwilioVoice`` resumes the flow there in the same request.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twilio.twiml.voice_response import VoiceResponse

from ivr.center import hold, hold_policy, hold_steps
from ivr.center import lifecycle as lc
from ivr.flow import actions as act
from ivr.phone.holding import RING_SECONDS
from ivr.phone.twilio import twiml
from ivr.phone.twilio.dialogue import WebhookDialogue
from ivr.phone.twilio.held import HeldCall
from ivr.phone.twilio.hold_memo import (
    hold_from_dict,
    hold_to_dict,
    policy_from_dict,
    policy_to_dict,
)

if TYPE_CHECKING:
    from ivr.phone.session import CallSession
    from ivr.services.contact_agents import Agent

logger = logging.getLogger(__name__)

Memo = dict[str, Any]
Reply = tuple[Memo, VoiceResponse]
_E164 = re.compile(r"\+[1-9]\d{6,14}")


@dataclass(frozen=True)
class WebhookHold:
    call: HeldCall

    @property
    def dialogue(self) -> WebhookDialogue:
        return WebhookDialogue(self.call)

    def join(self, session: CallSession, how: act.Enqueue, memo: Memo) -> Memo:
        """The flow ended in the queue: add the entry (the reply already redirects)."""
        entry = self.call.center.enqueue(session.waiting_call(how))
        policy = hold_policy.policy_for(how.callback, self.call.offer_after(), how.policy)
        return {
            **memo,
            "entry": entry.id,
            "language": how.language,
            "policy": policy_to_dict(policy),
            "hold": hold_to_dict(hold.HoldState()),
            "done": False,
            "dialogue": None,
        }

    def tick(self, memo: Memo, digits: str | None) -> Reply:
        """One tick of the hold, or one step of the callback dialogue. A reply whose memo
        has ``goto`` ends the wait there: the caller (``TwilioVoice``) resumes the flow."""
        call, center = self.call, self.call.center
        if memo.get("dialogue") is not None:
            return self.dialogue.step(memo, digits or "")
        if memo.get("done"):
            return memo, twiml.apology(call.language)
        entry_id = int(memo["entry"])
        if digits == hold_steps.CALLBACK_KEY and memo["hold"]["offer_made"]:
            return self.dialogue.start(memo, VoiceResponse())
        center.dispatch()
        place = center.place(entry_id)
        agent = dial_target(place.agent) if place.agent else None
        standing = hold.Standing(
            place.entry.state, place.position, place.estimate_seconds, agent, place.staffed
        )
        policy = policy_from_dict(memo["policy"])
        now = call.parts.clock.now().timestamp()
        state, steps = hold.tick(policy, hold_from_dict(memo["hold"]), standing, now)
        memo = {**memo, "hold": hold_to_dict(state)}
        response = VoiceResponse()
        for step in steps:
            if isinstance(step, hold_steps.Leave):
                memo["done"] = True
                response.hangup()
                return memo, response
            if isinstance(step, hold_steps.DialAgent):
                ring = center.ring_timeout(place.entry.queue)
                return memo, self._dial(memo, step.endpoint, ring)
            if isinstance(step, hold_steps.StartCallback):
                return self.dialogue.start(memo, response, step.stays)
            if isinstance(step, hold_steps.GoTo | hold_steps.GiveUp):
                return self._leave_queue(memo, response, step)
            if isinstance(step, hold_steps.Tell):
                twiml.speak(response, [call.prompt(step.prompt)], call.speech)
            elif isinstance(step, hold_steps.Announce):
                prompts = [call.prompt("queue_position", position=str(step.position))]
                if step.minutes:
                    prompts.append(call.prompt("queue_estimate", minutes=str(step.minutes)))
                else:
                    prompts.append(call.prompt("queue_estimate_short"))
                twiml.speak(response, prompts, call.speech)
            elif isinstance(step, hold_steps.OfferCallback):
                twiml.speak(response, [call.prompt("queue_callback_offer")], call.speech)
            elif isinstance(step, hold_steps.PlayHold):
                music = call.speech.audio_url(step.segment)
                if step.escape:
                    listen = response.gather(
                        input="dtmf", num_digits=1, action=call.next_url(memo), method="POST"
                    )
                    twiml.hold_segment(listen, music)
                else:
                    twiml.hold_segment(response, music)
        response.redirect(call.next_url(memo), method="POST")
        return memo, response

    def _leave_queue(
        self, memo: Memo, response: VoiceResponse, step: hold_steps.GoTo | hold_steps.GiveUp
    ) -> Reply:
        """The policy ends the wait: the entry leaves the line (``max_wait`` or
        ``no_agents``); the flow goes on at a node (``goto``) or the call ends."""
        logger.info("entry %s leaves the queue: %s", memo["entry"], step)
        self.call.center.left_line(int(memo["entry"]), step.why)
        memo = {**memo, "done": True}
        if isinstance(step, hold_steps.GoTo):
            return {**memo, "goto": step.node}, response
        twiml.speak(response, [self.call.prompt(step.prompt)], self.call.speech)
        response.hangup()
        return memo, response

    # -- the agent --------------------------------------------------------------------

    def _dial(self, memo: Memo, target: str, ring_seconds: int = RING_SECONDS) -> VoiceResponse:
        call = self.call
        response = VoiceResponse()
        twiml.speak(response, [call.prompt("agent_connecting")], call.speech)
        dial = response.dial(
            action=call.url("dialed", step=int(memo["step"]) + 1, entry=memo["entry"]),
            method="POST",
            timeout=ring_seconds,
        )
        answered = call.url("answered", entry=memo["entry"])
        if _E164.fullmatch(target):
            dial.number(target, url=answered, method="POST")
        else:
            dial.client(target, url=answered, method="POST")
        return response

    def dialed(self, memo: Memo, status: str) -> Reply:
        """The Dial ended: ``completed`` was a talk (now over); otherwise back in line."""
        center = self.call.center
        entry_id = int(memo["entry"])
        response = VoiceResponse()
        if status == "completed":
            if lc.allowed(lc.ENTRY, center.place(entry_id).entry.state, lc.Trigger.ANSWER):
                center.connected(entry_id)  # the answered hook did not run
            center.finished(entry_id)
            response.hangup()
            return {**memo, "done": True}, response
        center.not_answered(entry_id)
        state = hold.after_agent_missed(hold_from_dict(memo["hold"]))
        twiml.speak(response, [self.call.prompt("agent_no_answer")], self.call.speech)
        response.redirect(self.call.next_url(memo), method="POST")
        return {**memo, "hold": hold_to_dict(state)}, response


def dial_target(agent: Agent) -> str:
    """Where Twilio rings an agent: their phone when their endpoint is an E.164 number
    (``<Dial><Number>``), else the Twilio Client named by their username."""
    return agent.endpoint if _E164.fullmatch(agent.endpoint) else agent.username
