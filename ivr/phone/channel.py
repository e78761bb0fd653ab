"""What a phone system is to the rest of the hotline: one small interface.

Each phone system lives in one folder under ``ivr/phone/`` (``asterisk/``, ``twilio/``)
and offers one ``Channel``. The composition root (``ivr.app``) builds one per phone system
it serves, one line each, and asks it for the only four things a process runner needs:

- ``servers()``: listeners the process runs (Asterisk: the FastAGI server);
- ``blueprint()``: web routes the web server mounts (Twilio: its webhooks);
- ``dialer()``: how a callback is dialled on this phone system (call files, Twilio REST);
- ``sms()``: how a text message is sent, if this phone system can.

A driver gets what it needs of the hotline through ``Parts`` (the composition root's
object satisfies it), never by importing ``ivr.app``, ``ivr.store`` or ``ivr.web``:
the layers point one way (``docs/architecture.md``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    from flask import Blueprint

    from ivr.audio.values import Renderer
    from ivr.flow.model import Flow
    from ivr.flow.state import CallStart
    from ivr.phone.session import CallSession
    from ivr.services import ports
    from ivr.services.call_records import CallRecorder
    from ivr.services.contact_callbacks import Callback
    from ivr.services.contact_center import ContactCenter


class Parts(Protocol):
    """What a phone driver may use of the process it runs in."""

    @property
    def clock(self) -> ports.Clock: ...

    @property
    def stopping(self) -> threading.Event:
        """Set when the process stops taking calls: callers on hold go to a safe route."""
        ...

    @property
    def flow(self) -> Flow:
        """The flow new calls are served from (reloaded when the file changes)."""
        ...

    @property
    def contact_center(self) -> ContactCenter: ...

    @property
    def callback_offer_after(self) -> float:
        """Seconds of estimated wait from which a caller on hold is offered a callback
        (``IVR_CALLBACK_OFFER_AFTER``; read as each caller joins the queue)."""
        ...

    @property
    def recorder(self) -> CallRecorder: ...

    @property
    def calls_on_loop(self) -> bool:
        """FastAGI calls on one event loop, a greenlet each (else a thread each)."""
        ...

    def call_loop_ended(self) -> None:
        """The loop's calls are over: release what they used there (run on the loop)."""

    def session(self, call: CallStart, channel: str, holds: bool = False) -> CallSession:
        """A new call on the current flow; ``holds``: the driver holds queued callers and
        closes the call's record when they leave."""
        ...

    @property
    def recordings_dir(self) -> Path:
        """Where drivers keep callers' recordings (``IVR_RECORDINGS_DIR``)."""
        ...

    def text_renderer(self, flow: Flow) -> Renderer:
        """Speaks free-text values (a merchant's name) for calls on ``flow``."""
        ...


class Server(Protocol):
    """A listener the process runner runs in a thread of its own."""

    @property
    def address(self) -> tuple[str, int]: ...

    def serve_forever(self, poll_interval: float = 0.2) -> None: ...

    def shutdown(self) -> None:
        """Stop taking new work (from another thread); ``serve_forever`` then returns.
        The runner has set ``Parts.stopping`` already: callers on hold are being handed
        back to their safe route."""
        ...

    def server_close(self) -> None:
        """Close the listener and wait for the work in progress."""
        ...


class Dialer(Protocol):
    """Rings a customer back for a callback offered to an agent. The phone system then
    reports how the attempt ended: ``ContactCenter.callback_answered`` when the customer
    picks up, ``callback_failed`` when the call does not reach them; an attempt nobody
    reports lapses with its lease, and the reaper counts it failed."""

    #: How a failed attempt's reason and the log name this dialer ("no call file").
    failure: str
    #: How the log line of a placed attempt says it ("calling back through Twilio").
    calling: str

    def call_back(self, callback: Callback, ring_seconds: int) -> str:
        """Place the call; what names it (a call file's path, a call SID). Raises
        ``IvrError`` when it cannot be placed (a failed attempt)."""
        ...

    def shown(self, placed: str) -> str:
        """What the log names of ``placed`` (a call file's name, the SID)."""
        ...


class SmsSender(Protocol):
    def __call__(self, to: str, body: str) -> str:
        """Send one message; its id. Raises ``ivr.services.outbox.SmsNotSent``."""
        ...


class Channel(Protocol):
    """One phone system, as the composition root and the process runner see it."""

    #: The phone system's name: what ``IVR_CALLBACKS_VIA`` says to dial callbacks on it.
    name: str

    def servers(self) -> Sequence[Server]: ...

    def blueprint(self) -> Blueprint | None: ...

    def dialer(self) -> Dialer | None: ...

    def sms(self) -> SmsSender | None: ...
