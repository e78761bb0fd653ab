"""Twilio's outbound side for the composition root: the callback ``Dialer`` and the
``SmsSender`` (``ivr.phone.channel``), both over one ``TwilioRest`` client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ivr.phone.twilio.rest import TwilioRest

if TYPE_CHECKING:
    from ivr.phone.channel import SmsSender
    from ivr.services.contact_callbacks import Callback


@dataclass(frozen=True)
class TwilioDialer:
    """Rings a customer back with ``calls.create``; answered by ``/twilio/voice?callback``."""

    rest: TwilioRest
    #: How the dispatcher's log lines and a failed attempt's reason name this dialer.
    failure = "no Twilio call"
    calling = "calling back through Twilio"

    def call_back(self, callback: Callback, ring_seconds: int) -> str:
        """The call's SID. Raises ``CallNotPlaced`` (Twilio refused or is unreachable) or
        ``TwilioNotConfigured`` (no ``IVR_PUBLIC_URL``), both ``IvrError``."""
        return self.rest.call_back(callback.id, callback.number, ring_seconds)

    def shown(self, placed: str) -> str:
        return placed


def sms_sender(rest: TwilioRest) -> SmsSender:
    """Sends one SMS through the account; its SID. Raises ``SmsNotSent``."""
    return rest.send_sms
