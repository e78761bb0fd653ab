"""The AGI scripts the dialplan runs, by name: FastAGI routes on the URL's path
(``agi://host:4573/callback?id=7``), the per-call script on its first argument
(``AGI(/path/hotline.agi,callback,id=7)``).

- ``hotline``: a call to the hotline (``ivr.phone.asterisk.agi.run_call``).
- ``answered?entry=N``: Dial's ``U()`` gosub on the agent's channel, run when the agent
  picks up: the entry is connected (its talk time starts now).
- ``callback?id=N``: the channel of a callback call file, answered by the customer: greet
  them, say why we call and their reference code (re-derived from the stored salt, so it
  is the code they were given), then ring the agent the callback was offered to; if that
  agent does not answer, hold like a live caller (renewing the entry's lease). The call
  leaves a record (``ivr.phone.callback_record``): opened as the customer answers,
  closed ``agent``, ``abandoned`` or ``fallback``.
- ``callback-failed?id=N&reason=R``: the call file's ``failed`` extension: the attempt did
  not reach the customer; ``ContactCenter.callback_failed`` retries later or gives up.

A number that is not one (``id=abc``, ``id=`` followed by 30 digits) or names nothing
(no such callback) raises ``BadRequest`` before anything is said on the line.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from ivr.audio.speech import speaker
from ivr.center import hold
from ivr.errors import IvrError
from ivr.phone import callback_record
from ivr.phone.asterisk import waiting
from ivr.phone.asterisk.agi import AgiLine, HangupDetected, _call_id, _Driver, run_call
from ivr.phone.asterisk.agi_protocol import AgiEnvironment, AgiError, shown

if TYPE_CHECKING:
    from ivr.app.bootstrap import Hotline

logger = logging.getLogger(__name__)

HOTLINE, ANSWERED, CALLBACK, CALLBACK_FAILED = "hotline", "answered", "callback", "callback-failed"
SCRIPTS = frozenset({HOTLINE, ANSWERED, CALLBACK, CALLBACK_FAILED})
#: The largest id a table holds (PostgreSQL's BIGINT, SQLite's INTEGER).
MAX_ID = 2**63 - 1


class BadRequest(IvrError):
    """The dialplan asked for a script with arguments it does not take."""


def request(env: AgiEnvironment) -> tuple[str, dict[str, str]]:
    """The script's name and arguments: FastAGI's path and query string, or the per-call
    script's arguments (``callback``, ``id=7``); a per-call script without arguments is
    the hotline."""
    if env.network:
        return env.script, env.script_args
    args = env.args
    if not args:
        return HOTLINE, {}
    pairs = dict(arg.split("=", 1) for arg in args[1:] if "=" in arg)
    return args[0], pairs


def run_script(line: AgiLine, hotline: Hotline, channel: str) -> bool:
    """Run the script the line asks for; False when there is no such script (nothing is
    set, so the dialplan takes its safe route)."""
    name, args = request(line.env)
    if name == HOTLINE:
        run_call(line, hotline, channel)
    elif name == ANSWERED:
        answered(hotline, _number(name, args, "entry"))
    elif name == CALLBACK:
        callback_call(line, hotline, _number(name, args, "id"), channel)
    elif name == CALLBACK_FAILED:
        reason = args.get("reason", "") or "failed"
        callback_failed(hotline, _number(name, args, "id"), reason)
    else:
        return False
    return True


def answered(hotline: Hotline, entry_id: int) -> None:
    logger.info("entry %d: the agent answered", entry_id)
    hotline.contact_center.connected(entry_id)


def callback_failed(hotline: Hotline, callback_id: int, reason: str) -> None:
    kept = hotline.contact_center.callback_failed(callback_id, f"call file: {reason}")
    logger.warning("callback %d: the attempt failed (%s); now %s", callback_id, reason, kept.state)


def callback_call(line: AgiLine, hotline: Hotline, callback_id: int, channel: str = "agi") -> None:
    center = hotline.contact_center
    found = center.callback(callback_id)
    if found is None:
        raise BadRequest(f"callback {callback_id}: no such callback")
    call_id = _call_id(line.env.call_id)
    record = callback_record.opened(found, call_id, channel, hotline.clock.now())
    hotline.recorder.keep(record)
    driver = _Driver(line, call_id)
    flow = hotline.flow
    driver.speak = speaker(flow.catalog, hotline.text_renderer(flow))
    prompt = waiting.prompter(flow.catalog.text, found.language)
    policy = hold.policy_for(hold.NEVER, 0.0, None)  # a callback call: no queue policy
    wait = waiting.Wait(driver, center, prompt, policy, found.number, stopping=hotline.stopping)
    ended = callback_record.FALLBACK
    try:
        try:
            center.callback_answered(callback_id, call_id)
            code = center.callback_code(callback_id)
        except Exception:
            logger.exception("callback %d: the queue failed on answer", callback_id)
            driver.play(prompt("system_error"))
            driver.hang_up()
            return
        known = flow.catalog.__contains__
        for said in waiting.callback_greeting(prompt, known, found.reason, code):
            driver.play(said)
        outcome = wait.run(found.entry_id)
        ended = _ended(outcome)
        driver.set("OUTCOME", outcome or waiting.FALLBACK)
        driver.hang_up()
    except HangupDetected as left:
        logger.info("callback %d: the customer hung up (%s)", callback_id, left.reason)
        if ended != callback_record.AGENT:
            ended = callback_record.ABANDONED
        wait.left(found.entry_id)
    except AgiError as exc:
        logger.error("callback %d: %s", callback_id, exc)
        wait.left(found.entry_id)
    finally:
        hotline.recorder.keep(callback_record.closed(record, ended, hotline.clock.now()))


def _ended(outcome: str) -> str:
    """The record's outcome for what the wait returned."""
    if outcome == waiting.AGENT:
        return callback_record.AGENT
    if outcome == waiting.NO_AGENTS:  # told to call later, the entry left the line
        return callback_record.ABANDONED
    return callback_record.FALLBACK


def _number(script: str, args: dict[str, str], name: str) -> int:
    value = args.get(name, "")
    if not re.fullmatch(r"[0-9]+", value):
        raise BadRequest(f"{script} needs {name}=<number>, not {shown(value)}")
    if len(value) > 19 or int(value) > MAX_ID:
        raise BadRequest(f"{script} needs {name}=<number>: {shown(value)} is out of range")
    return int(value)
