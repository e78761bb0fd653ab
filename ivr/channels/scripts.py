"""The AGI scripts the dialplan runs, by name: FastAGI routes on the URL's path
(``agi://host:4573/callback?id=7``), the per-call script on its first argument
(``AGI(/path/hotline.agi,callback,id=7)``).

- ``hotline``: a call to the hotline (``ivr.channels.agi.run_call``).
- ``answered?entry=N``: Dial's ``U()`` gosub on the agent's channel, run when the agent
  picks up: the entry is connected (its talk time starts now).
- ``callback?id=N``: the channel of a callback call file, answered by the customer: greet
  them, say why we call and their reference code (re-derived from the stored salt, so it
  is the code they were given), then ring the agent the callback was offered to; if that
  agent does not answer, hold like a live caller.
- ``callback-failed?id=N&reason=R``: the call file's ``failed`` extension: the attempt did
  not reach the customer; ``ContactCenter.callback_failed`` retries later or gives up.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ivr.audio.speech import speaker
from ivr.calls import hold
from ivr.channels import waiting
from ivr.channels.agi import AgiLine, HangupDetected, _Driver, run_call
from ivr.channels.agi_protocol import AgiEnvironment, AgiError

if TYPE_CHECKING:
    from ivr.bootstrap import Hotline

logger = logging.getLogger(__name__)

HOTLINE, ANSWERED, CALLBACK, CALLBACK_FAILED = "hotline", "answered", "callback", "callback-failed"
SCRIPTS = frozenset({HOTLINE, ANSWERED, CALLBACK, CALLBACK_FAILED})


def request(env: AgiEnvironment) -> tuple[str, dict[str, str]]:
    """The script's name and arguments: FastAGI's path and query string, or the per-call
    script's arguments (``callback``, ``id=7``); a per-call script without a script name
    as its first argument is the hotline."""
    if env.network:
        return env.script, env.script_args
    args = env.args
    if not args or args[0] not in SCRIPTS:
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
        answered(hotline, _number(args, "entry"))
    elif name == CALLBACK:
        callback_call(line, hotline, _number(args, "id"))
    elif name == CALLBACK_FAILED:
        callback_failed(hotline, _number(args, "id"), args.get("reason", "") or "failed")
    else:
        return False
    return True


def answered(hotline: Hotline, entry_id: int) -> None:
    logger.info("entry %d: the agent answered", entry_id)
    hotline.contact_center.connected(entry_id)


def callback_failed(hotline: Hotline, callback_id: int, reason: str) -> None:
    kept = hotline.contact_center.callback_failed(callback_id, f"call file: {reason}")
    logger.warning("callback %d: the attempt failed (%s); now %s", callback_id, reason, kept.state)


def callback_call(line: AgiLine, hotline: Hotline, callback_id: int) -> None:
    center = hotline.contact_center
    driver = _Driver(line, f"callback-{callback_id}")
    flow = hotline.flow
    driver.speak = speaker(flow.catalog, hotline.text_renderer(flow))
    found = center.callback(callback_id)
    if found is None:
        logger.error("callback %d: no such callback", callback_id)
        return
    prompt = waiting.prompter(flow.catalog.text, found.language)
    policy = hold.Policy(hold.NEVER)
    wait = waiting.Wait(driver, center, prompt, policy, found.number, stopping=hotline.stopping)
    try:
        try:
            center.callback_answered(callback_id)
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
        driver.set("OUTCOME", outcome or waiting.FALLBACK)
        driver.hang_up()
    except HangupDetected as left:
        logger.info("callback %d: the customer hung up (%s)", callback_id, left.reason)
        wait.left(found.entry_id)
    except AgiError as exc:
        logger.error("callback %d: %s", callback_id, exc)
        wait.left(found.entry_id)


def _number(args: dict[str, str], name: str) -> int:
    value = args.get(name, "")
    if not value.isdigit():
        raise AgiError(f"the script needs {name}=<number>", value)
    return int(value)
