"""A callback call on a blocking line (``ivr.phone.line.Line``): the customer we called
answered. Greet them, say why we call and their reference code (re-derived from the
stored salt, so it is the code they were given), then ring the agent the callback was
offered to; if that agent does not answer, hold like a live caller (renewing the entry's
lease). The call leaves a record (``ivr.phone.callback_record``): opened as the customer
answers, closed ``agent``, ``abandoned`` or ``fallback``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ivr.audio.speech import speaker
from ivr.center import hold_policy
from ivr.phone import callback_record, holding
from ivr.phone.hold_prompts import callback_greeting, prompter
from ivr.phone.line import CallerGone, Line, LineError

if TYPE_CHECKING:
    from ivr.phone.channel import Parts
    from ivr.services.contact_callbacks import Callback

logger = logging.getLogger(__name__)


def serve_callback(line: Line, parts: Parts, found: Callback, call_id: str, channel: str) -> None:
    """Hold the customer who answered callback ``found`` until the talk or the hang-up;
    then set ``OUTCOME`` and hang up."""
    callback_id = found.id
    center = parts.contact_center
    record = callback_record.opened(found, call_id, channel, parts.clock.now())
    parts.recorder.keep(record)
    flow = parts.flow
    line.speak = speaker(flow.catalog, parts.text_renderer(flow))
    prompt = prompter(flow.catalog.text, found.language)
    # a callback call: no queue policy
    policy = hold_policy.policy_for(hold_policy.NEVER, 0.0, None)
    wait = holding.HoldLoop(line, center, prompt, policy, found.number, stopping=parts.stopping)
    ended = callback_record.FALLBACK
    try:
        try:
            center.callback_answered(callback_id, call_id)
            code = center.callback_code(callback_id)
        except Exception:
            logger.exception("callback %d: the queue failed on answer", callback_id)
            line.play(prompt("system_error"))
            line.hang_up()
            return
        known = flow.catalog.__contains__
        for said in callback_greeting(prompt, known, found.reason, code):
            line.play(said)
        outcome = wait.run(found.entry_id)
        ended = _ended(outcome)
        line.set("OUTCOME", outcome or holding.FALLBACK)
        line.hang_up()
    except CallerGone as left:
        logger.info("callback %d: the customer hung up (%s)", callback_id, left.reason)
        if ended != callback_record.AGENT:
            ended = callback_record.ABANDONED
        wait.left(found.entry_id)
    except LineError as exc:
        logger.error("callback %d: %s", callback_id, exc)
        wait.left(found.entry_id)
    finally:
        parts.recorder.keep(callback_record.closed(record, ended, parts.clock.now()))


def _ended(outcome: str) -> str:
    """The record's outcome for what the wait returned."""
    if outcome == holding.AGENT:
        return callback_record.AGENT
    if outcome == holding.NO_AGENTS:  # told to call later, the entry left the line
        return callback_record.ABANDONED
    return callback_record.FALLBACK
