"""Calling a customer back: Asterisk call files in its outgoing spool (``pbx_spool``).

Asterisk reads a call file as soon as it appears in ``outgoing/``, so a file must appear
whole: it is written to a temporary file in the spool's parent folder (the same file
system) and renamed into ``outgoing/``. One file per attempt (``ivr-callback-<id>-<n>``);
an attempt whose file is still spooled is refused, and earlier attempts' files still
spooled are removed (each was counted failed: Asterisk was down, say; it must not ring the
customer for them once it is back). That one request is dialled once at a
time is the queue's claim (``due_callbacks``: ``waiting -> dialing``), not the file's.
Asterisk itself never retries (``MaxRetries: 0``): retries are the queue's
(``ContactCenter.callback_failed`` and ``not_before``). The claim is leased for
``WaitTime`` (``ring_seconds``) plus the agent's ring timeout and a margin: should neither
the answer nor the ``failed`` report come by then (the file was lost, Asterisk was down,
the controller died), the reaper counts the attempt failed.

The channel dials ``IVR_CALLBACK_DIAL`` (``PJSIP/{number}@hotline-callbacks``: the
trunk endpoint of ``pjsip.conf``); when the customer answers it runs ``[hotline-callback]``
``s`` with ``IVR_CALLBACK=<id>`` (FastAGI ``callback?id=<id>``); when the call cannot be
made or is not answered, the ``failed`` extension (FastAGI ``callback-failed``).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ivr.errors import IvrError

CONTEXT = "hotline-callback"
DEFAULT_SPOOL = Path("/var/spool/asterisk/outgoing")
DEFAULT_DIAL = "PJSIP/{number}@hotline-callbacks"
#: Digits with an optional leading + (what the callback dialogue accepts).
NUMBER = re.compile(r"\+?[0-9]{3,15}")


class OriginateError(IvrError):
    """A call file that could not (or must not) be written."""


@dataclass(frozen=True)
class CallbackSettings:
    """``IVR_ASTERISK_SPOOL`` (Asterisk's outgoing spool folder), ``IVR_CALLBACK_DIAL``
    (the channel, ``{number}`` replaced), ``IVR_CALLBACK_CALLER_ID``, and how long the
    customer's phone rings (``IVR_CALLBACK_RING_SECONDS``, 30)."""

    spool: Path = DEFAULT_SPOOL
    dial: str = DEFAULT_DIAL
    caller_id: str = '"Wallet hotline" <100>'
    ring_seconds: int = 30

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CallbackSettings:
        env = os.environ if env is None else env
        return cls(
            spool=Path(env.get("IVR_ASTERISK_SPOOL") or DEFAULT_SPOOL),
            dial=env.get("IVR_CALLBACK_DIAL") or DEFAULT_DIAL,
            caller_id=env.get("IVR_CALLBACK_CALLER_ID") or cls.caller_id,
            ring_seconds=int(env.get("IVR_CALLBACK_RING_SECONDS") or cls.ring_seconds),
        )


def call_file(settings: CallbackSettings, callback_id: int, number: str) -> str:
    """The call file's text (pure)."""
    if NUMBER.fullmatch(number) is None:
        raise OriginateError(f"callback {callback_id}: {number!r} is not a number to dial")
    channel = settings.dial.replace("{number}", number)
    lines = {
        "Channel": channel,
        "CallerID": settings.caller_id,
        "MaxRetries": "0",
        "RetryTime": "60",
        "WaitTime": str(settings.ring_seconds),
        "Context": CONTEXT,
        "Extension": "s",
        "Priority": "1",
        "Setvar": f"IVR_CALLBACK={callback_id}",
        "Archive": "no",
    }
    for value in lines.values():
        if any(bad in value for bad in "\r\n\0"):
            raise OriginateError(f"callback {callback_id}: a setting holds a line break")
    return "".join(f"{key}: {value}\n" for key, value in lines.items())


def file_name(callback_id: int, attempt: int) -> str:
    return f"ivr-callback-{callback_id}-{attempt}.call"


def originate(settings: CallbackSettings, callback_id: int, attempt: int, number: str) -> Path:
    """Write the call file into the spool, atomically; its path."""
    text = call_file(settings, callback_id, number)
    spool = settings.spool
    if not spool.is_dir():
        raise OriginateError(f"no Asterisk spool folder {spool} (set IVR_ASTERISK_SPOOL)")
    target = spool / file_name(callback_id, attempt)
    if target.exists():
        raise OriginateError(f"callback {callback_id}: attempt {attempt} is already spooled")
    for earlier in range(1, attempt):  # counted failed already (e.g. Asterisk was down)
        (spool / file_name(callback_id, earlier)).unlink(missing_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=".ivr-callback-", suffix=".tmp", dir=spool.parent)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.chmod(scratch, 0o644)
        # A rename is what pbx_spool watches for (inotify IN_MOVED_TO): the file is whole.
        os.replace(scratch, target)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return target
