"""One call on a blocking line (``ivr.phone.line.Line``), start to end, for any driver.

``run_call`` answers the line, starts the session and loops: the line performs the
session's actions and returns the caller's answer, which the session steps the engine
with. However the caller leaves, the line answers ``HungUp`` and the call record says
``abandoned`` at the node. A flow that ends in ``Enqueue`` holds the caller
(``hold_caller``, over ``ivr.phone.holding``); when the queue's policy sends the caller on
to a node, the flow goes on there (``CallSession.divert``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ivr.audio.speech import speaker
from ivr.center import hold_policy
from ivr.flow import actions as act
from ivr.flow.events import HungUp
from ivr.phone.hold_prompts import prompter
from ivr.phone.holding import AGENT, CALLBACK, DIVERT, FALLBACK, NO_AGENTS, HoldLoop
from ivr.phone.line import CallerGone, Line, LineError
from ivr.services.call_context import handling
from ivr.services.metrics import LIVE_CALLS

if TYPE_CHECKING:
    from ivr.audio.values import Renderer
    from ivr.flow.state import CallStart
    from ivr.phone.channel import Parts
    from ivr.phone.session import CallSession

logger = logging.getLogger(__name__)


def run_call(
    line: Line,
    parts: Parts,
    call: CallStart,
    channel: str,
    render_text: Renderer | None = None,
) -> CallSession:
    """Answer the line and run one call to its end; returns the finished session.
    ``render_text`` speaks free-text values (see ``ivr.audio.values``); by default the
    parts render them into the flow's prompts folder. Lines logged meanwhile name the
    call (``ivr.services.call_context``); it counts in ``ivr_calls_in_progress``."""
    with handling(call.call_id):
        LIVE_CALLS.began(channel, call.call_id)
        try:
            return _run_call(line, parts, call, channel, render_text)
        finally:
            LIVE_CALLS.ended(channel, call.call_id)


def _run_call(
    line: Line,
    parts: Parts,
    call: CallStart,
    channel: str,
    render_text: Renderer | None,
) -> CallSession:
    trouble = line.answer()
    session = parts.session(call, channel, holds=True)
    actions = session.start()
    if trouble is not None:  # gone (or broken) before the first prompt
        session.answer(trouble)
        return session
    try:
        flow = session.engine.flow
        line.speak = speaker(flow.catalog, render_text or parts.text_renderer(flow))
        enqueued = play_flow(line, session, actions)
        while enqueued is not None and session.state is not None and not line.hung_up:
            node = hold_caller(line, parts, session, enqueued)
            if node is None:
                break
            enqueued = play_flow(line, session, session.divert(node))  # the policy sent it on
    except Exception:
        _close(session)
        raise
    finally:
        session.close_record()  # a queued caller's record stays open through the hold
    return session


def play_flow(line: Line, session: CallSession, actions: list[act.Action]) -> act.Enqueue | None:
    """Perform actions and answer the session until the flow ends; the ``Enqueue`` the
    flow ended in, or None (the channel goes back to its owner)."""
    while True:
        answer = line.perform(actions, session.state.node if session.state else "?")
        if answer is None or isinstance(answer, act.Enqueue):
            return answer
        actions = session.answer(answer)
        if isinstance(answer, HungUp):
            return None


def _close(session: CallSession) -> None:
    """After a failure mid-call: record the call as left where it was, if it can be."""
    if session.ended:
        return
    try:
        session.answer(HungUp())
    except Exception as exc:  # the store may be what failed: the original error matters
        logger.warning("call %s: cannot record its end (%s)", session.call.call_id, exc)


def hold_caller(line: Line, parts: Parts, session: CallSession, how: act.Enqueue) -> str | None:
    """The flow ended in ``Enqueue``: hold the caller until a person takes the call, a
    callback is arranged or the caller hangs up (``ivr.phone.holding``). Returns the node
    the queue's policy sends the caller on to (the flow resumes there), or None when the
    call is over or back with the phone system."""
    call = session.waiting_call(how)
    policy = hold_policy.policy_for(how.callback, parts.callback_offer_after, how.policy)
    prompt = prompter(session.engine.flow.catalog.text, how.language)
    center = parts.contact_center

    def clock() -> float:
        return parts.clock.now().timestamp()

    wait = HoldLoop(line, center, prompt, policy, session.call.ani, clock, parts.stopping)
    wait.ring_seconds = center.ring_timeout(call.queue)
    entry_id: int | None = None
    try:
        try:
            entry_id = center.enqueue(call).id
        except Exception:
            logger.exception("call %s: could not join the queue", line.call_id)
            outcome = wait.fail()
        else:
            outcome = wait.run(entry_id)
        if outcome == DIVERT:
            return wait.goto
        line.set("OUTCOME", outcome or FALLBACK)
        if outcome in (AGENT, CALLBACK, NO_AGENTS):
            line.hang_up()
    except CallerGone as left:
        logger.info("call %s: the caller hung up while held (%s)", line.call_id, left.reason)
        if entry_id is not None:
            wait.left(entry_id)
    except LineError as exc:
        logger.error("call %s while held: %s; back to the dialplan", line.call_id, exc)
        if entry_id is not None:
            wait.left(entry_id)
    return None
