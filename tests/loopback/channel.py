"""The loopback phone as a ``Channel`` (``ivr.phone.channel``): its server, callbacks and
text messages into lists the tests read, no web routes. The composition root adds it with
one line: ``[*phone_channels(components), LoopbackChannel(components, settings)]``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from loopback.dialer import LoopbackDialer, LoopbackTexts, Rung
from loopback.server import LoopbackServer
from loopback.settings import LoopbackSettings

if TYPE_CHECKING:
    from flask import Blueprint

    from ivr.phone.channel import Parts, Server
    from ivr.services.contact_ports import Callback


class LoopbackChannel:
    """The loopback phone for ``parts``; ``settings``: where it listens (by default from
    the environment). ``callbacks`` and ``texts``: what its dialer and SMS sender placed."""

    name = "loopback"

    def __init__(self, parts: Parts, settings: LoopbackSettings | None = None) -> None:
        self.parts = parts
        self.settings = settings or LoopbackSettings.from_env()
        self.callbacks: Rung[Callback] = Rung()
        self.texts: Rung[tuple[str, str]] = Rung()
        self.made: list[LoopbackServer] = []

    def servers(self) -> Sequence[Server]:
        """Its server, listening from now on (the runner asks once)."""
        if self.settings.port is None:
            return []
        address = (self.settings.host, self.settings.port)
        self.made.append(LoopbackServer(address, self.parts, self.name))
        return self.made

    def blueprint(self) -> Blueprint | None:
        return None

    def dialer(self) -> LoopbackDialer:
        return LoopbackDialer(self.callbacks)

    def sms(self) -> LoopbackTexts:
        return LoopbackTexts(self.texts)
