"""Asterisk as a ``Channel`` (``ivr.phone.channel``): the FastAGI server, when the process
listens for Asterisk, and call files for callbacks. No web routes, no SMS."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.errors import IvrError
from ivr.phone.asterisk import call_files
from ivr.phone.asterisk.call_files import CallbackSettings, OriginateError

if TYPE_CHECKING:
    from flask import Blueprint

    from ivr.phone.asterisk.fastagi import FastAgiServer
    from ivr.phone.asterisk.fastagi_limits import FastAgiLimits
    from ivr.phone.channel import Parts, Server, SmsSender
    from ivr.services.contact_callbacks import Callback

logger = logging.getLogger(__name__)


class CallFileDialer:
    """Dials a callback by writing its call file into Asterisk's outgoing spool
    (``ivr.phone.asterisk.call_files``); what names the attempt is the file's path."""

    #: How the dispatcher's log lines and a failed attempt's reason name this dialer.
    failure = "no call file"
    calling = "calling back"

    def __init__(self, settings: CallbackSettings) -> None:
        self.settings = settings

    def call_back(self, callback: Callback, ring_seconds: int) -> str:
        """Write the attempt's call file; any failure is an ``OriginateError``."""
        settings = replace(self.settings, ring_seconds=ring_seconds)
        try:
            path = call_files.originate(settings, callback.id, callback.attempts, callback.number)
        except IvrError:
            raise
        except Exception as exc:  # a spool that cannot be written: a failed attempt too
            raise OriginateError(str(exc)) from exc
        return str(path)

    @staticmethod
    def shown(placed: str) -> str:
        """What the log line names: the call file's name."""
        return Path(placed).name


class FastAgiListener:
    """The FastAGI server as the process runner runs it (a ``Server``), saying what
    ``ivr fastagi`` always said: where it listens, the calls it waits for, that it stopped.
    ``server``: the FastAGI server itself."""

    def __init__(self, server: FastAgiServer) -> None:
        self.server = server
        logger.warning("FastAGI listening on %s:%d", *server.address)

    @property
    def address(self) -> tuple[str, int]:
        return self.server.address

    def serve_forever(self, poll_interval: float = 0.2) -> None:
        self.server.serve_forever(poll_interval)

    def shutdown(self) -> None:
        """No new calls; callers on hold go to the dialplan's safe route."""
        logger.warning("FastAGI: no new calls; waiting for %d in progress", self.server.calls)
        self.server.shutdown()

    def server_close(self) -> None:
        """Close the listener; wait for the calls in progress."""
        self.server.server_close()
        logger.warning("FastAGI stopped")


class AsteriskChannel:
    """Asterisk: ``fastagi`` is where the FastAGI server listens (None: no server in this
    process, e.g. ``ivr serve --no-fastagi``); ``callbacks``: the call files' settings;
    ``limits``: the FastAGI server's caps."""

    name = "asterisk"

    def __init__(
        self,
        parts: Parts,
        fastagi: tuple[str, int] | None,
        callbacks: CallbackSettings,
        limits: FastAgiLimits,
    ) -> None:
        self.parts = parts
        self.fastagi = fastagi
        self.callbacks = callbacks
        self.limits = limits

    def servers(self) -> Sequence[Server]:
        """The FastAGI server, listening from now on (the runner asks once)."""
        if self.fastagi is None:
            return []
        from ivr.phone.asterisk.fastagi import FastAgiServer  # only a listening process

        on_loop = self.parts.calls_on_loop
        return [FastAgiListener(FastAgiServer(self.fastagi, self.parts, self.limits, on_loop))]

    def blueprint(self) -> Blueprint | None:
        return None

    def dialer(self) -> CallFileDialer:
        return CallFileDialer(self.callbacks)

    def sms(self) -> SmsSender | None:
        return None
