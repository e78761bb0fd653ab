"""Holding a caller for a person on a blocking line (``ivr.phone.line.Line``): hold music
in short segments, the place in line, the callback dialogue, and the agent's phone rung.

The database queue (``ContactCenter``) is the source of truth, so the controller holds the
caller in its own session instead of handing them to the phone system's queue.
``HoldLoop.run`` loops: ``dispatch()`` (cheap), ``place(entry)``, then ``ivr.center.hold
.tick`` says what to play or whether to ring the agent the entry was offered to
(``Line.ring_agent``: on Asterisk ``Dial``, whose ``U()`` gosub marks the entry connected
when the agent picks up). Answered -> ``finished``; anything else -> ``not_answered``
(back to the head of the line) and the wait goes on. A caller who hangs up is
``abandoned`` (or ``finished`` once an agent had answered).

The queue's policy (``hold.tick``) may end the wait: nobody signed in who could take the
call, or the maximum wait reached, start the callback dialogue at once or send the caller
on to a node (``run`` returns DIVERT, the entry ends, and the call loop resumes the flow
there); with nobody and no callback the caller hears ``queue_call_later`` and the call
ends (``OUTCOME=no_agents``). The callback dialogue is ``ivr.center.callback_dialogue``,
the same as on Twilio; each of its questions renews the entry's lease
(``ContactCenter.renew``), as each tick's ``place`` does.

A database error mid-wait is apologised for (``system_error``) and the call goes back to
the phone system with ``OUTCOME=fallback``, whose safe route queues it: never dead air.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ivr.center import callback_dialogue as talk
from ivr.center import hold, hold_policy, hold_steps
from ivr.center import lifecycle as lc
from ivr.flow import actions as act
from ivr.flow.events import Digits
from ivr.phone.hold_prompts import said
from ivr.phone.line import AGENT_ANSWERED, CallerGone, Line, LineError
from ivr.services.caller_numbers import callback_number

if TYPE_CHECKING:
    from ivr.services.contact_center import ContactCenter

logger = logging.getLogger(__name__)

#: OUTCOME values the hold leaves for the phone system (Asterisk: ``IVR_OUTCOME``).
FALLBACK = "fallback"  # apologised already: the safe route queues the caller
AGENT = "agent"  # talked to an agent
CALLBACK = "callback"  # a callback was arranged
#: Not an OUTCOME: the wait is over and the flow goes on at ``HoldLoop.goto``.
DIVERT = "divert"
#: How long an agent's phone rings (seconds) unless the queue says otherwise.
RING_SECONDS = 20
#: OUTCOME when nobody can take the call and no callback was arranged (hung up).
NO_AGENTS = "no_agents"


@dataclass
class HoldLoop:
    """Holds one queue entry's caller on a blocking ``Line`` until the entry leaves the
    queue (``run``)."""

    line: Line
    center: ContactCenter
    prompt: Callable[..., act.Prompt]  # prompt(id, **values) in the caller's language
    policy: hold_policy.Policy
    caller_id: str = ""
    clock: Callable[[], float] = time.monotonic
    stopping: threading.Event | None = None  # the controller is shutting down
    ring_seconds: int = RING_SECONDS  # the queue's ring timeout
    goto: str | None = None  # set when the queue's policy sends the caller to a node

    def run(self, entry_id: int) -> str:
        """Hold until the entry leaves the queue; the IVR_OUTCOME to leave (may be ""),
        or DIVERT with ``goto`` set: the flow goes on at that node."""
        state = hold.HoldState()
        while True:
            if self.stopping is not None and self.stopping.is_set():
                return self.hand_over(entry_id)
            try:
                self.center.dispatch()
                place = self.center.place(entry_id)
            except Exception:
                logger.exception("call %s: the queue failed while waiting", self.line.call_id)
                return self.fail()
            agent = place.agent.endpoint if place.agent else None
            standing = hold.Standing(
                place.entry.state, place.position, place.estimate_seconds, agent, place.staffed
            )
            state, steps = hold.tick(self.policy, state, standing, self.clock())
            for step in steps:
                outcome = self._do(step, entry_id)
                if outcome is not None:
                    return outcome
                if isinstance(step, hold_steps.DialAgent):
                    state = hold.after_agent_missed(state)
                    break

    def _do(self, step: hold_steps.HoldStep, entry_id: int) -> str | None:
        """One step; an outcome when the wait is over."""
        key = ""
        if isinstance(step, hold_steps.Leave):
            logger.info("call %s: entry %d is %s", self.line.call_id, entry_id, step.state)
            return ""
        if isinstance(step, hold_steps.DialAgent):
            return self.ring(entry_id, step.endpoint)
        if isinstance(step, hold_steps.GoTo | hold_steps.GiveUp):
            return self.leave_queue(entry_id, step)
        if isinstance(step, hold_steps.Tell):
            self.line.play(self.prompt(step.prompt))
        elif isinstance(step, hold_steps.Announce):
            where = self.prompt("queue_position", position=str(step.position))
            if step.minutes:
                wait = self.prompt("queue_estimate", minutes=str(step.minutes))
            else:
                wait = self.prompt("queue_estimate_short")
            key = self.line.play(where, step.escape) or self.line.play(wait, step.escape)
        elif isinstance(step, hold_steps.OfferCallback):
            key = self.line.play(self.prompt("queue_callback_offer"), step.escape)
        elif isinstance(step, hold_steps.PlayHold):
            key = self.line.play_file(step.segment, step.escape)
        if isinstance(step, hold_steps.StartCallback):
            return self.callback(entry_id, step.stays)
        if key == hold_steps.CALLBACK_KEY:
            return self.callback(entry_id)
        return None

    # -- the agent ---------------------------------------------------------------------

    def ring(self, entry_id: int, endpoint: str) -> str | None:
        """Ring the agent; an outcome when the call is over, None to wait on."""
        self.line.play(self.prompt("agent_connecting"))
        status = self.line.ring_agent(endpoint, entry_id, self.ring_seconds)
        logger.info("call %s: agent %s: DIALSTATUS=%s", self.line.call_id, endpoint, status)
        try:
            if status == AGENT_ANSWERED:
                self.finish(entry_id)
                return AGENT
            self.center.not_answered(entry_id)
        except Exception:
            logger.exception("call %s: the queue failed after Dial", self.line.call_id)
            return self.fail() if status != AGENT_ANSWERED else AGENT
        self.line.play(self.prompt("agent_no_answer"))
        return None

    def finish(self, entry_id: int) -> None:
        """The talk is over (either side hung up)."""
        if lc.allowed(lc.ENTRY, self.center.place(entry_id).entry.state, lc.Trigger.ANSWER):
            self.center.connected(entry_id)  # the answered hook did not run
        self.center.finished(entry_id)

    def left(self, entry_id: int) -> None:
        """The caller hung up: abandoned while waiting, finished once an agent answered."""
        try:
            self.center.caller_left(entry_id)
        except Exception:
            logger.exception("call %s: could not record the hang-up", self.line.call_id)

    def leave_queue(self, entry_id: int, step: hold_steps.GoTo | hold_steps.GiveUp) -> str:
        """The policy ends the wait: the entry leaves the line (``max_wait`` or
        ``no_agents``), then the flow goes on at a node or the call ends."""
        logger.info("call %s: entry %d leaves the queue: %s", self.line.call_id, entry_id, step)
        try:
            self.center.left_line(entry_id, step.why)
        except Exception:
            logger.exception("call %s: could not take entry %d off", self.line.call_id, entry_id)
            return self.fail()
        if isinstance(step, hold_steps.GoTo):
            self.goto = step.node
            return DIVERT
        self.line.play(self.prompt(step.prompt))
        return NO_AGENTS

    def hand_over(self, entry_id: int) -> str:
        """The controller is stopping: the caller leaves this queue (counted abandoned)
        for the dialplan's safe route, with the apology, rather than hold the stop up."""
        logger.warning("call %s: stopping; entry %d to the safe route", self.line.call_id, entry_id)
        try:
            self.center.abandoned(entry_id)
        except Exception:
            logger.exception("call %s: could not take entry %d off", self.line.call_id, entry_id)
        return self.fail()

    def fail(self) -> str:
        """Apologise; the dialplan's safe route takes the caller on."""
        self.line.play(self.prompt("system_error"))
        return FALLBACK

    # -- the callback dialogue (``ivr.center.callback_dialogue``) ---------------------

    def callback(self, entry_id: int, stays: bool = True) -> str | None:
        """Arrange a callback: CALLBACK when done (the code said twice), None to go on
        waiting (after callback_unavailable, or ``callback_not_arranged`` when the caller
        will not wait on: ``stays`` False)."""
        dialogue, actions = talk.start(callback_number(self.caller_id), stays)
        while True:
            event: talk.Event | None = None
            for action in actions:
                if isinstance(action, talk.Ask):
                    self.renew(entry_id)
                    event = talk.Keys(self.ask(action))
                elif isinstance(action, talk.ArrangeAt):
                    event = self.arrange(entry_id, action.number)
                elif isinstance(action, talk.Say):
                    self.line.play(said(self.prompt, action))
                else:
                    return CALLBACK if action.arranged else None
            assert event is not None, "a dialogue step ends in Ask, ArrangeAt or Over"
            dialogue, actions = talk.step(dialogue, event)

    def arrange(self, entry_id: int, number: str) -> talk.Event:
        try:
            _, code = self.center.request_callback(entry_id, number)
        except (CallerGone, LineError):
            raise  # the caller is gone: whoever runs the hold records the hang-up
        except Exception:
            logger.exception("call %s: the callback could not be arranged", self.line.call_id)
            return talk.NotArranged()
        return talk.Arranged(code)

    def renew(self, entry_id: int) -> None:
        """Renew the entry's lease between ticks (no ``place`` call renews it then)."""
        try:
            if not self.center.renew(entry_id):
                logger.warning("call %s: entry %d's lease was lost", self.line.call_id, entry_id)
        except Exception:
            logger.exception("call %s: could not renew entry %d", self.line.call_id, entry_id)

    def ask(self, question: talk.Ask) -> str:
        prompt = self.prompt(question.prompt, **question.values)
        gather = act.Gather(
            question.prompt,
            (prompt,),
            question.min_digits,
            question.max_digits,
            question.timeout,
            question.finish_key,
        )
        answer = self.line.gather(gather)
        return answer.digits if isinstance(answer, Digits) else ""
