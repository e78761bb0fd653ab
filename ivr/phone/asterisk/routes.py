"""The AGI scripts the dialplan runs, by name: FastAGI routes on the URL's path
(``agi://host:4573/callback?id=7``), the per-call script on its first argument
(``AGI(/path/hotline.agi,callback,id=7)``).

- ``hotline``: a call to the hotline (``ivr.phone.asterisk.agi_call.run_call``).
- ``answered?entry=N``: Dial's ``U()`` gosub on the agent's channel, run when the agent
  picks up: the entry is connected (its talk time starts now).
- ``callback?id=N``: the channel of a callback call file, answered by the customer
  (``ivr.phone.callback_call``: greeted, then the agent rung, else held).
- ``callback-failed?id=N&reason=R``: the call file's ``failed`` extension: the attempt did
  not reach the customer; ``ContactCenter.callback_failed`` retries later or gives up.

A number that is not one (``id=abc``, ``id=`` followed by 30 digits) or names nothing
(no such callback) raises ``BadRequest`` before anything is said on the line.

The scripts are one table, ``ROUTES``, built as panoramisk's ``Application.add_route``
builds its own: FastAGI and the per-call script both run a request through it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ivr.errors import IvrError
from ivr.phone.asterisk.agi_call import call_id, run_call
from ivr.phone.asterisk.agi_driver import AgiDriver
from ivr.phone.asterisk.agi_line import AgiLine
from ivr.phone.asterisk.agi_protocol import AgiEnvironment, shown
from ivr.phone.callback_call import serve_callback
from ivr.services import call_ids
from ivr.services.call_context import handling

if TYPE_CHECKING:
    from ivr.phone.channel import Parts

logger = logging.getLogger(__name__)

HOTLINE, ANSWERED, CALLBACK, CALLBACK_FAILED = "hotline", "answered", "callback", "callback-failed"
#: The largest id a table holds (PostgreSQL's BIGINT, SQLite's INTEGER).
MAX_ID = 2**63 - 1

#: ``endpoint(line, parts, arguments, channel)``: one script, run to its end.
Endpoint = Callable[[AgiLine, "Parts", dict[str, str], str], None]


class BadRequest(IvrError):
    """The dialplan asked for a script with arguments it does not take."""


class Routes:
    """The AGI scripts by name (``add_route``), and how a request picks one (``run``)."""

    def __init__(self) -> None:
        self._endpoints: dict[str, Endpoint] = {}

    def add_route(self, path: str, endpoint: Endpoint) -> None:
        if path in self._endpoints:
            raise ValueError(f"the AGI script {path!r} has a route already")
        self._endpoints[path] = endpoint

    def __contains__(self, path: object) -> bool:
        return path in self._endpoints

    def __iter__(self) -> Iterator[str]:
        return iter(self._endpoints)

    def run(self, line: AgiLine, parts: Parts, channel: str) -> bool:
        """Run the script the line asks for; False when there is no such script (nothing
        is set, so the dialplan takes its safe route)."""
        name, args = request(line.env)
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            return False
        with handling(_logged_id(line.env.call_id)):  # the call loop sets its own, the same
            endpoint(line, parts, args, channel)
        return True


def _logged_id(unique_id: str) -> str | None:
    """Asterisk's call id for the log lines, if it is one the hotline would store."""
    try:
        return call_ids.checked(unique_id)
    except call_ids.BadCallId:
        return None


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


def hotline(line: AgiLine, parts: Parts, args: dict[str, str], channel: str) -> None:
    run_call(line, parts, channel)


def answered(line: AgiLine, parts: Parts, args: dict[str, str], channel: str) -> None:
    entry_id = _number(ANSWERED, args, "entry")
    logger.info("entry %d: the agent answered", entry_id)
    parts.contact_center.connected(entry_id)


def callback(line: AgiLine, parts: Parts, args: dict[str, str], channel: str) -> None:
    callback_id = _number(CALLBACK, args, "id")
    found = parts.contact_center.callback(callback_id)
    if found is None:
        raise BadRequest(f"callback {callback_id}: no such callback")
    the_call = call_id(line.env.call_id)
    serve_callback(AgiDriver(line, the_call), parts, found, the_call, channel)


def callback_failed(line: AgiLine, parts: Parts, args: dict[str, str], channel: str) -> None:
    callback_id = _number(CALLBACK_FAILED, args, "id")
    reason = args.get("reason", "") or "failed"
    kept = parts.contact_center.callback_failed(callback_id, f"call file: {reason}")
    logger.warning("callback %d: the attempt failed (%s); now %s", callback_id, reason, kept.state)


def _number(script: str, args: dict[str, str], name: str) -> int:
    value = args.get(name, "")
    if not re.fullmatch(r"[0-9]+", value):
        raise BadRequest(f"{script} needs {name}=<number>, not {shown(value)}")
    if len(value) > 19 or int(value) > MAX_ID:
        raise BadRequest(f"{script} needs {name}=<number>: {shown(value)} is out of range")
    return int(value)


ROUTES = Routes()
ROUTES.add_route(HOTLINE, hotline)
ROUTES.add_route(ANSWERED, answered)
ROUTES.add_route(CALLBACK, callback)
ROUTES.add_route(CALLBACK_FAILED, callback_failed)
#: The scripts' names.
SCRIPTS = frozenset(ROUTES)


def run_script(line: AgiLine, parts: Parts, channel: str) -> bool:
    """``ROUTES.run``: run the script the line asks for; False when there is none."""
    return ROUTES.run(line, parts, channel)
