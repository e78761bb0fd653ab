"""The callback dialogue (``ivr.center.callback_dialogue``) over Twilio's wait URL: the
caller's number or a typed one, confirmed, the code read twice; one step per request,
its state kept in the call's memo. The reply that says the code is saved as
``callback:<id>`` (``TOLD``), never with the code: a replay re-derives it (``told``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from ivr.center import callback_dialogue as talk
from ivr.flow import actions as act
from ivr.phone.hold_prompts import said
from ivr.phone.twilio import twiml
from ivr.phone.twilio.held import HeldCall
from ivr.services.caller_numbers import callback_number

logger = logging.getLogger(__name__)

Memo = dict[str, Any]
Reply = tuple[Memo, VoiceResponse]
#: Saved in place of a reply that says a callback code (``Steps.run``).
TOLD = "callback"


@dataclass(frozen=True)
class WebhookDialogue:
    call: HeldCall

    def start(self, memo: Memo, response: VoiceResponse, stays: bool = True) -> Reply:
        """The caller asked for a callback (or the policy offers only that)."""
        dialogue, actions = talk.start(_caller_number(memo), stays)
        return self._perform(memo, dialogue, actions, response)

    def step(self, memo: Memo, keys: str) -> Reply:
        """The caller answered the dialogue's question with ``keys``."""
        entry_id = int(memo["entry"])
        if not self.call.center.renew(entry_id):  # between ticks: no place() renews it
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
        call = self.call
        callback_id: int | None = None
        while True:
            event: talk.Event | None = None
            for action in actions:
                if isinstance(action, talk.Ask):
                    memo = {**memo, "dialogue": dialogue.to_dict()}
                    ask = act.Gather(
                        "callback",
                        (call.prompt(action.prompt, **action.values),),
                        action.min_digits,
                        action.max_digits,
                        action.timeout,
                        action.finish_key,
                    )
                    action_url, timed_out = call.next_url(memo), call.next_url(memo, timeout=1)
                    twiml.gather(response, ask, call.speech, action_url, timed_out)
                    return memo, response
                if isinstance(action, talk.ArrangeAt):
                    callback_id, event = self._arrange(memo, action.number)
                elif isinstance(action, talk.Say):
                    twiml.speak(response, [said(call.prompt, action)], call.speech)
                elif action.arranged:
                    assert callback_id is not None
                    told = f"{TOLD}:{callback_id}"  # the code is saved as this, not said
                    memo = {**memo, "dialogue": None, "done": True, "told": told}
                    response.hangup()
                    return memo, response
                else:
                    response.redirect(call.next_url(memo), method="POST")
                    return {**memo, "dialogue": None}, response
            assert event is not None, "a dialogue step ends in Ask, ArrangeAt or Over"
            dialogue, actions = talk.step(dialogue, event)

    def _arrange(self, memo: Memo, number: str) -> tuple[int | None, talk.Event]:
        try:
            callback, code = self.call.center.request_callback(int(memo["entry"]), number)
        except Exception:
            logger.exception("entry %s: the callback could not be arranged", memo["entry"])
            return None, talk.NotArranged()
        return callback.id, talk.Arranged(code)

    def told(self, callback_id: int) -> VoiceResponse:
        """A replay of the reply that said the code: the code (re-derived, never
        stored), twice, and goodbye, as the dialogue says it."""
        code = self.call.center.callback_code(callback_id)
        arranging = talk.Dialogue(talk.ARRANGING)
        _, actions = talk.step(arranging, talk.Arranged(code))
        says = [said(self.call.prompt, a) for a in actions if isinstance(a, talk.Say)]
        return twiml.ending(says, self.call.speech)


def _caller_number(memo: Memo) -> str | None:
    """The number a callback to this caller would dial (``callback_number``)."""
    return callback_number(str(memo["call"]["ani"]))
