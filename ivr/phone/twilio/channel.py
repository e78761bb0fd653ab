"""Twilio as a ``Channel`` (``ivr.phone.channel``): its webhooks (web routes the web server
mounts), callbacks as Twilio calls and SMS through the REST API, when an account is
configured. No listener of its own: Twilio calls the web server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ivr.phone.twilio.rest import TwilioNotConfigured

if TYPE_CHECKING:
    from flask import Blueprint

    from ivr.phone.channel import Server, SmsSender
    from ivr.phone.twilio.rest import TwilioRest
    from ivr.services.contact_ports import Callback


class TwilioDialer:
    """Dials a callback with ``calls.create``; what names the attempt is the call's SID.
    An API error is a ``CallNotPlaced`` (a failed attempt)."""

    #: How the dispatcher's log lines and a failed attempt's reason name this dialer.
    failure = "no Twilio call"
    calling = "calling back through Twilio"

    def __init__(self, rest: TwilioRest) -> None:
        self.rest = rest

    def call_back(self, callback: Callback, ring_seconds: int) -> str:
        return self.rest.call_back(callback.id, callback.number, ring_seconds)


class TwilioChannel:
    """Twilio: ``rest`` is the configured account's REST client (None: no account, so no
    callbacks or SMS through Twilio; the webhooks are served all the same, and refuse
    unsigned requests)."""

    name = "twilio"

    def __init__(self, rest: TwilioRest | None) -> None:
        self.rest = rest

    def servers(self) -> Sequence[Server]:
        return []

    def blueprint(self) -> Blueprint:
        from ivr.phone.twilio.webhooks import bp  # only a process with a web server

        return bp

    def dialer(self) -> TwilioDialer:
        """Raises ``TwilioNotConfigured`` without an account: callbacks were asked of
        Twilio (``IVR_CALLBACKS_VIA=twilio``) but cannot be placed."""
        if self.rest is None:
            raise TwilioNotConfigured(
                "IVR_CALLBACKS_VIA=twilio needs IVR_TWILIO_ACCOUNT_SID, "
                "IVR_TWILIO_AUTH_TOKEN and IVR_TWILIO_FROM"
            )
        return TwilioDialer(self.rest)

    def sms(self) -> SmsSender | None:
        return self.rest.send_sms if self.rest is not None else None
