"""One webhook, one step: the claim and replay machinery of a Twilio call.

Each webhook carries ``step=N`` in its URL. The call's saved state (``CallStates``) is at
step N-1 until a process claims N; that process applies the request (``Work``), saves the
new state and the reply, and returns it. A replay of step N (Twilio retries) gets the
saved reply back and applies nothing; a request racing the winner gets a short pause and
a redirect to itself. A reply that says a callback code is saved without it, as a
placeholder (``told`` in the memo); a replay asks ``said_again`` to re-derive it.

When the call's state cannot be read or saved (the database gone, its writer busy for too
long), the caller hears the apology and the call ends: never a reply whose state was not
saved first, and never an error page Twilio would read out as "an application error".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from ivr.phone.twilio import twiml
from ivr.phone.twilio.call_state import CallStates, SavedCall
from ivr.services import ports

logger = logging.getLogger(__name__)

#: A claimed step with no reply after this long is given up (the process died).
STALE_SECONDS = 30

Memo = dict[str, Any]
Reply = tuple[Memo, VoiceResponse]
#: What a step does: the call's state in, its new state and the reply out.
Work = Callable[[Memo], Reply]
#: A saved placeholder (``callback:<id>``) and the call's memo -> the reply it stands
#: for, re-derived; None when the saved text is the reply itself.
SaidAgain = Callable[[str, Memo], VoiceResponse | None]


@dataclass(frozen=True)
class Steps:
    calls: CallStates
    clock: ports.Clock
    #: Builds a webhook URL: ``url(kind, **query)``.
    url: Callable[..., str]
    said_again: SaidAgain

    def begin(self, call_sid: str, memo: Memo, now: datetime, work: Work) -> str:
        """Step 0: the call comes in (a replay gets the first reply again)."""
        try:
            if not self.calls.create(call_sid, memo, now):
                return self.replay(call_sid, 0)
            return self.run(call_sid, 0, memo, work)
        except Exception:
            return self._unsaved(call_sid, 0, memo)

    def advance(self, call_sid: str, step: int, work: Work) -> str:
        """Step ``step`` of a known call: applied once, replayed after. The claim reads
        the call's state: one transaction when the step is this process's to work."""
        memo: Memo | None = None
        try:
            memo = self.calls.claim(call_sid, step, self.clock.now())
            if memo is not None:
                return self.run(call_sid, step, memo, work)
            return self.replay(call_sid, step)
        except Exception:
            return self._unsaved(call_sid, step, memo)

    def _unsaved(self, call_sid: str, step: int, memo: Memo | None) -> str:
        """The call's state could not be read or saved: the apology, and the call ends."""
        logger.exception("call %s: step %d: its state could not be kept", call_sid, step)
        language = "en" if memo is None else str(memo.get("language", "en"))
        return twiml.xml(twiml.apology(language))

    def run(self, call_sid: str, step: int, memo: Memo, work: Work) -> str:
        """Apply a claimed step and save its reply (an apology if the work fails)."""
        memo = {**memo, "step": step}
        try:
            memo, response = work(dict(memo))
        except Exception:
            logger.exception("call %s: step %d failed", call_sid, step)
            response = twiml.apology(str(memo.get("language", "en")))
        xml = twiml.xml(response)
        told = memo.pop("told", None)  # a reply saying a callback code is saved without it
        saved = xml if told is None else str(told)
        self.calls.save(call_sid, step, memo, saved, self.clock.now())
        return xml

    def replay(self, call_sid: str, step: int) -> str:
        found = self.calls.get(call_sid)
        if found is None:
            logger.warning("webhook for unknown call %s (step %d): ended politely", call_sid, step)
            return twiml.xml(twiml.apology())
        if found.step != step:
            at = found.step
            logger.warning("call %s: webhook step %d, the call is at %d", call_sid, step, at)
            return twiml.xml(twiml.apology())
        if found.reply is None:  # another process is on it
            age = (self.clock.now() - found.updated_at).total_seconds()
            if age > STALE_SECONDS:
                return twiml.xml(twiml.apology())
            response = VoiceResponse()
            response.pause(length=1)
            response.redirect(self._current_url(found), method="POST")
            return twiml.xml(response)
        again = self.said_again(found.reply, found.memo)
        return found.reply if again is None else twiml.xml(again)

    def _current_url(self, found: SavedCall) -> str:
        kind = "wait" if found.memo.get("entry") is not None else "gather"
        return self.url(kind, step=found.step)
