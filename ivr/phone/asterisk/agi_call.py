"""One hotline call on an AGI line: the call's id and start from Asterisk's environment,
then the generic call loop (``ivr.phone.call_loop``) over the AGI driver."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from ivr.flow.state import CallStart
from ivr.phone import call_loop
from ivr.phone.asterisk.agi_driver import AgiDriver
from ivr.phone.asterisk.agi_line import AgiLine
from ivr.services import call_ids

if TYPE_CHECKING:
    from ivr.audio.values import Renderer
    from ivr.phone.channel import Parts
    from ivr.phone.session import CallSession

logger = logging.getLogger(__name__)


def call_id(unique_id: str) -> str:
    """Asterisk's ``agi_uniqueid``; an id of our own when it is missing or cannot be
    stored (the caller is still served)."""
    try:
        return call_ids.checked(unique_id, "agi_uniqueid")
    except call_ids.BadCallId as exc:
        if unique_id:
            logger.warning("%s: the call gets an id of its own", exc)
        return f"agi-{uuid.uuid4().hex}"


def run_call(
    line: AgiLine,
    parts: Parts,
    channel: str = "agi",
    render_text: Renderer | None = None,
) -> CallSession:
    """Answer the channel and run one call to its end; returns the finished session.
    ``render_text`` speaks free-text values (see ``ivr.audio.values``); by default the
    parts render them into the flow's prompts folder."""
    env = line.env
    call = CallStart(
        call_id=call_id(env.call_id),
        ani=env.caller_id,
        dnid=env.dnid,
        started_at=parts.clock.now().timestamp(),
    )
    driver = AgiDriver(line, call.call_id)
    driver.recordings = parts.recordings_dir
    return call_loop.run_call(driver, parts, call, channel, render_text)
