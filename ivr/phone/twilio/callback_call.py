"""A callback call over Twilio (``/twilio/voice?callback=<id>``, placed by
``TwilioRest.call_back``): the customer answers, hears who calls, why and their code
twice, then holds on the callback's entry while the agent it was offered to is rung.

Its record (``ivr.phone.callback_record``) is opened as the customer answers and closed by
the status callback: ``agent`` after a talk, else ``abandoned``. The greeting is saved as
``greeted:<id>`` (``GREETED``), never with the code: a replay re-derives it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from ivr.center import hold, hold_policy
from ivr.phone import callback_record
from ivr.phone.hold_prompts import callback_greeting
from ivr.phone.twilio import twiml
from ivr.phone.twilio.held import HeldCall
from ivr.phone.twilio.hold_memo import hold_to_dict, policy_to_dict

logger = logging.getLogger(__name__)

Memo = dict[str, Any]
Reply = tuple[Memo, VoiceResponse]
#: Saved in place of the greeting that says a callback code (``Steps.run``).
GREETED = "greeted"
CHANNEL = "twilio"


@dataclass(frozen=True)
class CallbackCall:
    call: HeldCall

    def answered(self, call_sid: str, memo: Memo) -> Reply:
        """The customer picked up: their record opened, the callback answered, the
        greeting; then the wait on its entry (no callback offers: this is one)."""
        callback_id = int(memo["callback"])
        parts = self.call.parts
        found = parts.contact_center.callback(callback_id)
        if found is None:
            logger.error("callback %d answered, but there is no such callback", callback_id)
            return memo, twiml.apology()
        began = datetime.fromtimestamp(memo["began"], UTC)
        parts.recorder.keep(callback_record.opened(found, call_sid, CHANNEL, began))
        parts.contact_center.callback_answered(callback_id, call_sid)
        memo = {
            **memo,
            "language": found.language,
            "entry": found.entry_id,
            "policy": policy_to_dict(hold_policy.policy_for(hold_policy.NEVER, 0.0, None)),
            "hold": hold_to_dict(hold.HoldState()),
            "told": f"{GREETED}:{found.id}",
        }
        greeter = CallbackCall(HeldCall(parts, self.call.speech, self.call.url, found.language))
        return memo, greeter.greeting(memo, found.id)

    def greeting(self, memo: Memo, callback_id: int) -> VoiceResponse:
        """Who calls, why, the code (re-derived) twice; then on to the wait."""
        call = self.call
        found = call.center.callback(callback_id)
        reason = found.reason if found else None
        code = call.center.callback_code(callback_id)
        catalog = call.parts.flow.catalog
        response = VoiceResponse()
        said = callback_greeting(call.prompt, catalog.__contains__, reason, code)
        twiml.speak(response, said, call.speech)
        response.redirect(call.next_url(memo), method="POST")
        return response

    def closed(self, call_sid: str, memo: Memo) -> None:
        """The callback call is over: its record closed with the talk's outcome."""
        parts = self.call.parts
        center = parts.contact_center
        found = center.callback(int(memo["callback"]))
        if found is None:
            return
        entry = center.entry(int(memo["entry"])) if memo.get("entry") is not None else None
        state = entry.state if entry is not None else ""
        began = datetime.fromtimestamp(memo["began"], UTC)
        opened = callback_record.opened(found, call_sid, CHANNEL, began)
        outcome = callback_record.outcome_of(state)
        parts.recorder.keep(callback_record.closed(opened, outcome, parts.clock.now()))
